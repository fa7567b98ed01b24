"""Helpers for driving the reading room in-process: the test password, reading the CSRF token
from a page, logging in, and a logged-in client that sends its token with every form."""

from __future__ import annotations

import re
from typing import Any

import httpx

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf-token" content="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "page has no CSRF token"
    return found.group(1)


class Browser:
    """A logged-in client that knows its CSRF token."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.token = token

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(url, **kwargs)

    async def post(self, url: str, data: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
        return await self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kw)


async def login(client: httpx.AsyncClient, password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"csrf_token": csrf_of(page.text), "username": "admin", "password": password},
    )

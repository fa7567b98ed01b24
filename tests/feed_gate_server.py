"""Feeds that demand something of the request (a browser's user agent, Basic credentials, a
cookie, a header…), served by the tests' loopback server (``routes_server``), whose answers
may be functions of the request's headers."""

from __future__ import annotations

import base64
from collections.abc import Callable

from routes_server import Answer as Reply
from routes_server import RoutesServer as GateServer
from routes_server import Rule

__all__ = ["GateServer", "Reply", "basic", "demands"]


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def demands(wanted: Callable[[dict[str, str]], bool], body: bytes, refusal: int = 403) -> Rule:
    """The feed ``body`` when ``wanted(headers)``, else ``refusal`` (401 asks for Basic)."""

    def rule(headers: dict[str, str]) -> Reply:
        if wanted(headers):
            return Reply(body)
        extra = {"WWW-Authenticate": 'Basic realm="feed"'} if refusal == 401 else {}
        return Reply(b"no", refusal, "text/plain", extra)

    return rule

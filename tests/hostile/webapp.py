"""The reading room for the hostile suite: a Desk on a fresh SQLite file (no feeds, so no
refresh), the reading room's user made once per session (argon2 is slow on purpose), the web
app, and in-process clients that can claim any client address."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from newsdesk.desk import Desk
from newsdesk.settings import Settings, load_settings
from newsdesk.web.app import create_app

USERNAME = "admin"
PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf-token" content="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "page has no CSRF token"
    return found.group(1)


def settings_for(db: Path, **overrides: Any) -> Settings:
    return load_settings(
        env={},
        database_url=f"sqlite:///{db}",
        fulltext=False,
        stories=False,
        entities=False,
        **overrides,
    )


def make_user_db(folder: Path) -> Path:
    """A database whose user is ``admin`` with ``PASSWORD``: copy it for each test."""
    db = folder / "newsdesk.db"
    desk = Desk(settings_for(db))
    try:
        desk.store.users.set_password(USERNAME, PASSWORD)
    finally:
        desk.close()
    return db


def copy_db(template: Path, target: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        source = template.with_name(template.name + suffix)
        if source.exists():
            shutil.copy(source, target / (template.name + suffix))
    return target / template.name


def app_for(desk: Desk, *, no_auth: bool = False) -> Starlette:
    return create_app(desk.settings, desk=desk, no_auth=no_auth)


def client(
    app: Starlette, address: str = "127.0.0.1", base: str = "http://localhost"
) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=base)

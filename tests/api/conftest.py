"""Fixtures for the API tests: a database with the seed sample refreshed into it (built once per
session, copied per test), the reading room's user, an API key, and the whole web app
(``create_app``) driven in-process through httpx's ASGI transport."""

from __future__ import annotations

import base64
import hashlib
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from newsdesk.demo import SEED_CATEGORIES, SEED_DIR, SEED_FEEDS
from newsdesk.demo.server import SampleServer
from newsdesk.desk import Desk
from newsdesk.settings import Settings, load_settings
from newsdesk.store.server_key import server_key

USERNAME = "admin"
PASSWORD = "correct horse battery"


@dataclass
class Template:
    folder: Path
    server: SampleServer
    key: str


@dataclass
class ApiEnv:
    client: httpx.AsyncClient
    desk: Desk
    settings: Settings
    key: str
    server: SampleServer

    @property
    def auth(self) -> dict[str, str]:
        return {"X-Auth-Token": self.key}

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    @property
    def basic(self) -> dict[str, str]:
        raw = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        return {"Authorization": f"Basic {raw}"}

    @property
    def fever_key(self) -> str:
        return hashlib.md5(f"{USERNAME}:{PASSWORD}".encode()).hexdigest()


def _settings(db: Path) -> Settings:
    return load_settings(
        env={}, database_url=f"sqlite:///{db}", allow_private_networks=True, fulltext=False
    )


@pytest.fixture(scope="session")
def api_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    folder = tmp_path_factory.mktemp("api-template")
    server = SampleServer(SEED_DIR).start()
    desk = Desk(_settings(folder / "newsdesk.db"))
    try:
        for path in SEED_FEEDS:
            # a category each (clients' folders), as the seed page's user has them
            desk.add_feed(server.base + path, category=SEED_CATEGORIES[path], check=False)
        report = desk.refresh(fulltext=False)
        assert report.new_entries > 0, report.summary
        desk.store.users.set_password(USERNAME, PASSWORD)
        key = server_key(desk.settings)  # made beside the database: newsdesk.db.key
        desk.store.users.set_fever(USERNAME, on=True, password=PASSWORD, server_key=key)
        _, key = desk.store.tokens.create_token("tests")
    finally:
        desk.close()
    yield Template(folder, server, key)
    server.stop()


def copy_database(template: Template, target: Path) -> Path:
    for name in ("newsdesk.db", "newsdesk.db-wal", "newsdesk.db-shm", "newsdesk.db.key"):
        if (template.folder / name).exists():
            shutil.copy(template.folder / name, target / name)
    return target / "newsdesk.db"


@pytest.fixture
async def api_env(api_template: Template, tmp_path: Path) -> AsyncIterator[ApiEnv]:
    from newsdesk.web.app import create_app

    settings = _settings(copy_database(api_template, tmp_path))
    desk = Desk(settings)
    app = create_app(settings, desk=desk)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://newsdesk.test") as client:
        yield ApiEnv(client, desk, settings, api_template.key, api_template.server)
    jobs = app.state.ctx.jobs
    if jobs is not None:
        jobs.wait(timeout=30)
    desk.close()

"""Fixtures for the reading room: a real SQLite file filled from the bundled sample sources
served on loopback, the app, and in-process clients (logged in or not)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import update
from starlette.applications import Starlette

from newsdesk.demo import SEED_DIR, SEED_FEEDS, SOCIAL_DIR, SOCIAL_FEEDS
from newsdesk.demo.server import SampleServer
from newsdesk.desk import Desk
from newsdesk.settings import Settings, load_settings
from newsdesk.store.schema import users
from newsdesk.web.app import create_app
from newsdesk.web.guard import SESSION_COOKIE

from .session import PASSWORD, Browser, csrf_of


@pytest.fixture(scope="session")
def samples() -> Iterator[SampleServer]:
    server = SampleServer(SEED_DIR, SOCIAL_DIR).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory, samples: SampleServer) -> Path:
    """A database subscribed to the sample sources and refreshed once, copied for each test
    (refreshing for every test would make the suite slow)."""
    path = tmp_path_factory.mktemp("template") / "newsdesk.db"
    settings = load_settings(
        env={}, database_url=f"sqlite:///{path}", allow_private_networks=True, fulltext=False
    )
    desk = Desk(settings)
    try:
        for feed_path in (*SEED_FEEDS, *SOCIAL_FEEDS):
            desk.store.add_feed(samples.base + feed_path)
        report = asyncio.run(desk.refresh_async())
        assert report.new_entries > 10 and not report.errors
    finally:
        desk.close()  # the last connection closing folds the WAL into the file
    return path


@pytest.fixture
def blog_server(tmp_path: Path) -> Iterator[SampleServer]:
    """A site whose home page links to its feed (for discovery)."""
    folder = tmp_path / "blog"
    folder.mkdir()
    (folder / "index.html").write_text(
        "<!doctype html><html><head><title>A blog</title>"
        '<link rel="alternate" type="application/rss+xml" title="A blog" href="/blog/feed.xml">'
        "</head><body><p>Hello</p></body></html>"
    )
    (folder / "feed.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>A blog &amp; more</title>'
        "<link>{{BASE}}/blog/</link><description>d</description>"
        "<item><title>First &lt;post&gt;</title><link>{{BASE}}/blog/1</link>"
        "<guid>{{BASE}}/blog/1</guid><pubDate>Mon, 26 Feb 2024 10:00:00 GMT</pubDate>"
        "<description>&lt;p&gt;Blog words about gardens&lt;/p&gt;</description></item>"
        "</channel></rss>"
    )
    (folder / "routes.json").write_text(
        json.dumps(
            {
                "/blog/": {"file": "index.html", "type": "text/html; charset=utf-8"},
                "/blog/feed.xml": {"file": "feed.xml", "type": "application/rss+xml"},
            }
        )
    )
    server = SampleServer(folder).start()
    yield server
    server.stop()


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    return load_settings(
        env={},
        database_url=f"sqlite:///{tmp_path / 'newsdesk.db'}",
        allow_private_networks=True,
        fulltext=False,
        story_river=False,
    )


@pytest.fixture
def desk(web_settings: Settings, template_db: Path, tmp_path: Path) -> Iterator[Desk]:
    """A desk subscribed to the sample sources and refreshed (a copy of the template)."""
    shutil.copyfile(template_db, tmp_path / "newsdesk.db")
    desk = Desk(web_settings)
    yield desk
    desk.close()


@pytest.fixture
def app(desk: Desk, web_settings: Settings) -> Starlette:
    return create_app(web_settings, desk=desk)


def _client(app: Starlette, base: str = "http://localhost") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base)


@pytest.fixture
async def anon(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app) as client:
        yield client


@pytest.fixture
async def user(app: Starlette, desk: Desk, password_hash: str) -> AsyncIterator[Browser]:
    """A client with a session, made directly: argon2 costs a second a test on a busy
    machine, and logging in itself is tested in test_auth.py."""
    with desk.store.engine.begin() as conn:
        conn.execute(
            update(users)  # the desk's first admin, who has no password yet
            .where(users.c.username == "admin")
            .values(password_hash=password_hash)
        )
    account = desk.store.users.get_user()
    assert account is not None
    token = desk.store.users.create_session(account.id, timedelta(days=1))
    async with _client(app) as client:
        client.cookies.set(SESSION_COOKIE, token)
        page = await client.get("/")
        assert page.status_code == 200
        yield Browser(client, csrf_of(page.text))


@pytest.fixture(scope="session")
def password_hash() -> str:
    return PasswordHasher().hash(PASSWORD)

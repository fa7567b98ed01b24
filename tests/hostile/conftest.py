"""Fixtures of the hostile-input suite: loopback servers on distinct loopback addresses.

``public`` listens on 127.0.0.2, which the tests' settings list in ``allowed_networks``: it plays
the part of a public web server while the SSRF guard stays on. ``private`` listens on 127.0.0.1,
which the guard must refuse: every SSRF test ends by asserting it received no request at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from newsdesk.model import StoredEntry
from newsdesk.refresh import refresh_sync
from newsdesk.settings import Settings
from newsdesk.store import EntryQuery, open_store

from .loopback import LoopbackServer
from .payloads import HTML_VECTORS, atom_feed, json_feed, rss_feed

PUBLIC_HOST = "127.0.0.2"


@pytest.fixture
def public() -> Iterator[LoopbackServer]:
    server = LoopbackServer(PUBLIC_HOST).start()
    yield server
    server.stop()


@pytest.fixture
def private() -> Iterator[LoopbackServer]:
    server = LoopbackServer("127.0.0.1").start()
    yield server
    server.stop()


@pytest.fixture
def guarded() -> Settings:
    """The SSRF guard on, with only the ``public`` server's address allowed."""
    return Settings(
        allow_private_networks=False,
        allowed_networks=f"{PUBLIC_HOST}/32",
        fetch_timeout=5.0,
        max_redirects=5,
        fulltext=False,
        expand_links=False,
    )


@pytest.fixture
def open_settings() -> Settings:
    """For transport and feed tests, where the SSRF guard is not the subject."""
    return Settings(
        allow_private_networks=True,
        fetch_timeout=5.0,
        max_redirects=5,
        fulltext=False,
        expand_links=False,
    )


@dataclass
class Hostile:
    db: str
    settings: Settings
    entries: list[StoredEntry]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    server = LoopbackServer().start()
    db = f"sqlite:///{tmp_path_factory.mktemp('xss')}/n.db"
    settings = Settings(
        database_url=db, allow_private_networks=True, fulltext=False, expand_links=False
    )
    store = open_store(db)
    try:
        store.add_feed(server.static("/rss", rss_feed()))
        store.add_feed(server.static("/atom", atom_feed(), content_type="application/atom+xml"))
        store.add_feed(server.static("/json", json_feed(), content_type="application/feed+json"))
        report = refresh_sync(store, settings)
        assert report.errors == [], [o.error for o in report.errors]
        entries = store.list_entries(EntryQuery(limit=10_000))
    finally:
        store.close()
        server.stop()
    assert len(entries) >= 3 * len(HTML_VECTORS)
    yield Hostile(db, settings, entries)

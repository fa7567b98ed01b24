"""Fixtures for the watchlist and alert tests: a store (SQLite, and PostgreSQL when configured)
with feeds, entries and entities written directly through SQLAlchemy Core; a loopback HTTP
receiver that records POSTs (webhook and ntfy), answers with a status the test sets, or holds
the request open; a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import email
import hashlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import insert

from newsdesk.settings import Settings, load_settings
from newsdesk.store import open_store
from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import entities, entity_mentions, entries
from newsdesk.store.sql import SqlStore

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Route:
    status: int = 200
    hold: threading.Event | None = None  # answer only once this is set


class Receiver(ThreadingHTTPServer):
    """Records every POST; answers per path (default 200)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self.arrived = threading.Event()
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path: str, status: int = 200) -> str:
        self.routes[path] = Route(status)
        return self.base + path

    def on(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    def stop(self) -> None:
        for route in self.routes.values():
            if route.hold is not None:
                route.hold.set()
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Receiver

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.hits.append(Hit(self.path, dict(self.headers.items()), body))
        self.server.arrived.set()
        route = self.server.routes.get(self.path, Route(404))
        if route.hold is not None:
            route.hold.wait(30)
        try:
            self.send_response(route.status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        except OSError:
            pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    s = open_store(store_url)
    yield s
    s.close()


def make_settings(store_url: str, smtp_port: int | None = None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"allow_private_networks": True, "alert_timeout": 5.0}
    if smtp_port is not None:
        values.update(
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            smtp_security="none",
            mail_from="desk@example.org",
        )
    values.update(overrides)
    return load_settings(env={}, database_url=store_url, **values)


_counter = iter(range(1, 1_000_000))


def add_entry(
    store: SqlStore,
    feed_id: int,
    title: str,
    text: str = "",
    *,
    first_seen: datetime = T0 + timedelta(minutes=5),
    url: str | None = None,
) -> int:
    n = next(_counter)
    with write_transaction(store.engine) as conn:
        result = conn.execute(
            insert(entries).values(
                feed_id=feed_id,
                key=f"k{n}",
                url=url or f"https://news.example/{n}",
                url_canonical=url or f"https://news.example/{n}",
                title=title,
                kind="article",
                published=first_seen - timedelta(minutes=1),
                first_seen=first_seen,
                content_html=f"<p>{text}</p>",
                content_text=text or title,
                content_hash=hashlib.sha256(f"{n}{title}".encode()).hexdigest(),
                tags=[],
                links=[],
                enclosures=[],
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def add_entity(
    store: SqlStore, kind: str, key: str, name: str, aliases: list[str] | None = None
) -> int:
    with write_transaction(store.engine) as conn:
        result = conn.execute(
            insert(entities).values(
                kind=kind,
                key=key,
                name=name,
                aliases=aliases or [],
                mention_count=0,
                entry_count=0,
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def mention(store: SqlStore, entry_id: int, entity_id: int) -> None:
    with write_transaction(store.engine) as conn:
        conn.execute(
            insert(entity_mentions).values(
                entry_id=entry_id, entity_id=entity_id, count=1, first_offset=0, published=T0
            )
        )


@dataclass
class World:
    """Two feeds in two categories, two entities."""

    world_feed: int
    tech_feed: int
    smirnov: int
    fbi: int
    extra: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def world(store: SqlStore) -> World:
    a = store.add_feed("https://wire.example/feed", title="Wire", category="World")
    b = store.add_feed("https://tech.example/feed", title="Tech Daily", category="Tech")
    return World(
        world_feed=a.id,
        tech_feed=b.id,
        smirnov=add_entity(store, "person", "alexander smirnov", "Alexander Smirnov", ["Smirnov"]),
        fbi=add_entity(store, "org", "fbi", "FBI", ["Federal Bureau of Investigation"]),
    )

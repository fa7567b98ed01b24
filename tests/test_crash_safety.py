"""Crash safety: `newsdesk refresh` killed with SIGKILL at random moments, many times over,
against a loopback farm whose feeds grow on every fetch. After every kill the database opens,
passes its integrity checks, holds no half-written entry (every entry has its search row, its
link and tag rows match it), keeps everything stored before the kill (entries and their
read/starred state), and the next refresh completes. SQLite always; PostgreSQL when
NEWSDESK_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import create_engine, text

from hostile.loopback import LoopbackServer
from newsdesk.store import EntryQuery, open_store

FEEDS = 8
ITEMS = 15
NEW_PER_FETCH = 4


class GrowingFarm:
    """Feeds that gain NEW_PER_FETCH items on every fetch, with linked article pages."""

    def __init__(self, server: LoopbackServer, feeds: int = FEEDS) -> None:
        self.server = server
        self.fetches: dict[str, int] = {}
        self.requests = 0
        server.route("/page", self.page)
        for i in range(feeds):
            server.route(f"/feed/{i}", self.feed)

    async def feed(self, request: web.Request) -> web.Response:
        self.requests += 1
        name = request.path.rsplit("/", 1)[1]
        generation = self.fetches.get(name, 0)
        self.fetches[name] = generation + 1
        first = generation * NEW_PER_FETCH
        items = []
        for n in range(first, first + ITEMS):
            body = " ".join(f"word{(n * 7 + k) % 97}" for k in range(60))
            items.append(
                f"<item><guid isPermaLink='false'>{name}-{n}</guid><title>Story {name}.{n}</title>"
                f"<link>{self.server.base}/page?n={n}&amp;f={name}</link>"
                f"<category>topic{n % 5}</category><category>feed{name}</category>"
                f"<description>&lt;p&gt;{body} &lt;a href='https://example.org/{n}'&gt;more&lt;/a&gt;"
                f" &lt;a href='{self.server.base}/ref/{n % 9}'&gt;ref&lt;/a&gt;…&lt;/p&gt;"
                "</description></item>"
            )
        doc = (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Farm {name}</title>'
            f"<link>{self.server.base}/</link>{''.join(items)}</channel></rss>"
        )
        return web.Response(text=doc, content_type="application/rss+xml")

    async def page(self, request: web.Request) -> web.Response:
        self.requests += 1
        n = request.query.get("n", "0")
        paragraphs = "".join(
            f"<p>Paragraph {k} of article {n}: " + "lorem ipsum dolor sit amet " * 12 + "</p>"
            for k in range(8)
        )
        html = (
            f"<html><head><title>Article {n}</title></head><body><article><h1>Article {n}</h1>"
            f"{paragraphs}</article></body></html>"
        )
        return web.Response(text=html, content_type="text/html")


@dataclass
class Snapshot:
    entries: dict[tuple[int, str], tuple[bool, bool]]
    feeds: set[int]


class Checker:
    """Invariants of a database after a crash, for one backend."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        self.sqlite = url.startswith("sqlite")
        self.most_queued = 0  # the most entries a kill left waiting for the search index

    def close(self) -> None:
        self.engine.dispose()

    def snapshot(self) -> Snapshot:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT feed_id, key, read, starred FROM entries")).all()
            feeds = {r[0] for r in conn.execute(text("SELECT id FROM feeds"))}
        return Snapshot({(r[0], r[1]): (bool(r[2]), bool(r[3])) for r in rows}, feeds)

    def check(self, before: Snapshot) -> Snapshot:
        if self.sqlite:
            self._queue_checks()
            self._sqlite_file_checks()
        with self.engine.connect() as conn:
            self._entry_checks(conn)
        after = self.snapshot()
        lost = set(before.entries) - set(after.entries)
        assert not lost, f"{len(lost)} entries stored before the kill are gone"
        assert before.feeds <= after.feeds
        changed = {k for k, v in before.entries.items() if after.entries[k] != v}
        assert not changed, f"read/starred state lost for {len(changed)} entries"
        return after

    def _queue_checks(self) -> None:
        """The search index's switch is never left set, nothing is queued that is not an entry;
        then what waits is indexed, as the background job would, for the checks below."""
        from newsdesk.store.search import index_queued, queued_count

        with self.engine.connect() as conn:
            self.most_queued = max(self.most_queued, queued_count(conn))
            assert conn.execute(text("SELECT later FROM entries_fts_switch")).all() == [(0,)]
            strays = conn.execute(
                text(
                    "SELECT count(*) FROM entries_fts_queue "
                    "WHERE entry_id NOT IN (SELECT id FROM entries)"
                )
            ).scalar()
            assert strays == 0
        index_queued(self.engine)

    def _sqlite_file_checks(self) -> None:
        path = self.url.split("sqlite:///", 1)[1]
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
            # rank 1: also check the index against its content table (`entries`), row by row
            conn.execute("INSERT INTO entries_fts(entries_fts, rank) VALUES('integrity-check', 1)")
            missing = conn.execute(
                "SELECT count(*) FROM entries WHERE id NOT IN (SELECT rowid FROM entries_fts)"
            ).fetchone()[0]
            orphans = conn.execute(
                "SELECT count(*) FROM entries_fts WHERE rowid NOT IN (SELECT id FROM entries)"
            ).fetchone()[0]
            stale = conn.execute(
                "SELECT count(*) FROM entries e JOIN entries_fts f ON f.rowid = e.id "
                "WHERE f.title IS NOT e.title OR f.content_text IS NOT e.content_text"
            ).fetchone()[0]
            assert (missing, orphans, stale) == (0, 0, 0), "search index out of step"
        finally:
            conn.close()

    def _entry_checks(self, conn: Any) -> None:
        links: dict[int, set[str]] = {}
        for entry_id, url in conn.execute(text("SELECT entry_id, url FROM entry_links")):
            links.setdefault(entry_id, set()).add(url)
        tags: dict[int, set[str]] = {}
        for entry_id, tag in conn.execute(text("SELECT entry_id, tag FROM entry_tags")):
            tags.setdefault(entry_id, set()).add(tag)
        rows = conn.execute(
            text("SELECT id, links, tags, content_hash, title, content_text FROM entries")
        ).all()
        for entry_id, entry_links, entry_tags, content_hash, title, content_text in rows:
            entry_links = json.loads(entry_links) if isinstance(entry_links, str) else entry_links
            entry_tags = json.loads(entry_tags) if isinstance(entry_tags, str) else entry_tags
            assert content_hash and title and content_text, f"entry {entry_id} half-written"
            assert set(entry_links) == links.get(entry_id, set()), f"entry {entry_id} links"
            assert {t[:100] for t in entry_tags} == tags.get(entry_id, set()), (
                f"entry {entry_id} tags"
            )
        if not self.sqlite:
            stale = conn.execute(
                text("SELECT count(*) FROM entries WHERE search_vector IS NULL")
            ).scalar()
            assert stale == 0


def _refresh(url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NEWSDESK_ALLOW_PRIVATE_NETWORKS": "1", "NEWSDESK_DATABASE_URL": url}
    return subprocess.Popen(
        [sys.executable, "-m", "newsdesk", "refresh"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _run_to_completion(url: str) -> str:
    proc = _refresh(url)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    assert "0 errors" in out.decode(), out.decode()
    return out.decode()


def crash_many_times(url: str, kills: int, seed: int, feeds: int = FEEDS) -> int:
    """Kill refreshes at random moments, checking the database after each; the most entries a
    kill left queued for the search index."""
    rng = random.Random(seed)
    server = LoopbackServer().start()
    checker = Checker(url)
    try:
        farm = GrowingFarm(server, feeds)
        store = open_store(url)
        try:
            for i in range(feeds):
                store.add_feed(server.url(f"/feed/{i}"))
        finally:
            store.close()
        _run_to_completion(url)  # what is stored before the first kill
        before = checker.check(checker.snapshot())
        assert len(before.entries) == feeds * ITEMS
        started = farm.requests
        _run_to_completion(url)  # a typical run (a few new entries a feed)
        typical = farm.requests - started
        before = checker.check(before)
        killed_mid_run = 0
        for kill in range(kills):
            _flag_some(url, rng)
            before = checker.snapshot()
            proc = _refresh(url)
            # Kill while it works: after a random number of its requests (each fetch is
            # followed by writes), plus a random instant.
            started, target = farm.requests, rng.randint(1, typical)
            deadline = time.monotonic() + 120
            while farm.requests - started < target and proc.poll() is None:
                assert time.monotonic() < deadline, "the refresh made no progress"
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.25))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed_mid_run += 1
            proc.communicate(timeout=60)
            try:
                before = checker.check(before)
            except AssertionError as exc:
                raise AssertionError(f"after kill {kill + 1}: {exc}") from None
        assert killed_mid_run >= kills // 2, "the kills mostly missed the refresh"
        _run_to_completion(url)
        after = checker.check(before)
        assert len(after.entries) > len(before.entries)  # the farm grew; the refresh caught up
        return checker.most_queued
    finally:
        checker.close()
        server.stop()


def _flag_some(url: str, rng: random.Random) -> None:
    """Change some read/starred state between runs: it must survive the next kill."""
    store = open_store(url)
    try:
        ids = [e.id for e in store.list_entries(EntryQuery(limit=50))]
        chosen = rng.sample(ids, min(5, len(ids)))
        store.set_flags(chosen, read=True, starred=rng.random() < 0.5)
    finally:
        store.close()


@pytest.mark.slow
def test_sigkill_during_refresh_sqlite_many_times(tmp_path: Path) -> None:
    crash_many_times(f"sqlite:///{tmp_path}/crash.db", kills=20, seed=2)


@pytest.mark.slow
def test_sigkill_during_a_pooled_refresh_sqlite(tmp_path: Path) -> None:
    """Enough feeds for the parse workers to store them (``refresh.PARSE_POOL_MIN_FEEDS``):
    killed at any moment, their groups are stored whole or not at all, and what they queued for
    the search index is still queued, never half indexed."""
    from newsdesk.refresh import PARSE_POOL_MIN_FEEDS

    url = f"sqlite:///{tmp_path}/crash.db"
    assert crash_many_times(url, kills=5, seed=3, feeds=PARSE_POOL_MIN_FEEDS + 20) > 0


@pytest.fixture
def postgres_url() -> Iterator[str]:
    base = os.environ.get("NEWSDESK_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("NEWSDESK_TEST_POSTGRES_URL is not set")
    name = f"newsdesk_crash_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        base.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.slow
def test_sigkill_during_refresh_postgresql(postgres_url: str) -> None:
    crash_many_times(postgres_url, kills=10, seed=3)

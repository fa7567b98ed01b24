"""The demo is self-contained and idempotent: a database of its own (never the user's), and
run again on one database it points the sample feeds at the new sample server instead of
subscribing them again — the same feeds, all fetching, no entry twice."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from newsdesk.demo import DEMO_CATEGORIES, SEED_DIR, SOCIAL_DIR, serve_samples
from newsdesk.desk import Desk
from newsdesk.settings import load_settings


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The language model is not what this tests; the data folder is the test's own.
    monkeypatch.setenv("NEWSDESK_ENTITIES", "0")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


def _state(db: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with sqlite3.connect(db) as conn:
        feeds = conn.execute(
            "SELECT url, error_count, last_status, last_error FROM feeds ORDER BY id"
        ).fetchall()
        entries = conn.execute("SELECT feed_id, key, url FROM entries ORDER BY id").fetchall()
    return feeds, entries


def _port(db: Path) -> int:
    feeds, _ = _state(db)
    port = urlsplit(feeds[0][0]).port
    assert port is not None
    return port


def _assert_fine(db: Path, feeds: int) -> list[tuple[Any, ...]]:
    found, entries = _state(db)
    assert len(found) == feeds
    assert len({urlsplit(url).port for url, *_ in found}) == 1  # all on the live server
    for url, errors, status, last_error in found:
        assert errors == 0 and last_error is None and status in (200, 304), url
    titles = [(feed_id, key) for feed_id, key, _url in entries]
    assert len(titles) == len(set(titles))
    urls = [url for _f, _k, url in entries if url]
    assert len(urls) == len(set(urls))  # no post or article twice
    return entries


def test_demo_twice_on_one_database(cli: Any, tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    first = cli("demo", "--no-fulltext", "--db", f"sqlite:///{db}")
    assert first.code == 0, first.err
    entries = _assert_fine(db, 2)
    assert len(entries) == 10
    again = cli("demo", "--no-fulltext", "--db", f"sqlite:///{db}")
    assert again.code == 0, again.err
    assert len(_assert_fine(db, 2)) == 10
    assert again.out == first.out  # the same digest
    # The earlier port taken: a new server, the feeds follow it.
    old = _port(db)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", old))
        taken.listen(1)
        third = cli("demo", "--no-fulltext", "--db", f"sqlite:///{db}")
    assert third.code == 0, third.err
    assert _port(db) != old
    assert len(_assert_fine(db, 2)) == 10
    # (an updated post's links are not expanded again, so the digest may lose a "↪" line)
    assert third.out.count("Categories\n") == first.out.count("Categories\n") == 10


def test_demo_keeps_to_its_own_database(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "own.db"
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", f"sqlite:///{own}")
    result = cli("demo", "--no-fulltext")
    assert result.code == 0, result.err
    demo_db = tmp_path / "data" / "newsdesk" / "demo.db"
    assert f"database sqlite:///{demo_db}" in result.err
    assert demo_db.exists() and not own.exists()
    assert not (tmp_path / "data" / "newsdesk" / "newsdesk.db").exists()


def test_serve_demo_feeds_follow_a_new_sample_server(tmp_path: Path) -> None:
    """The social samples' GUIDs are URLs on the sample server: when it moves, the stored
    entries move with it, and the next fetch finds them instead of storing them again."""
    db = tmp_path / "serve.db"
    settings = load_settings(
        database_url=f"sqlite:///{db}", allow_private_networks=True, fulltext=False
    )
    counts = []
    for taken_port in (False, False, True):
        desk = Desk(settings)
        taken = socket.socket()
        try:
            if taken_port:
                taken.bind(("127.0.0.1", _port(db)))
                taken.listen(1)
            server = serve_samples(desk, (SEED_DIR, SOCIAL_DIR), DEMO_CATEGORIES)
            try:
                report = asyncio.run(desk.refresh_async())
                assert not report.errors
            finally:
                server.stop()
        finally:
            taken.close()
            desk.close()
        counts.append(len(_assert_fine(db, len(DEMO_CATEGORIES))))
    assert counts[0] > 10 and counts == [counts[0]] * 3


def test_old_duplicates_are_folded(tmp_path: Path) -> None:
    """A database an older demo filled with the same sample feed at several dead ports."""
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'old.db'}")
    desk = Desk(settings)
    try:
        for port in (1, 2):
            desk.store.add_feed(f"http://127.0.0.1:{port}/feeds/mikenov.rss")
        desk.store.add_feed("http://127.0.0.1:3/feeds/not-a-sample.rss")
        server = serve_samples(desk, (SEED_DIR,), {"/feeds/mikenov.rss": "Timeline"})
        server.stop()
        urls = sorted(f.url for f in desk.store.list_feeds())
    finally:
        desk.close()
    assert urls == sorted(
        [server.base + "/feeds/mikenov.rss", "http://127.0.0.1:3/feeds/not-a-sample.rss"]
    )

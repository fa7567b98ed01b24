"""A big refresh's parse workers store what they parse (``refresh_worker``): in groups, one
transaction each, taking turns on SQLite; the refresh process only fetches. The same entries
and fetch states as the writer thread stores; a database only this process can open (in
memory) keeps the writer thread."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from newsdesk import refresh, refresh_pool
from newsdesk.pools import process_pool
from newsdesk.refresh import refresh_sync
from newsdesk.settings import load_settings
from newsdesk.store import SqlStore, open_store
from newsdesk.store.engine import shared_url
from processes import hold_turn, try_turn
from routes_server import Answer, RoutesServer, rss


def test_the_workers_of_a_pool_take_turns(tmp_path: Path) -> None:
    pool = process_pool(2)
    try:
        flag = tmp_path / "held"
        held = pool.submit(hold_turn, str(flag), 3.0)
        deadline = time.monotonic() + 30
        while not flag.exists():
            assert time.monotonic() < deadline, "the first worker never took its turn"
            time.sleep(0.01)
        assert pool.submit(try_turn).result(timeout=30) is False  # the other worker waits
        held.result(timeout=30)
        assert pool.submit(try_turn).result(timeout=30) is True
    finally:
        pool.shutdown(wait=True)


@pytest.mark.parametrize(
    ("url", "shared"),
    [
        ("sqlite:///{tmp}/a.db", True),
        ("{tmp}/bare.db", True),
        ("sqlite://", False),
        ("sqlite:///:memory:", False),
        ("sqlite:///file:x?mode=memory&uri=true", False),
        ("postgresql://u@127.0.0.1:5432/x", True),
        ("not a url at all", True),  # a bare path
    ],
)
def test_only_a_database_another_process_can_open_is_shared(
    url: str, shared: bool, tmp_path: Path
) -> None:
    url = url.format(tmp=tmp_path)
    assert (shared_url(url) == url) is shared


def _farm(server: RoutesServer, feeds: int) -> list[str]:
    urls = [
        server.route(f"/f{n}.rss", Answer(rss(f"Feed {n}", items=3 + n % 4))) for n in range(feeds)
    ]
    urls.append(server.route("/broken.rss", Answer(b"\x00\x01 no feed here", status=200)))
    urls.append(server.route("/gone.rss", Answer(b"gone", status=410)))
    return urls


def _stored(store: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with store.engine.connect() as conn:
        entries = conn.exec_driver_sql(
            "SELECT f.url, e.key, e.title, e.content_text, e.tags, e.links, e.read "
            "FROM entries e JOIN feeds f ON f.id = e.feed_id ORDER BY f.url, e.key"
        ).fetchall()
        feeds = conn.exec_driver_sql(
            "SELECT url, title, last_status, error_count, last_error IS NULL, paused, "
            "next_check IS NOT NULL FROM feeds ORDER BY url"
        ).fetchall()
    return [tuple(r) for r in entries], [tuple(r) for r in feeds]


@pytest.mark.parametrize("shared", [True, False])
def test_the_workers_store_what_the_writer_thread_stores(
    shared: bool, tmp_path: Path, server: RoutesServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSDESK_ALLOW_PRIVATE_NETWORKS", "1")
    if not shared:  # as an in-memory database: only this process can open it
        monkeypatch.setattr(SqlStore, "shared_url", None)
    urls = _farm(server, 12)
    groups: list[int] = []
    real_run = refresh_pool.PoolWrites._run

    async def counted(self: Any, group: list[Any]) -> None:
        groups.append(len(group))
        await real_run(self, group)

    monkeypatch.setattr(refresh_pool.PoolWrites, "_run", counted)
    settings = load_settings().replace(icons=False)
    results = []
    for name, threshold in (("thread", 10_000), ("pool", 1)):
        monkeypatch.setattr(refresh, "PARSE_POOL_MIN_FEEDS", threshold)
        store = open_store(f"sqlite:///{tmp_path / name}.db")
        try:
            for feed_url in urls:
                store.add_feed(feed_url)
            report = refresh_sync(store, settings, fulltext=False, intel=False)
            assert report.feeds == 14 and len(report.errors) == 2
            assert report.new_entries == sum(3 + n % 4 for n in range(12))
            assert sorted(report.new_ids) == list(range(1, report.new_entries + 1))
            results.append(_stored(store))
        finally:
            store.close()
    assert results[0] == results[1]
    entries, feeds = results[1]
    assert len(entries) == sum(3 + n % 4 for n in range(12))
    assert [f[5] for f in feeds].count(True) == 1  # the 410 paused the feed it answered for
    if shared:
        assert sum(groups) == 13  # every document through the workers (not the 410)
    else:
        assert groups == []  # the workers could not open an in-memory database


def test_an_unchanged_refresh_starts_no_workers(
    tmp_path: Path, server: RoutesServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool is started early only for feeds likely to bring a body (no validators): a
    refresh where every feed answers 304 must not pay its start-up."""
    monkeypatch.setenv("NEWSDESK_ALLOW_PRIVATE_NETWORKS", "1")
    monkeypatch.setattr(refresh, "PARSE_POOL_MIN_FEEDS", 1)

    def tagged(n: int) -> Any:
        def answer(headers: dict[str, str]) -> Answer:
            if headers.get("if-none-match") == f'"v{n}"':
                return Answer(b"", status=304)
            return Answer(rss(f"Feed {n}", items=2), headers={"ETag": f'"v{n}"'})

        return answer

    urls = [server.route(f"/t{n}.rss", tagged(n)) for n in range(5)]
    started: list[bool] = []
    real_start = refresh_pool.DocumentParser.start

    def start(self: Any) -> Any:
        pool = real_start(self)
        started.append(pool is not None)
        return pool

    monkeypatch.setattr(refresh_pool.DocumentParser, "start", start)
    settings = load_settings().replace(icons=False)
    store = open_store(f"sqlite:///{tmp_path / 'tagged.db'}")
    try:
        for url in urls:
            store.add_feed(url)
        first = refresh_sync(store, settings, fulltext=False, intel=False)
        assert first.new_entries == 10 and True in started
        started.clear()
        again = refresh_sync(store, settings, fulltext=False, intel=False)
        assert again.not_modified == 5 and again.new_entries == 0
        assert started == []
    finally:
        store.close()


def _wal_frames(db: Path) -> tuple[int, int]:
    """(frames in the WAL, frames copied into the file), read by a PASSIVE checkpoint that
    copies nothing more: a reader holds the snapshot of before."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        (_, logged, copied) = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(logged), int(copied)


def _fill(store: SqlStore, feeds: int) -> None:
    from datetime import UTC, datetime

    from members import article
    from newsdesk.store import FeedState

    now = datetime(2026, 12, 1, tzinfo=UTC)
    state = FeedState(last_fetched=now, last_status=200, title="A feed")
    text = "words and more words " * 60
    for n in range(feeds):
        name = f"f{n}-{time.monotonic_ns()}"
        feed = store.add_feed(f"https://example.org/{name}.rss")
        entries = [article(name, i, now, f"Entry {i}", text) for i in range(20)]
        store.save_refresh_batch([(feed.id, state, entries)], now)


def test_a_worker_copies_the_wal_between_its_turns_at_most_once_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsdesk import refresh_worker

    db = tmp_path / "n.db"
    store = open_store(f"sqlite:///{db}")
    try:
        _fill(store, 3)
        before = db.stat().st_size
        monkeypatch.setattr(refresh_worker, "_checkpointed", {"at": time.monotonic()})
        refresh_worker._checkpoint_when_due(store)  # a second has not passed
        assert db.stat().st_size == before  # the entries are still only in the WAL
        monkeypatch.setattr(refresh_worker, "_checkpointed", {"at": time.monotonic() - 1.0})
        refresh_worker._checkpoint_when_due(store)
        assert db.stat().st_size > before + 20 * 1200 * 3 // 2  # copied into the file
        logged, copied = _wal_frames(db)
        assert logged == copied > 0
        _fill(store, 1)  # the next write finds the WAL all copied: it starts over
        assert _wal_frames(db)[0] < logged
    finally:
        store.close()


def test_the_search_index_merges_sixteen_segments_at_a_time(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/n.db")
    try:
        with store.engine.connect() as conn:
            merge = conn.exec_driver_sql(
                "SELECT v FROM entries_fts_config WHERE k = 'automerge'"
            ).scalar()
        assert merge == 16
    finally:
        store.close()


def test_a_failed_checkpoint_leaves_the_group_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from newsdesk import refresh_worker

    store = open_store(f"sqlite:///{tmp_path}/n.db")

    def broken() -> None:
        raise OSError("disk gone")

    try:
        monkeypatch.setattr(store, "checkpoint", broken)
        monkeypatch.setattr(refresh_worker, "_checkpointed", {"at": time.monotonic() - 1.0})
        refresh_worker._checkpoint_when_due(store)  # no exception: the group's results go back
        assert "copying the WAL into the database failed" in caplog.text
    finally:
        store.close()


@pytest.mark.parametrize("fails", [False, True])
def test_the_refresh_copies_the_workers_wal_while_it_enriches(
    fails: bool,
    tmp_path: Path,
    server: RoutesServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Once the workers have stored every group, the refresh process copies the WAL into the
    file itself (in a thread, beside enrichment), not the last connection's close; a failure
    there is logged and the refresh's result stands."""
    monkeypatch.setenv("NEWSDESK_ALLOW_PRIVATE_NETWORKS", "1")
    monkeypatch.setattr(refresh, "PARSE_POOL_MIN_FEEDS", 1)
    db = tmp_path / "n.db"
    store = open_store(f"sqlite:///{db}")
    copied: list[tuple[int, int]] = []

    def checkpoint() -> None:
        if fails:
            raise OSError("disk gone")
        SqlStore.checkpoint(store)
        copied.append(_wal_frames(db))

    monkeypatch.setattr(store, "checkpoint", checkpoint)
    try:
        for url in _farm(server, 6):
            store.add_feed(url)
        # (a first import: its search index left to the background job, nothing written after)
        settings = load_settings().replace(icons=False, intel_inline_max=0)
        report = refresh_sync(store, settings, fulltext=False, intel=False)
        assert report.new_entries == sum(3 + n % 4 for n in range(6))
        assert report.search_deferred == report.new_entries
        if fails:
            assert "copying the WAL into the database failed" in caplog.text
        else:
            (frames,) = copied  # once, and every frame the workers wrote was copied
            assert frames[0] == frames[1] > 0
    finally:
        store.close()

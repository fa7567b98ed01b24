"""The scheduler inside the refresh, on SQLite and PostgreSQL, with a fake clock: due feeds only,
paused feeds skipped, backoff and server hints visible on the feed, 301 after consecutive
fetches, 410 and long failures pause, concurrent refreshes of one feed never duplicate entries,
and at most ``per_host_concurrency`` connections per host."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from feed_farm import FeedFarm

from newsdesk.refresh import RefreshReport, refresh_feeds
from newsdesk.settings import Settings
from newsdesk.store import EntryQuery, SqlStore, open_store
from routes_server import Answer, RoutesServer, rss

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    s = open_store(store_url)
    yield s
    s.close()


def refresh(store: SqlStore, settings: Settings, now: datetime, **kw: Any) -> RefreshReport:
    return asyncio.run(refresh_feeds(store, settings, now=now, fulltext=False, **kw))


def test_due_respects_next_check_and_paused(
    store: SqlStore, settings: Settings, server: RoutesServer
) -> None:
    urls = [server.route(f"/f{i}.rss", Answer(rss(f"f{i}"))) for i in range(3)]
    feeds = [store.add_feed(u) for u in urls]
    first = refresh(store, settings, T0, due_only=True)
    assert first.feeds == 3 and first.new_entries == 9
    # everything was just checked: nothing is due a minute later
    assert refresh(store, settings, T0 + timedelta(minutes=1), due_only=True).feeds == 0
    store.update_feed(feeds[0].id, next_check=T0)
    store.update_feed(feeds[1].id, next_check=T0, paused=True, paused_reason="by hand")
    due = refresh(store, settings, T0 + timedelta(minutes=2), due_only=True)
    assert [o.feed_id for o in due.outcomes] == [feeds[0].id]
    # the plain refresh fetches every feed that is not paused, due or not
    assert refresh(store, settings, T0 + timedelta(minutes=3)).feeds == 2
    # a day later all but the paused one are due (max_interval is 24 h)
    assert refresh(store, settings, T0 + timedelta(days=1, minutes=5), due_only=True).feeds == 2


def test_hints_set_the_next_check(
    store: SqlStore, settings: Settings, server: RoutesServer
) -> None:
    slow = server.route(
        "/ttl.rss", Answer(rss("ttl"), headers={"Cache-Control": "public, max-age=10800"})
    )
    greedy = server.route(
        "/greedy.rss", Answer(rss("greedy"), headers={"Cache-Control": "max-age=1"})
    )
    a, b = store.add_feed(slow), store.add_feed(greedy)
    refresh(store, settings, T0)
    wait_a = store.get_feed(a.id).next_check - T0  # type: ignore[operator]
    wait_b = store.get_feed(b.id).next_check - T0  # type: ignore[operator]
    assert timedelta(hours=3) * 0.9 <= wait_a <= timedelta(hours=24)
    # old entries (2024) → a quiet feed; the hint of one second never shortens below the minimum
    assert wait_b >= timedelta(seconds=settings.min_interval)


def test_errors_back_off_and_show_why_and_when(
    store: SqlStore, settings: Settings, server: RoutesServer, cli: Any, store_url: str
) -> None:
    url = server.route("/down.rss", Answer(b"oops", 500, "text/plain"))
    feed = store.add_feed(url)
    waits = []
    now = T0
    for _ in range(5):
        refresh(store, settings, now, due_only=True)
        f = store.get_feed(feed.id)
        assert f.next_check is not None
        waits.append(f.next_check - now)
        now = f.next_check
    assert all(later > earlier for earlier, later in itertools.pairwise(waits))
    assert waits[0] >= timedelta(seconds=settings.min_interval)
    shown = cli("feeds", "--json", "--db", store_url).json()[0]
    assert shown["last_error"] == "HTTP 500 Internal Server Error"
    assert shown["next_check"] == f.next_check.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert shown["paused"] is False


def test_retry_after_on_503(store: SqlStore, settings: Settings, server: RoutesServer) -> None:
    url = server.route(
        "/busy.rss", Answer(b"busy", 503, "text/plain", headers={"Retry-After": "7200"})
    )
    feed = store.add_feed(url)
    refresh(store, settings, T0)
    f = store.get_feed(feed.id)
    assert f.next_check == T0 + timedelta(hours=2)
    assert f.last_error is not None and "503" in f.last_error


def test_permanent_redirect_is_believed_on_consecutive_fetches(
    store: SqlStore, settings: Settings, server: RoutesServer
) -> None:
    new = server.route("/new.rss", Answer(rss("moved")))
    old = server.route("/old.rss", Answer(status=301, headers={"Location": new}))
    feed = store.add_feed(old)
    refresh(store, settings, T0)
    once = store.get_feed(feed.id)
    assert once.url == old and once.pending_url == new and once.pending_count == 1
    # the move is interrupted: the count starts again
    server.route("/old.rss", Answer(rss("moved")))
    refresh(store, settings, T0 + timedelta(hours=1))
    assert store.get_feed(feed.id).pending_count == 0
    server.route("/old.rss", Answer(status=301, headers={"Location": new}))
    refresh(store, settings, T0 + timedelta(hours=2))
    refresh(store, settings, T0 + timedelta(hours=3))
    moved = store.get_feed(feed.id)
    assert moved.url == new and moved.moved_from == old
    assert store.get_feed(old).id == feed.id  # still found by its old URL
    assert store.count_entries(EntryQuery(feed_id=feed.id)) == 3


def test_gone_and_long_failing_feeds_are_paused_not_deleted(
    store: SqlStore, settings: Settings, server: RoutesServer
) -> None:
    ok = server.route("/ok.rss", Answer(rss("ok")))
    feed = store.add_feed(ok)
    refresh(store, settings, T0)
    server.route("/ok.rss", Answer(b"", 502, "text/plain"))
    now = T0 + timedelta(hours=1)
    refresh(store, settings, now)
    assert not store.get_feed(feed.id).paused
    later = now + timedelta(days=settings.pause_after_days, hours=1)
    refresh(store, settings, later)
    paused = store.get_feed(feed.id)
    assert paused.paused
    assert f"failing for more than {settings.pause_after_days} days" in (paused.paused_reason or "")
    assert store.count_entries(EntryQuery(feed_id=feed.id)) == 3  # entries kept
    # a paused feed is never due
    assert refresh(store, settings, later + timedelta(days=3), due_only=True).feeds == 0

    gone = store.add_feed(server.route("/gone.rss", Answer(b"", 410, "text/plain")))
    refresh(store, settings, T0, feed_ids=[gone.id])
    assert "410" in (store.get_feed(gone.id).paused_reason or "")


def test_same_feed_refreshed_twice_at_once_is_stored_once(
    store: SqlStore, settings: Settings, server: RoutesServer
) -> None:
    url = server.route("/race.rss", Answer(rss("race", items=40), delay=0.3))
    feed = store.add_feed(url)
    reports: list[RefreshReport] = []

    def run() -> None:
        reports.append(refresh(store, settings, T0, feed_ids=[feed.id]))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count_entries(EntryQuery(feed_id=feed.id)) == 40
    assert sum(r.new_entries for r in reports) == 40
    for r in reports:  # a loser either saw the rows or was told it raced; nothing else
        for o in r.outcomes:
            assert o.error is None or "another refresh" in o.error


def test_at_most_n_requests_per_host(tmp_path: Any) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'hosts.db'}",
        allow_private_networks=True,
        per_host_concurrency=3,
        concurrency=50,
    )
    store = open_store(settings.resolved_database_url)
    try:
        with FeedFarm(feeds=24, items=2, addresses=("127.0.0.1", "127.0.0.2"), delay=0.2) as farm:
            for url in farm.urls:
                store.add_feed(url)
            report = refresh(store, settings, T0)
            assert report.feeds == 24 and not report.errors
            assert farm.peak["127.0.0.1"] == 3
            assert farm.peak["127.0.0.2"] == 3
    finally:
        store.close()

"""Refresh on the in-memory store: the stage alone, against feeds on a loopback server, with no
database. Fast: what the refresh decides (new, unchanged, failed) is tested here; what SQL makes
of it, in test_store.py and the suites that refresh a real database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from fakes.memory_store import MemoryStore, as_storage
from newsdesk.refresh import refresh_feeds
from newsdesk.settings import Settings, load_settings
from routes_server import Answer, RoutesServer, closed_port, rss

NOW = datetime(2024, 2, 28, 12, 0, tzinfo=UTC)


def _settings() -> Settings:
    # Nothing but the feeds themselves: no pages, no icons, no intelligence stage.
    return load_settings(
        env={},
        database_url="sqlite:///unused.db",
        allow_private_networks=True,
        fulltext=False,
        expand_links=False,
        icons=False,
        fetch_timeout=2,
    )


async def test_new_entries_are_saved(server: RoutesServer) -> None:
    store = MemoryStore()
    feed = store.add_feed(server.route("/news.rss", Answer(rss("News", items=3))))
    report = await refresh_feeds(as_storage(store), _settings(), now=NOW)
    assert report.feeds == 1 and report.new_entries == 3 and not report.errors
    assert sorted(report.new_ids) == sorted(e.id for e in store.feed_entries(feed.id))
    assert {e.title for e in store.feed_entries(feed.id)} == {f"item {i} of News" for i in range(3)}
    stored = store.feeds[feed.id]
    assert stored.title == "News" and stored.last_status == 200 and stored.error_count == 0
    assert stored.next_check is not None and stored.next_check > NOW


async def test_unchanged_feed_adds_nothing(server: RoutesServer) -> None:
    store = MemoryStore()
    same = store.add_feed(server.route("/same.rss", Answer(rss("Same", items=2))))
    tagged = store.add_feed(
        server.route("/tagged.rss", Answer(rss("Tagged", items=2), headers={"ETag": '"v1"'}))
    )
    first = await refresh_feeds(as_storage(store), _settings(), now=NOW)
    assert first.new_entries == 4
    assert store.feeds[tagged.id].etag == '"v1"'
    # The second time the tagged feed answers 304 to our If-None-Match; the other sends the
    # same document again.
    server.route("/tagged.rss", Answer(b"", 304, headers={"ETag": '"v1"'}))
    later = NOW + timedelta(hours=1)
    second = await refresh_feeds(as_storage(store), _settings(), now=later)
    assert second.new_entries == 0 and second.updated_entries == 0 and not second.errors
    assert second.not_modified == 1
    assert [h for path, h in server.hits if path == "/tagged.rss"][-1].get(
        "If-None-Match"
    ) == '"v1"'
    assert len(store.entries) == 4
    assert store.feeds[same.id].last_fetched == later


async def test_one_bad_feed_does_not_stop_the_others(server: RoutesServer) -> None:
    store = MemoryStore()
    good = store.add_feed(server.route("/good.rss", Answer(rss("Good", items=2))))
    broken = store.add_feed(server.route("/broken.xml", Answer(b"\x00 not { xml", 200)))
    missing = store.add_feed(server.route("/gone", Answer(b"nope", 404, "text/html")))
    closed = store.add_feed(f"http://127.0.0.1:{closed_port()}/feed.xml")
    report = await refresh_feeds(as_storage(store), _settings(), now=NOW)
    assert report.feeds == 4 and report.new_entries == 2
    assert {o.feed_id for o in report.errors} == {broken.id, missing.id, closed.id}
    assert len(store.feed_entries(good.id)) == 2 and store.feeds[good.id].error_count == 0
    for feed in (broken, missing, closed):
        stored = store.feeds[feed.id]
        assert stored.error_count == 1 and stored.last_error, stored
        assert stored.next_check is not None and stored.next_check > NOW
    assert "HTTP 404" in (store.feeds[missing.id].last_error or "")


async def test_only_due_feeds_and_a_stop_skips_the_rest(server: RoutesServer) -> None:
    store = MemoryStore()
    due = store.add_feed(server.route("/due.rss", Answer(rss("Due", items=1))))
    waiting = store.add_feed(server.route("/later.rss", Answer(rss("Later", items=1))))
    store.feeds[waiting.id].next_check = NOW + timedelta(hours=2)
    report = await refresh_feeds(as_storage(store), _settings(), now=NOW, due_only=True)
    assert report.feeds == 1 and [o.feed_id for o in report.outcomes] == [due.id]
    assert not store.feed_entries(waiting.id)

    stop = asyncio.Event()
    stop.set()
    stopped = await refresh_feeds(as_storage(store), _settings(), now=NOW, stop=stop)
    assert stopped.skipped == 2 and stopped.new_entries == 0 and not stopped.outcomes


async def test_edited_entries_are_updated_and_rotating_guids_are_not_new(
    server: RoutesServer,
) -> None:
    store = MemoryStore()
    url = server.route("/edits.rss", Answer(rss("Edits", items=2)))
    feed = store.add_feed(url)
    await refresh_feeds(as_storage(store), _settings(), now=NOW)
    edited = rss("Edits", items=2).replace(b"Body 1 of", b"Body 1, corrected, of")
    rotated = edited.replace(b"<guid>item-0</guid>", b"<guid>item-0-rotated</guid>")
    server.route("/edits.rss", Answer(rotated))
    report = await refresh_feeds(as_storage(store), _settings(), now=NOW + timedelta(hours=1))
    assert report.new_entries == 0 and report.updated_entries == 1
    assert len(store.feed_entries(feed.id)) == 2
    (changed,) = [store.entries[i] for i in report.updated_ids]
    assert "corrected" in changed.content_text

"""The in-memory table of entries per feed (store.feed_totals) stays equal to a count from
scratch as entries arrive, feeds go and ids are given again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsdesk.model import Entry
from newsdesk.store import open_store
from newsdesk.store.feed_totals import count_totals
from newsdesk.store.protocols.refresh import FeedState

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _entry(key: str, minutes: int) -> Entry:
    return Entry(
        key=key,
        url=f"https://example.org/{key}",
        title=f"Title {key}",
        author=None,
        kind="article",
        published=NOW - timedelta(minutes=minutes),
        updated=None,
        content_html="<p>text</p>",
        content_text="text",
        summary_html=None,
        content_hash=f"h-{key}",
        tags=[],
        links=[],
        enclosures=[],
    )


def test_totals_follow_new_entries_and_removed_feeds(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    state = FeedState(last_fetched=NOW, last_status=200, title="Feed")

    def both() -> tuple[object, object]:
        with store.engine.connect() as conn:
            return store.feed_totals.get(conn), count_totals(conn)

    one = store.add_feed("https://example.org/one")
    two = store.add_feed("https://example.org/two")
    store.save_refresh(one.id, state, [_entry("a", 5), _entry("b", 1)], NOW)
    kept, fresh = both()
    assert kept == fresh and kept[one.id][0] == 2  # type: ignore[index]
    store.save_refresh(two.id, state, [_entry("c", 9)], NOW)
    store.save_refresh(one.id, state, [_entry("d", 0)], NOW)  # newer than the newest
    kept, fresh = both()
    assert kept == fresh and kept[one.id] == (3, NOW)  # type: ignore[index]
    store.remove_feed(two.id)  # its entries go: the newest ids may be given again
    three = store.add_feed("https://example.org/three")
    store.save_refresh(three.id, state, [_entry("e", 2)], NOW)
    kept, fresh = both()
    assert kept == fresh
    store.close()

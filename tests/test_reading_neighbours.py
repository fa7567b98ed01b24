"""An entry's neighbours in a view (``ReadingStore.adjacent_entries``) and the sidebar's unread
counts are what a plain reading of the view gives, whatever way the store finds them: on SQLite
the neighbours are first looked for walking the publication index over ADJACENT_WINDOW entries
(shrunk here so that both the walk and what follows it are used), the counts come from the read
states counted per feed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

import newsdesk.store.reading as reading
from members import article, member_views
from newsdesk.store import EntryQuery, FeedState, SqlStore, open_store

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def people(store_url: str) -> Iterator[tuple[SqlStore, SqlStore]]:
    """Alice's view (four feeds in two categories) and bob's (one of them)."""
    store = open_store(store_url)
    a, b = member_views(store, ("alice", "bob"), NOW)
    for n in range(4):
        url = f"https://example.org/{n}.xml"
        feed = a.add_feed(url, category="Even" if n % 2 == 0 else "Odd")
        if n == 3:
            b.add_feed(url, category="Mine")
        made = [
            # Feeds interleaved, with ties in publication time across feeds.
            article(
                str(n),
                i,
                NOW - timedelta(minutes=(i * 7 + n * 3) // 2),
                f"news {n} {i}",
                f"words {i}",
            )
            for i in range(12)
        ]
        store.as_system().save_refresh(feed.id, FeedState(last_fetched=NOW), made, NOW)
    yield a, b
    store.close()


def _plain(view: SqlStore, query: EntryQuery, entry_id: int) -> tuple[int | None, int | None]:
    """The neighbours read off the whole view in river order (newest first)."""
    every = view.list_entries(
        EntryQuery(category=query.category, read=query.read, feed_id=query.feed_id, limit=10_000)
    )
    ids = [e.id for e in every]
    if entry_id not in ids:
        entry = view.get_entry(entry_id)
        key = (entry.published, entry.id)
        newer = [e.id for e in every if (e.published, e.id) > key]
        older = [e.id for e in every if (e.published, e.id) < key]
        return (newer[-1] if newer else None), (older[0] if older else None)
    at = ids.index(entry_id)
    return (ids[at - 1] if at > 0 else None), (ids[at + 1] if at + 1 < len(ids) else None)


@pytest.mark.parametrize("window", [1, 3, 10_000])
def test_neighbours_are_those_of_the_view(
    people: tuple[SqlStore, SqlStore], window: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "ADJACENT_WINDOW", window)
    a, b = people
    every = a.list_entries(EntryQuery(limit=10_000))
    a.set_flags([e.id for e in every[::3]], read=True)
    views = [
        EntryQuery(),
        EntryQuery(read=False),
        EntryQuery(category="Odd"),
        EntryQuery(category="Even", read=False),
        EntryQuery(feed_id=every[0].feed_id),
    ]
    for view, query in ((a, q) for q in views):
        for entry in every:
            seen = view.get_entry(entry.id)
            assert view.reading.adjacent_entries(seen, query) == _plain(view, query, entry.id)
    for entry in b.list_entries(EntryQuery(limit=10_000)):
        seen = b.get_entry(entry.id)
        assert b.reading.adjacent_entries(seen, EntryQuery()) == _plain(b, EntryQuery(), entry.id)


def test_unread_counts_are_the_views_unread_entries(
    people: tuple[SqlStore, SqlStore],
) -> None:
    a, b = people
    every = a.list_entries(EntryQuery(limit=10_000))
    a.set_flags([e.id for e in every[::4]], read=True)
    b.set_flags([e.id for e in b.list_entries(EntryQuery(limit=10_000))[:5]], read=True)
    for view in (a, b):
        for _cid, title, count in view.reading.unread_by_category():
            unread = view.list_entries(EntryQuery(category=title, read=False, limit=10_000))
            assert count == len(unread), title

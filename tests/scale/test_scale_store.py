"""Store behaviour distributed mode relies on, on SQLite and PostgreSQL alike: leases on feeds,
claiming due feeds, feed counts, and ranked search with snippets (FTS5 / weighted tsvector)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from newsdesk.model import Entry
from newsdesk.store import EntryQuery, FeedState, SqlStore, open_store

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    s = open_store(store_url)
    yield s
    s.close()


def _feeds(store: SqlStore, count: int) -> list[int]:
    return [store.add_feed(f"http://127.0.0.1:9/{i}.rss").id for i in range(count)]


def test_a_lease_is_held_by_one_owner_until_it_runs_out(store: SqlStore) -> None:
    a, b, c = _feeds(store, 3)
    assert store.leases.acquire_leases([a, b], "w1", T0, 60) == [a, b]
    assert store.leases.acquire_leases([a, b, c], "w2", T0 + timedelta(seconds=30), 60) == [c]
    # the holder may renew; a rerun of the same task (same owner) takes its lease back
    assert store.leases.acquire_leases([a], "w1", T0 + timedelta(seconds=40), 60) == [a]
    # run out: free for anyone
    assert store.leases.acquire_leases([b], "w2", T0 + timedelta(seconds=61), 60) == [b]
    assert store.leases.release_leases([a, b], "w1") == 1  # b is w2's now
    assert store.leases.acquire_leases([a], "w3", T0 + timedelta(seconds=62), 60) == [a]
    assert store.leases.acquire_leases([999_999], "w3", T0, 60) == []


def test_leases_race_to_exactly_one_winner(store: SqlStore) -> None:
    feed_ids = _feeds(store, 20)
    won: dict[str, list[int]] = {}
    barrier = threading.Barrier(6)

    def take(owner: str) -> None:
        barrier.wait()
        won[owner] = store.leases.acquire_leases(feed_ids, owner, T0, 60)

    threads = [threading.Thread(target=take, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    taken = [feed for ids in won.values() for feed in ids]
    assert sorted(taken) == sorted(feed_ids)  # every feed leased exactly once


def test_claiming_due_feeds_holds_them_until_the_hold_runs_out(store: SqlStore) -> None:
    ids = _feeds(store, 5)
    store.update_feed(ids[3], paused=True, paused_reason="by hand")
    store.update_feed(ids[4], next_check=T0 + timedelta(hours=1))
    store.leases.acquire_leases([ids[2]], "busy", T0, 600)
    assert store.leases.claim_due_feeds(T0, 10, 300) == [ids[0], ids[1]]
    assert store.leases.claim_due_feeds(T0 + timedelta(seconds=10), 10, 300) == []
    counts = store.leases.feed_counts(T0 + timedelta(seconds=10))
    assert (counts.total, counts.due, counts.leased, counts.paused) == (5, 1, 1, 1)
    # the queued task was lost: after the hold they are due again
    later = T0 + timedelta(seconds=301)
    assert store.leases.claim_due_feeds(later, 1, 300) == [ids[0]]
    assert store.leases.claim_due_feeds(later, 10, 300) == [ids[1]]
    assert counts.next_check is not None and counts.next_check.tzinfo is not None


def _entry(key: str, title: str, text_: str) -> Entry:
    return Entry(
        key=key,
        url=f"http://127.0.0.1:9/{key}",
        title=title,
        author="Reporter",
        kind="article",
        published=T0,
        updated=None,
        content_html=f"<p>{text_}</p>",
        content_text=text_,
        summary_html=None,
        content_hash=key,
    )


def test_search_ranks_title_above_text_with_snippets(store: SqlStore) -> None:
    (feed_id,) = _feeds(store, 1)
    filler = "Plain words about the weather and the markets. " * 5
    store.save_refresh(
        feed_id,
        FeedState(last_fetched=T0),
        [
            _entry("a", "Markets today", filler + "A mention of the harbour in passing."),
            _entry("b", "Harbour reopens after the storm", filler),
            _entry("c", "Unrelated", filler),
        ],
        T0,
    )
    hits = store.search("harbour", EntryQuery())
    assert [h.title for h in hits] == ["Harbour reopens after the storm", "Markets today"]
    assert "[harbour]" in (hits[1].snippet or "").lower()
    # prefix match on the last word, every word required, punctuation harmless
    assert store.search("harb", EntryQuery())[0].title == "Harbour reopens after the storm"
    assert [h.title for h in store.search("storm harbour", EntryQuery())] == [
        "Harbour reopens after the storm"
    ]
    assert store.search("harbour's & | ! (", EntryQuery())
    assert store.search("zzzznothing", EntryQuery()) == []
    # filters apply to search as to listing
    assert store.search("harbour", EntryQuery(feed_id=feed_id + 1000)) == []


def test_search_ignores_accents_on_both_backends(store: SqlStore) -> None:
    (feed_id,) = _feeds(store, 1)
    store.save_refresh(
        feed_id,
        FeedState(last_fetched=T0),
        [_entry("x", "Le café de la gare", "Crème brûlée à volonté.")],
        T0,
    )
    for query in ("cafe", "café", "CREME brulee", "volonte"):
        assert [h.title for h in store.search(query, EntryQuery())] == ["Le café de la gare"]


def test_postgres_search_uses_a_gin_index(store: SqlStore) -> None:
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL only")
    with store.engine.connect() as conn:
        index = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_entries_search'")
        ).scalar()
    assert index is not None and "gin" in index.lower() and "search_vector" in index

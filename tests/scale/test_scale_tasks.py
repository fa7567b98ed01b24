"""The work of distributed mode as plain functions (no broker): the beat's batches and a
worker's batch refresh with leases, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from feed_farm import FeedFarm

from newsdesk.settings import Settings
from newsdesk.store import EntryQuery, SqlStore, open_store
from newsdesk.workers import tasks


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    s = open_store(store_url)
    yield s
    s.close()


def test_enqueue_due_sends_batches_once(store: SqlStore, settings: Settings) -> None:
    for i in range(23):
        store.add_feed(f"http://127.0.0.1:9/{i}.rss")
    sent: list[list[int]] = []
    small = settings.replace(batch_size=10)
    assert tasks.enqueue_due(store, small, sent.append) == 23
    assert [len(b) for b in sent] == [10, 10, 3]
    assert sorted(i for b in sent for i in b) == [f.id for f in store.list_feeds()]
    # claimed: the next tick sends nothing
    assert tasks.enqueue_due(store, small, sent.append) == 0


def test_refresh_batch_skips_feeds_leased_elsewhere(store: SqlStore, settings: Settings) -> None:
    with FeedFarm(feeds=6, items=4) as farm:
        ids = [store.add_feed(url).id for url in farm.urls]
        store.leases.acquire_leases(ids[:2], "someone-else", datetime.now(UTC), 600)
        report = tasks.refresh_batch(store, settings, ids, "task:one")
        assert report.busy == ids[:2] and report.leased == ids[2:]
        assert len(report.new_ids) == 16 and report.errors == 0
        assert farm.requests.total() == 4
        # the leases were given back: the same task id (or another) can run again
        again = tasks.refresh_batch(store, settings, ids[2:], "task:two")
        assert again.leased == ids[2:] and again.new_ids == []
        assert store.count_entries(EntryQuery()) == 16
        assert store.list_entries(EntryQuery(limit=1))[0].fulltext_status in (None, "pending")

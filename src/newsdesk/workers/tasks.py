"""The work distributed mode does, as plain functions (tested without a broker) that the Celery
tasks in ``workers.app`` wrap:

* ``enqueue_due``: claim due feeds in batches and hand each batch to ``send_batch``;
* ``refresh_batch``: lease the feeds, run the same ``refresh_feeds`` as the CLI (without
  enrichment), give the leases back, return the new entry ids;
* ``enrich_batch``: expand links and extract full text for those entries (``enrich_entries``);
* ``cleanup``: everyone's retention, as `newsdesk cleanup` applies it (``store.retention``).

Each worker process opens its own store (engines are not shared across ``fork``).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from newsdesk.enrich import EnrichReport, enrich_entries
from newsdesk.fetch import HttpClient
from newsdesk.intel import IntelReport, run_intel
from newsdesk.refresh import refresh_feeds
from newsdesk.settings import Settings
from newsdesk.store import SqlStore, open_store
from newsdesk.store.retention import RetentionReport

# At most this many batches are claimed per beat tick, so one tick never floods the queue.
MAX_BATCHES_PER_TICK = 200
ENRICH_CHUNK = 200  # entries per enrichment task (``newsdesk.util.chunks``)

_stores: dict[tuple[int, str], SqlStore] = {}
_stores_lock = threading.Lock()


def store_for(settings: Settings) -> SqlStore:
    """This process's store for the configured database (opened once per process)."""
    key = (os.getpid(), settings.resolved_database_url)
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = open_store(settings.resolved_database_url)
        return store


def close_stores() -> None:
    with _stores_lock:
        for (pid, _url), store in list(_stores.items()):
            if pid == os.getpid():
                store.close()
        _stores.clear()


def enqueue_due(
    store: SqlStore,
    settings: Settings,
    send_batch: Callable[[list[int]], None],
    now: datetime | None = None,
) -> int:
    """Claim the feeds whose next check has come, ``batch_size`` at a time, and send each batch
    on; return how many feeds were enqueued."""
    now = now or datetime.now(UTC)
    sent = 0
    for _ in range(MAX_BATCHES_PER_TICK):
        batch = store.leases.claim_due_feeds(now, settings.batch_size, settings.lease_seconds)
        if not batch:
            break
        send_batch(batch)
        sent += len(batch)
        if len(batch) < settings.batch_size:
            break
    return sent


@dataclass(slots=True)
class BatchReport:
    leased: list[int] = field(default_factory=list)
    busy: list[int] = field(default_factory=list)  # leased by someone else: skipped
    new_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    errors: int = 0
    summary: str = ""


def refresh_batch(
    store: SqlStore, settings: Settings, feed_ids: Sequence[int], owner: str
) -> BatchReport:
    """Refresh the feeds of one batch that no one else holds. ``owner`` names the lease holder
    (the task id: a redelivered task takes its own leases back at once)."""
    report = BatchReport()
    now = datetime.now(UTC)
    report.leased = store.leases.acquire_leases(list(feed_ids), owner, now, settings.lease_seconds)
    report.busy = sorted(set(feed_ids) - set(report.leased))
    if not report.leased:
        return report
    # Scale comes from worker processes: no parse pool inside one (a prefork child is a
    # daemon process and may not start children).
    single = settings.replace(parse_workers=1)
    try:
        result = asyncio.run(
            refresh_feeds(store, single, feed_ids=report.leased, enrich=False, intel=False)
        )
    finally:
        store.leases.release_leases(report.leased, owner)
    report.new_ids = result.new_ids
    report.updated_ids = result.updated_ids
    report.errors = len(result.errors)
    report.summary = result.summary
    return report


def enrich_batch(store: SqlStore, settings: Settings, entry_ids: Sequence[int]) -> EnrichReport:
    """Link expansion and full text for stored entries (each entry written in its own
    transaction; running it twice refetches nothing already cached)."""

    async def run() -> EnrichReport:
        async with HttpClient(settings) as client:
            return await enrich_entries(
                store,
                client,
                settings,
                list(entry_ids),
                fulltext=settings.fulltext,
                executor=None,
                progress=None,
                now=datetime.now(UTC),
            )

    return asyncio.run(run())


def intel_batch(store: SqlStore, settings: Settings, entry_ids: Sequence[int]) -> IntelReport:
    """The intelligence stage (stories, entities, timelines, alerts) for stored entries: a
    background job of its own, after enrichment, so fetching never waits for it."""
    return run_intel(store.intel, settings, list(entry_ids))


def cleanup(store: SqlStore, settings: Settings) -> RetentionReport:
    """Everyone's retention over every feed, in batches of ``retention_batch`` entries."""
    return store.retention.apply(batch_size=settings.retention_batch)

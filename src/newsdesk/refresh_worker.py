"""What a refresh's worker process does with a group of fetched feeds: decode, parse and
process each body, judge each fetch (``refresh_state``), and store the group in one
transaction, in its own connection to the database.

The refresh process only fetches and hands bodies over (``refresh_pool.PoolWrites``); the CPU of
parsing, of building rows and of SQLite's own work (b-trees, the search index) runs in the
workers, side by side, never waiting for the refresh process's interpreter lock. On SQLite
the workers take turns to write (``pools.turns``): one writer at a time, without SQLite's
sleep-and-retry busy wait.
"""

from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from datetime import datetime

from newsdesk.fetch.encoded import BodyError, fail_body, inflate
from newsdesk.pools import turns
from newsdesk.process.document import parse_document
from newsdesk.refresh_state import FeedStates, Fetched, Stored, Verdict
from newsdesk.settings import Settings
from newsdesk.store import FeedState, Storage, open_store

log = logging.getLogger(__name__)
_stores: dict[str, Storage] = {}

# A worker copies the WAL into the database file itself (``Storage.checkpoint``) after its turn
# to write, at most once a second: the copying and its fsyncs then run while the other worker
# writes, not inside a turn (a commit copies only when the WAL outgrows ``engine.WAL_PAGES``).
# Not after every group: a page that several groups changed (the indexes') is copied once.
# In the first refresh of 10,000 feeds the turns held 7 s of fsyncs before.
CHECKPOINT_SECONDS = 1.0
_checkpointed = {"at": 0.0}  # this worker's last checkpoint, time.monotonic()


def _store(url: str) -> Storage:
    """This worker's connection to the database at ``url`` (opened once, kept for the pool's
    life)."""
    store = _stores.get(url)
    if store is None:
        store = _stores[url] = open_store(url)
    return store


def open_here(url: str) -> None:
    """Open this worker's connection to ``url`` ahead of its first group."""
    _store(url)


def _judge(states: FeedStates, fetched: Fetched) -> Verdict | None:
    """The verdict on one fetch; None: its body needs the refresh process's decoder."""
    feed, result = fetched.feed, fetched.result
    if fetched.how is not None:
        try:
            decoded = inflate(result.body, fetched.how)
        except BodyError as exc:
            fail_body(result, str(exc))
            decoded = b""
        if decoded is None:
            return None
        result.body = decoded
    verdict = states.without_document(feed, result)
    if verdict is not None:
        return verdict
    document = parse_document(result.body, result.final_url, result.content_type, states.now)
    return states.of_document(feed, result, document)


def _checkpoint_when_due(store: Storage) -> None:
    """A checkpoint when a second has passed since this worker's last. It only saves time:
    one that fails leaves the group stored and reported as stored (a commit copies the WAL
    later)."""
    now = time.monotonic()
    if now - _checkpointed["at"] >= CHECKPOINT_SECONDS:
        _checkpointed["at"] = now
        try:
            store.checkpoint()
        except Exception:
            log.warning("copying the WAL into the database failed", exc_info=True)


def parse_and_store(
    url: str, settings: Settings, now: datetime, group: list[Fetched], index_later: bool = True
) -> list[Stored]:
    """Parse the group's bodies and store them in one transaction (a feed another process
    stored at the same moment keeps that copy, as ``Storage.save_refresh_batch`` says); the
    results in the group's order. The new entries wait in the search index's queue
    (``index_later``): the refresh indexes them in bulk at its end, or leaves a first import's
    to the background job; the turns to write are a third shorter without it."""
    states = FeedStates(settings, now)
    verdicts = [_judge(states, fetched) for fetched in group]
    writes = [v for v in verdicts if v is not None and v.entries is not None]
    only_states: list[tuple[int, FeedState]] = [
        (v.outcome.feed_id, v.state) for v in verdicts if v is not None and v.entries is None
    ]
    store = _store(url)
    lock = turns() if store.dialect == "sqlite" else None  # type: ignore[attr-defined]
    with lock if lock is not None else nullcontext():
        results = store.save_refresh_batch(
            [(v.outcome.feed_id, v.state, v.entries or []) for v in writes],
            now,
            index_later=index_later,
        )
        store.save_fetch_states(only_states)
    if lock is not None:
        _checkpoint_when_due(store)
    stored = {id(v): r for v, r in zip(writes, results, strict=True)}
    done: list[Stored] = []
    for verdict in verdicts:
        if verdict is None:
            done.append(Stored(None, left=True))
            continue
        result = stored.get(id(verdict))
        if result is None:
            done.append(Stored(verdict.outcome))
            continue
        outcome = verdict.outcome
        outcome.new, outcome.updated = len(result.new_ids), len(result.updated_ids)
        outcome.error = result.error
        done.append(Stored(outcome, result.new_ids, result.updated_ids))
    return done

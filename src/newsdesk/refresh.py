"""The orchestrator: feeds → fetch → parse → process → store, then enrich the new entries.

Fetches run concurrently on the event loop (limits in the HTTP client); each fetched document is
parsed, processed and stored in one writer thread, one transaction per feed, so the loop keeps
fetching while documents are crunched and SQLite sees a single writer. A fetch that brings no
document (a 304, an error) only changes its feed's fetch state: the loop queues it and the writer
stores such states in bulk. One feed's failure is
recorded on that feed and never stops the others. The CLI, the daemon and Celery tasks all call
``refresh_feeds``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from newsdesk import schedule
from newsdesk.enrich import EnrichReport, enrich_entries, refresh_icons, unwrap_links
from newsdesk.fetch.encoded import decode_here, decoding, fail_body
from newsdesk.fetch.gates import FetchGates
from newsdesk.model import Entry, Feed, FetchResult
from newsdesk.settings import Settings
from newsdesk.store import FeedState, Storage

# The parser stack, processing (lxml, nh3, courlan), process pools, the intelligence stage (and
# aiohttp, when nothing is due) are imported where a 200 body or new entries need them: an
# unchanged refresh (all 304) is mostly start-up, and these would be most of it.
if TYPE_CHECKING:
    from newsdesk.fetch import HttpClient
    from newsdesk.intel import IntelReport
    from newsdesk.process.document import ParsedDocument

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): stage is "fetch" or "fulltext"."""

STATE_BATCH = 500
# Parsed feeds are written in groups: one transaction (and one search-index flush) for up to this
# many feeds or entries, written in bulk; each feed stays atomic (a conflict rewrites the batch
# with a savepoint per feed, see store.sql_refresh).
WRITE_BATCH_FEEDS = 25
WRITE_BATCH_ENTRIES = 1500
PARSE_POOL_MIN_FEEDS = 100
log = logging.getLogger(__name__)


@dataclass(slots=True)
class FeedOutcome:
    feed_id: int
    url: str
    title: str
    new: int = 0
    updated: int = 0
    not_modified: bool = False
    error: str | None = None


@dataclass(slots=True)
class RefreshReport:
    feeds: int = 0
    new_entries: int = 0
    updated_entries: int = 0
    not_modified: int = 0
    # Feeds not fetched because a graceful stop was asked for.
    skipped: int = 0
    seconds: float = 0.0
    outcomes: list[FeedOutcome] = field(default_factory=list)
    new_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    enrich: EnrichReport = field(default_factory=EnrichReport)
    intel: IntelReport | None = None
    # Entries left to the background job (more than ``intel_inline_max``).
    intel_deferred: int = 0

    @property
    def errors(self) -> list[FeedOutcome]:
        return [o for o in self.outcomes if o.error]

    @property
    def summary(self) -> str:
        text = (
            f"{self.feeds} feeds, {self.new_entries} new entries, {len(self.errors)} errors "
            f"({self.not_modified} unchanged, {self.updated_entries} updated"
        )
        if self.enrich.pages_fetched or self.enrich.links_expanded:
            text += (
                f", {self.enrich.links_expanded} links expanded, "
                f"{self.enrich.fulltext_done} full texts, {self.enrich.fulltext_failed} failed"
            )
        text += f") in {self.seconds:.2f} s"
        if self.intel is not None and self.intel.summary:
            text += f"\n{self.intel.summary}"
        if self.intel_deferred:
            text += (
                f"\n{self.intel_deferred} entries left for the background job (stories, "
                "entities, events, alerts; more than intel_inline_max): `newsdesk run` or "
                "the workers read them, or run `newsdesk intel`"
            )
        return text


class _FeedRefresher:
    """State for one run: the store, the writer thread, pending fetch states, the report."""

    def __init__(self, store: Storage, settings: Settings, now: datetime) -> None:
        self.store = store
        self.settings = settings
        self.now = now
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsdesk-writer")
        # States to write: those the writer thread queues, and those the event loop does.
        self.pending_states: list[tuple[int, FeedState]] = []
        self.loop_states: list[tuple[int, FeedState]] = []
        self.lock = threading.Lock()
        self.pending_writes: list[tuple[FeedOutcome, FeedState, list[Entry]]] = []
        self.pending_entries = 0
        self.report = RefreshReport()
        from newsdesk.store.feed_options import FetchKeys
        from newsdesk.store.server_key import server_key

        self.keys = FetchKeys(lambda: server_key(settings))  # each feed's own headers

    def _base_state(self, feed: Feed, result: FetchResult) -> FeedState:
        state = FeedState(
            last_fetched=self.now,
            last_status=result.status,
            etag=result.etag,
            last_modified=result.last_modified,
        )
        if result.permanent_redirect and result.permanent_redirect != feed.url:
            # A move is believed once seen on consecutive fetches.
            count = feed.pending_count if feed.pending_url == result.permanent_redirect else 0
            state.pending_url, state.pending_count = result.permanent_redirect, count + 1
            if state.pending_count >= 2:
                state.new_url = state.pending_url
        return state

    def _hints(
        self, result: FetchResult, ttl: int | None, feed: Feed | None = None
    ) -> schedule.Hints:
        if feed is not None and feed.options.ignore_cache_hints:  # a rate limit still counts
            return schedule.Hints(retry_after=result.retry_after, status=result.status)
        return schedule.Hints(
            ttl_minutes=ttl,
            cache_control=result.cache_control,
            expires=result.expires,
            retry_after=result.retry_after,
            status=result.status,
        )

    def _fail(self, feed: Feed, state: FeedState, message: str, result: FetchResult) -> None:
        state.error = message
        state.etag = state.last_modified = None
        errors = feed.error_count + 1
        state.next_check = schedule.next_check(
            self.now, self.settings, error_count=errors, hints=self._hints(result, None)
        )
        if result.status == 410:
            state.paused_reason = "the server says the feed is gone for good (HTTP 410)"
        elif feed.error_since and self.now - feed.error_since > timedelta(
            days=self.settings.pause_after_days
        ):
            state.paused_reason = (
                f"failing for more than {self.settings.pause_after_days} days: {message}"
            )

    def handle_fetch(
        self, feed: Feed, result: FetchResult, document: ParsedDocument | str | None = None
    ) -> None:
        """Runs in the writer thread: parse and process one fetched feed (unless a worker
        process already did), queue its write."""
        outcome = self._handle(feed, result, document)
        if outcome is not None:
            self.record(outcome)

    def settle(self, feed: Feed, result: FetchResult) -> list[tuple[int, FeedState]] | None:
        """On the event loop: a fetch that brought no document (a 304, an error) is only a
        state to write, queued here without a trip to the writer thread for each feed (most of
        an unchanged refresh). Returns a batch of states for the writer once enough wait."""
        outcome = FeedOutcome(feed.id, feed.url, feed.display_title)
        state = self._base_state(feed, result)
        if not self._settled(feed, result, outcome, state):
            raise ValueError("settle() takes a fetch without a document")
        self.record(outcome)
        self.loop_states.append((feed.id, state))
        if len(self.loop_states) < STATE_BATCH:
            return None
        states, self.loop_states = self.loop_states, []
        return states

    def _settled(
        self, feed: Feed, result: FetchResult, outcome: FeedOutcome, state: FeedState
    ) -> bool:
        """True, with ``outcome`` and ``state`` filled in, when ``result`` brought no
        document to parse: an error, or not modified."""
        if result.error is not None:
            self._fail(feed, state, result.error, result)
            outcome.error = result.error
            return True
        if result.not_modified:
            outcome.not_modified = True
            state.next_check = schedule.next_check(
                self.now,
                self.settings,
                entries_per_day=feed.entries_per_day,
                hints=self._hints(result, feed.ttl_minutes, feed),
                interval_override=feed.check_interval,
            )
            return True
        return False

    def _handle(
        self, feed: Feed, result: FetchResult, document: ParsedDocument | str | None
    ) -> FeedOutcome | None:
        outcome = FeedOutcome(feed.id, feed.url, feed.display_title)
        state = self._base_state(feed, result)
        if self._settled(feed, result, outcome, state):
            self._queue_state(feed.id, state)
            return outcome
        if document is None:
            from newsdesk.process.document import parse_document

            document = parse_document(result.body, result.final_url, result.content_type, self.now)
        if isinstance(document, str):
            self._fail(feed, state, document, result)
            outcome.error = document
            self._queue_state(feed.id, state)
            return outcome
        parsed, batch = document, document.entries
        if feed.options.fulltext is not None:  # the feed's own choice over the setting's
            for entry in batch:
                entry.wants_fulltext = feed.options.fulltext and entry.kind == "article"
        state.title = parsed.title
        state.site_url = parsed.site_url
        state.problems = parsed.problems
        state.ttl_minutes = parsed.ttl_minutes
        dated = [e.published for e in batch if e.date_from_feed]
        # Undated feeds tell us nothing about their pace (None: the default interval).
        state.entries_per_day = schedule.entries_per_day(dated, self.now) if dated else None
        state.next_check = schedule.next_check(
            self.now,
            self.settings,
            entries_per_day=state.entries_per_day,
            hints=self._hints(result, parsed.ttl_minutes, feed),
            interval_override=feed.check_interval,
        )
        if parsed.title:
            outcome.title = feed.custom_title or parsed.title
        self.pending_writes.append((outcome, state, batch))
        self.pending_entries += len(batch)
        if (
            len(self.pending_writes) >= WRITE_BATCH_FEEDS
            or self.pending_entries >= WRITE_BATCH_ENTRIES
        ):
            self.flush_writes()
        return None

    def flush_writes(self) -> None:
        """Store the queued feeds in one transaction. A feed another process stored at the same
        moment (its lease expired or was bypassed) keeps that copy; this one is discarded."""
        writes, self.pending_writes, self.pending_entries = self.pending_writes, [], 0
        if not writes:
            return
        results = self.store.save_refresh_batch(
            [(outcome.feed_id, state, batch) for outcome, state, batch in writes], self.now
        )
        for (outcome, _state, _batch), stored in zip(writes, results, strict=True):
            outcome.new, outcome.updated = len(stored.new_ids), len(stored.updated_ids)
            outcome.error = stored.error
            self.report.new_ids.extend(stored.new_ids)
            self.report.updated_ids.extend(stored.updated_ids)
            self.record(outcome)

    def _queue_state(self, feed_id: int, state: FeedState) -> None:
        self.pending_states.append((feed_id, state))
        if len(self.pending_states) >= STATE_BATCH:
            states, self.pending_states = self.pending_states, []
            self.store.save_fetch_states(states)

    def flush(self) -> None:
        """In the writer thread, once every fetch is done: write what is still queued."""
        self.flush_writes()
        states = self.pending_states + self.loop_states
        self.pending_states, self.loop_states = [], []
        self.store.save_fetch_states(states)

    def record(self, outcome: FeedOutcome) -> None:
        with self.lock:  # the event loop (settle) and the writer thread both count
            r = self.report
            r.outcomes.append(outcome)
            r.new_entries += outcome.new
            r.updated_entries += outcome.updated
            r.not_modified += outcome.not_modified


async def refresh_feeds(
    store: Storage,
    settings: Settings,
    *,
    feed_ids: Sequence[int] | None = None,
    due_only: bool = False,
    fulltext: bool | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
    enrich: bool = True,
    intel: bool = True,
    stop: asyncio.Event | None = None,
) -> RefreshReport:
    """Refresh the given feeds (default: every feed not paused; ``due_only``: those whose next
    check has come), then expand links and extract full text for the new and edited entries
    (unless ``enrich`` is false: distributed mode enriches in a task of its own).

    When ``stop`` is set (graceful shutdown), no new fetch starts: fetches in flight finish and
    are stored, the feeds not reached keep their next check, and enrichment is skipped.

    Last, unless ``intel`` is false, the new and changed entries go through the intelligence
    stage (stories, entities, timelines, alerts: ``newsdesk.intel``) — up to
    ``intel_inline_max`` of them; a bigger batch is left to the background job."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    # These feeds, else the due ones, else every feed not paused: what a fetch needs, in one query.
    due = now if due_only and feed_ids is None else None
    feeds = await asyncio.to_thread(store.feeds_to_fetch, feed_ids, due=due)
    runner = _FeedRefresher(store, settings, now)
    runner.report.feeds = len(feeds)
    parser = _DocumentParser(settings, now, len(feeds))
    try:
        if feeds:  # nothing to fetch (none due): no HTTP client, nor its import (aiohttp)
            from newsdesk.fetch import HttpClient

            async with HttpClient(settings) as client:
                await _fetch_and_store(runner, client, feeds, parser, stop, progress)
                if not _stopping(stop):
                    use_fulltext = settings.fulltext if fulltext is None else fulltext
                    await _enrich_and_icons(
                        runner, client, feeds, progress, enrich=enrich, fulltext=use_fulltext
                    )
    finally:
        runner.writer.shutdown(wait=True)
        parser.shutdown()
    if intel:
        await _intel_inline(runner, stop, progress)
    runner.report.seconds = time.perf_counter() - started
    return runner.report


def _stopping(stop: asyncio.Event | None) -> bool:
    return stop is not None and stop.is_set()


class _DocumentParser:
    """Parsing and processing are CPU work: worth other cores only for a big run (a pool costs
    its start-up; an unchanged refresh, all 304s, never starts one). Without a pool ``parse``
    returns None and the writer thread parses."""

    def __init__(self, settings: Settings, now: datetime, feeds: int) -> None:
        self.settings = settings
        self.now = now
        self.use_pool = settings.parse_workers > 1 and feeds >= PARSE_POOL_MIN_FEEDS
        self.pool: Executor | None = None

    async def parse(self, result: FetchResult) -> ParsedDocument | str | None:
        """The document, parsed (and decoded) in the pool; None: the writer thread parses, or
        the body failed the fetch as the HTTP client fails bodies (``result.error``)."""
        if not self.use_pool or result.error is not None or result.not_modified:
            return None
        if self.pool is None:
            from newsdesk.pools import can_start_processes, process_pool

            if not can_start_processes():  # a daemonic process: the writer thread parses
                self.use_pool = False
                decode_here(result)
                return None
            self.pool = process_pool(self.settings.parse_workers)
        from newsdesk.process.document import ParsedDocument, parse_fetched

        run = asyncio.get_running_loop().run_in_executor
        args = (result.final_url, result.content_type, self.now)
        found = await run(self.pool, parse_fetched, result.body, decoding(result), *args)
        if found is None and decode_here(result):  # a body for aiohttp's decoder (here)
            found = await run(self.pool, parse_fetched, result.body, None, *args)
        if found is None or isinstance(found, str):
            return found
        if len(found) == 1:
            fail_body(result, found[0])
            return None
        title, site_url, problems, ttl, entries = found
        from newsdesk.process.entry_wire import unpack_entries

        return ParsedDocument(title, site_url, problems, ttl, unpack_entries(entries))

    def shutdown(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)


async def _fetch_and_store(
    runner: _FeedRefresher,
    client: HttpClient,
    feeds: list[Feed],
    parser: _DocumentParser,
    stop: asyncio.Event | None,
    progress: Progress | None,
) -> None:
    """Fetch every feed (those not started when ``stop`` is set are skipped), parse it and
    hand it to the writer thread; then write what is still queued."""
    loop = asyncio.get_running_loop()
    gates = FetchGates(runner.settings)
    done = 0

    async def one(feed: Feed) -> None:
        nonlocal done
        async with gates.backlog:
            async with gates.host(feed.url), gates.fetching:
                if _stopping(stop):
                    runner.report.skipped += 1
                    return
                fresh = feed.options.ignore_cache_hints  # no conditional GET
                result = await client.fetch(
                    feed.url,
                    etag=None if fresh else feed.etag,
                    last_modified=None if fresh else feed.last_modified,
                    headers=runner.keys.headers(feed),
                    decode=not parser.use_pool,  # the pool decodes
                )
            document = await parser.parse(result)  # may fail the fetch (its body)
            if result.error is not None or result.not_modified:
                states = runner.settle(feed, result)
                if states:
                    await loop.run_in_executor(
                        runner.writer, runner.store.save_fetch_states, states
                    )
            else:
                if feed.options.unwrap_redirects:
                    document = await _unwrapped(runner, client, result, document)
                await loop.run_in_executor(
                    runner.writer, runner.handle_fetch, feed, result, document
                )
        done += 1
        if progress:
            progress("fetch", done, len(feeds))

    await asyncio.gather(*(one(feed) for feed in feeds))
    await loop.run_in_executor(runner.writer, runner.flush)


async def _unwrapped(
    runner: _FeedRefresher,
    client: HttpClient,
    result: FetchResult,
    document: ParsedDocument | str | None,
) -> ParsedDocument | str:
    """The document with its entries' links unwrapped (followed through their redirects)."""
    if document is None:
        from newsdesk.process.document import parse_document

        document = await asyncio.get_running_loop().run_in_executor(
            None, parse_document, result.body, result.final_url, result.content_type, runner.now
        )
    if not isinstance(document, str):
        store, settings = runner.store, runner.settings
        await unwrap_links(store, client, settings, document.entries, runner.writer, runner.now)
    return document


async def _enrich_and_icons(
    runner: _FeedRefresher,
    client: HttpClient,
    feeds: list[Feed],
    progress: Progress | None,
    *,
    enrich: bool,
    fulltext: bool,
) -> None:
    """Enrich the new and edited entries (when ``enrich``), with the feeds' site icons fetched
    alongside. Edited entries too: an edit puts back the feed's raw
    links (short links) and, when an article's link changed, asks for its full text again."""
    store, settings, report = runner.store, runner.settings, runner.report
    icons = None
    if settings.icons:
        icons = asyncio.create_task(_icons_quietly(runner, client, [f.id for f in feeds]))
    try:
        edited = report.new_ids + report.updated_ids
        if edited and enrich:
            report.enrich = await enrich_entries(
                store,
                client,
                settings,
                edited,
                fulltext=fulltext,
                executor=runner.writer,
                progress=progress,
                now=runner.now,
                feeds=feeds,
            )
    finally:
        if icons is not None:
            await icons


async def _intel_inline(
    runner: _FeedRefresher, stop: asyncio.Event | None, progress: Progress | None
) -> None:
    """The intelligence stage on the new and changed entries, unless there are more than
    ``intel_inline_max`` of them (left to the background job) or a stop was asked for."""
    settings, report = runner.settings, runner.report
    changed = report.new_ids + report.updated_ids
    if not changed:
        return
    from newsdesk.intel import intel_wanted, run_intel

    if not intel_wanted(settings):
        return
    intel_store = getattr(runner.store, "intel", None)  # a store without the stage's part: skip
    if intel_store is None:
        return
    if len(changed) > settings.intel_inline_max:
        report.intel_deferred = len(changed)
        if settings.rules:  # cheap (SQL alone), and a blocked entry must not wait for the rest
            from newsdesk.rules import apply_new

            rules = getattr(intel_store, "rules", None)
            if rules is not None:
                await asyncio.to_thread(apply_new, rules, changed)
    elif not _stopping(stop):
        if progress:
            progress("intel", 0, len(changed))
        report.intel = await asyncio.to_thread(run_intel, intel_store, settings, changed)
        if progress:
            progress("intel", len(changed), len(changed))


async def _icons_quietly(runner: _FeedRefresher, client: HttpClient, feed_ids: list[int]) -> None:
    """Site icons, alongside enrichment: whatever goes wrong here is logged and never changes
    the refresh's result."""
    store, settings, now = runner.store, runner.settings, runner.now
    try:
        await refresh_icons(store, client, settings, feed_ids, executor=runner.writer, now=now)
    except Exception:
        log.exception("fetching site icons failed")


def refresh_sync(store: Storage, settings: Settings, **kwargs: object) -> RefreshReport:
    """``refresh_feeds`` for synchronous callers (CLI, Celery tasks)."""
    return asyncio.run(refresh_feeds(store, settings, **kwargs))  # type: ignore[arg-type]

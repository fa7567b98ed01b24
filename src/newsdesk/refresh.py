"""The orchestrator: feeds → fetch → parse → process → store, then enrich the new entries.

Fetches run concurrently on the event loop (limits in the HTTP client). In a big run the
fetched documents go in groups to the parse workers, which parse, process and store them,
one transaction a group (``refresh_pool``, ``refresh_worker``); otherwise each is parsed and
processed in one writer thread and stored several feeds a transaction. Either way SQLite sees
one writer at a time, and a fetch is judged by the same code (``refresh_state``). A fetch that
brings no document (a 304, an error) only changes its feed's fetch state: the loop queues it
and the writer stores such states in bulk. One feed's failure is recorded on that feed and
never stops the others. The CLI, the daemon and Celery tasks all call ``refresh_feeds``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from newsdesk.enrich import EnrichReport, enrich_entries, refresh_icons, unwrap_links
from newsdesk.fetch.encoded import decode_here
from newsdesk.fetch.gates import FetchGates
from newsdesk.model import Entry, Feed, FetchResult
from newsdesk.refresh_pool import DocumentParser, PoolWrites
from newsdesk.refresh_state import FeedOutcome, FeedStates
from newsdesk.settings import Settings
from newsdesk.store import FeedState, Storage

# The parser stack, processing (lxml, nh3, courlan), process pools, the intelligence stage (and
# aiohttp, when nothing is due) are imported where a 200 body or new entries need them: an
# unchanged refresh (all 304) is mostly start-up, and these would be most of it.
if TYPE_CHECKING:
    from newsdesk.fetch import HttpClient
    from newsdesk.intel import IntelReport
    from newsdesk.process.document import ParsedDocument
    from newsdesk.refresh_state import Stored

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): stage is "fetch" or "fulltext"."""

STATE_BATCH = 500
# Parsed feeds are written in groups: one transaction (and one search-index flush) for up to this
# many feeds or entries, written in bulk; each feed stays atomic (a conflict rewrites the batch
# with a savepoint per feed, see store.sql_refresh).
WRITE_BATCH_FEEDS = 25
WRITE_BATCH_ENTRIES = 1500
PARSE_POOL_MIN_FEEDS = 100
ICON_GROUP = 50  # feeds whose site icons are looked for at once during a pooled refresh
log = logging.getLogger(__name__)


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
    # New entries left in the search index's queue for the background job (a first import).
    search_deferred: int = 0

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
            search = "search index, " if self.search_deferred else ""
            text += (
                f"\n{self.intel_deferred} entries left for the background job ({search}stories, "
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
        # The parse workers stored entries: new ones wait in the search index's queue.
        self.pooled = False
        # Their writes copied into the database file while enrichment goes on (``_copy_wal``).
        self.copying: asyncio.Task[None] | None = None
        self.states = FeedStates(settings, now)
        self.early_icons = _EarlyIcons(self)
        from newsdesk.store.feed_options import FetchKeys
        from newsdesk.store.server_key import server_key

        self.keys = FetchKeys(lambda: server_key(settings))  # each feed's own headers

    def handle_fetch(
        self, feed: Feed, result: FetchResult, document: ParsedDocument | str | None = None
    ) -> None:
        """Runs in the writer thread: parse and process one fetched feed (unless a worker
        process already did), queue its write."""
        verdict = self.states.without_document(feed, result)
        if verdict is None:
            if document is None:
                from newsdesk.process.document import parse_document

                document = parse_document(
                    result.body, result.final_url, result.content_type, self.now
                )
            verdict = self.states.of_document(feed, result, document)
        if verdict.entries is None:
            self._queue_state(feed.id, verdict.state)
            self.record(verdict.outcome)
            return
        self.pending_writes.append((verdict.outcome, verdict.state, verdict.entries))
        self.pending_entries += len(verdict.entries)
        if (
            len(self.pending_writes) >= WRITE_BATCH_FEEDS
            or self.pending_entries >= WRITE_BATCH_ENTRIES
        ):
            self.flush_writes()

    def settle(self, feed: Feed, result: FetchResult) -> list[tuple[int, FeedState]] | None:
        """On the event loop: a fetch that brought no document (a 304, an error) is only a
        state to write, queued here without a trip to the writer thread for each feed (most of
        an unchanged refresh). Returns a batch of states for the writer once enough wait."""
        verdict = self.states.without_document(feed, result)
        if verdict is None:
            raise ValueError("settle() takes a fetch without a document")
        self.record(verdict.outcome)
        self.loop_states.append((feed.id, verdict.state))
        if len(self.loop_states) < STATE_BATCH:
            return None
        states, self.loop_states = self.loop_states, []
        return states

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

    def stored(self, one: Stored) -> None:
        """A feed a parse worker stored (``refresh_pool.PoolWrites``)."""
        if one.outcome is not None:
            self.report.new_ids.extend(one.new_ids)
            self.report.updated_ids.extend(one.updated_ids)
            self.record(one.outcome)
            self.early_icons.add(one.outcome.feed_id)

    def record(self, outcome: FeedOutcome) -> None:
        with self.lock:  # the event loop (settle) and the writer thread both count
            r = self.report
            r.outcomes.append(outcome)
            r.new_entries += outcome.new
            r.updated_entries += outcome.updated
            r.not_modified += outcome.not_modified


class _EarlyIcons:
    """Site icons of the feeds the parse workers stored, fetched on the event loop while the
    workers parse the rest (once a ``client`` is set), in calls of ``ICON_GROUP`` feeds, one
    after the other: a site fetched by one call is not due for the next. The refresh's own
    call at the end (``_enrich_and_icons``) then finds little left to do."""

    def __init__(self, runner: _FeedRefresher) -> None:
        self.runner = runner
        self.client: HttpClient | None = None
        self.feed_ids: list[int] = []
        self.task: asyncio.Task[None] | None = None

    def add(self, feed_id: int) -> None:
        if self.client is None:
            return
        self.feed_ids.append(feed_id)
        if len(self.feed_ids) >= ICON_GROUP:
            self._start()

    def _start(self) -> None:
        runner, client, before = self.runner, self.client, self.task
        feed_ids, self.feed_ids = self.feed_ids, []
        assert client is not None

        async def after_the_last() -> None:
            if before is not None:
                await before
            await _icons_quietly(runner, client, feed_ids)

        self.task = asyncio.get_running_loop().create_task(after_the_last())

    async def done(self) -> None:
        """Wait for the calls started (the last feeds are the refresh's own call's)."""
        if self.task is not None:
            await self.task


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
    parser = DocumentParser(settings, now, use_pool=len(feeds) >= PARSE_POOL_MIN_FEEDS)
    url = _shared_url(store) if parser.use_pool else None
    warming = None
    if url is not None and sum(_bodies_likely(feed) for feed in feeds) >= PARSE_POOL_MIN_FEEDS:
        parser.prestart()
        warming = asyncio.create_task(asyncio.to_thread(parser.warm, url))
    try:
        if feeds:  # nothing to fetch (none due): no HTTP client, nor its import (aiohttp)
            from newsdesk.fetch import HttpClient

            async with HttpClient(settings) as client:
                try:
                    await _fetch_and_store(runner, client, feeds, parser, url, stop, progress)
                    _copy_wal(runner)
                    if not _stopping(stop):
                        use_fulltext = settings.fulltext if fulltext is None else fulltext
                        await _enrich_and_icons(
                            runner, client, feeds, progress, enrich=enrich, fulltext=use_fulltext
                        )
                finally:
                    await runner.early_icons.done()
    finally:
        if warming is not None:
            await warming
        runner.writer.shutdown(wait=True)
        parser.shutdown()
    await _index_queued(runner, intel=intel)
    if intel:
        await _intel_inline(runner, stop, progress)
    if runner.copying is not None:
        await runner.copying
    runner.report.seconds = time.perf_counter() - started
    return runner.report


def _stopping(stop: asyncio.Event | None) -> bool:
    return stop is not None and stop.is_set()


async def _fetch_and_store(
    runner: _FeedRefresher,
    client: HttpClient,
    feeds: list[Feed],
    parser: DocumentParser,
    url: str | None,
    stop: asyncio.Event | None,
    progress: Progress | None,
) -> None:
    """Fetch every feed (those not started when ``stop`` is set are skipped), parse it and
    store it: in groups by the parse workers (``PoolWrites``), else through the writer
    thread; then write what is still queued."""
    loop = asyncio.get_running_loop()
    gates = FetchGates(runner.settings)
    done = 0
    pooled: PoolWrites | None = None
    if url is not None:
        from newsdesk.pools import can_start_processes

        if can_start_processes():
            pooled = PoolWrites(parser, url, runner.stored)
            runner.pooled = True
            if runner.settings.icons:
                runner.early_icons.client = client

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
            await _store_one(runner, client, parser, pooled, feed, result)
        done += 1
        if progress:
            progress("fetch", done, len(feeds))

    await asyncio.gather(*(one(feed) for feed in feeds))
    await loop.run_in_executor(runner.writer, runner.flush)


async def _store_one(
    runner: _FeedRefresher,
    client: HttpClient,
    parser: DocumentParser,
    pooled: PoolWrites | None,
    feed: Feed,
    result: FetchResult,
) -> None:
    """Parse and store one fetch: by a worker when ``pooled`` (but a feed whose links are
    unwrapped here), else in the writer thread."""
    loop = asyncio.get_running_loop()
    wanted = result.error is None and not result.not_modified
    if pooled is not None and wanted and not feed.options.unwrap_redirects:
        if not (await pooled.store(feed, result)).left:
            return
        if not decode_here(result):  # a body for aiohttp's decoder (here), or a failed one
            wanted = False
    document = await parser.parse(result) if wanted else None  # may fail the fetch (its body)
    if result.error is not None or result.not_modified:
        states = runner.settle(feed, result)
        if states:
            await loop.run_in_executor(runner.writer, runner.store.save_fetch_states, states)
        return
    if feed.options.unwrap_redirects:
        document = await _unwrapped(runner, client, result, document)
    await loop.run_in_executor(runner.writer, runner.handle_fetch, feed, result, document)


def _bodies_likely(feed: Feed) -> bool:
    """A fetch of ``feed`` will likely bring a document to parse: it has no validators for a
    conditional GET (never fetched, or its server sends none), or does not use them."""
    plain = feed.etag is None and feed.last_modified is None
    return plain or feed.options.ignore_cache_hints


def _shared_url(store: Storage) -> str | None:
    """The URL the workers open the store's database with (``SqlStore.shared_url``); None for
    an in-memory database, or a store without one."""
    url = getattr(store, "shared_url", None)
    return url if isinstance(url, str) else None


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
        ids = [f.id for f in feeds]
        icons = asyncio.create_task(_icons_quietly(runner, client, ids, runner.early_icons))
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


def _copy_wal(runner: _FeedRefresher) -> None:
    """Once the parse workers have stored every group: copy what they wrote (up to a second of
    it, ``refresh_worker.CHECKPOINT_SECONDS``) into the database file in a thread, while
    enrichment reads; the last connection's close had to do it, alone, at the very end (about
    0.1 s for a first refresh of 1,000 feeds). It only saves time: a failure is logged."""
    if not runner.pooled:
        return

    def copy() -> None:
        try:
            runner.store.checkpoint()
        except Exception:
            log.warning("copying the WAL into the database failed", exc_info=True)

    runner.copying = asyncio.get_running_loop().create_task(asyncio.to_thread(copy))


def _left_to_background(runner: _FeedRefresher) -> bool:
    """Whether the new and changed entries are too many for the intelligence stage here (more
    than ``intel_inline_max``: a first import), so that the background job takes them."""
    report, settings = runner.report, runner.settings
    if len(report.new_ids) + len(report.updated_ids) <= settings.intel_inline_max:
        return False
    from newsdesk.intel import intel_wanted

    return intel_wanted(settings) and getattr(runner.store, "intel", None) is not None


def _rules_search_now(runner: _FeedRefresher) -> bool:
    """Whether this refresh applies rules before it returns (a first import's included), which
    search the index: then the index cannot wait."""
    if not runner.settings.rules:
        return False
    rules = getattr(getattr(runner.store, "intel", None), "rules", None)
    return rules is not None and bool(rules.enabled_rules())


async def _index_queued(runner: _FeedRefresher, *, intel: bool) -> None:
    """The new entries the parse workers queued for the search index: indexed now, in bulk
    (one statement per 5,000 entries: a quarter cheaper than a statement per group, and out
    of the workers' turns to write), unless a first import leaves them to the background job,
    which indexes them before its stories and alerts (``run_intel``). Until then searches
    do not find them (``newsdesk search`` indexes first)."""
    report = runner.report
    if not runner.pooled or not report.new_ids:
        return
    if _left_to_background(runner) and not (
        intel and await asyncio.to_thread(_rules_search_now, runner)
    ):
        report.search_deferred = len(report.new_ids)
        return
    await asyncio.to_thread(runner.store.index_queued_search, min(report.new_ids))


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


async def _icons_quietly(
    runner: _FeedRefresher,
    client: HttpClient,
    feed_ids: list[int],
    after: _EarlyIcons | None = None,
) -> None:
    """Site icons, alongside enrichment (once the calls of ``after`` are done): whatever goes
    wrong here is logged and never changes the refresh's result."""
    store, settings, now = runner.store, runner.settings, runner.now
    if after is not None:
        await after.done()
    try:
        await refresh_icons(store, client, settings, feed_ids, executor=runner.writer, now=now)
    except Exception:
        log.exception("fetching site icons failed")


def refresh_sync(store: Storage, settings: Settings, **kwargs: object) -> RefreshReport:
    """``refresh_feeds`` for synchronous callers (CLI, Celery tasks)."""
    return asyncio.run(refresh_feeds(store, settings, **kwargs))  # type: ignore[arg-type]

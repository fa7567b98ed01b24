"""The refresh process's side of the parse workers (a big refresh's process pool): documents
parsed there one at a time (``DocumentParser.parse``), or fetched feeds handed over in groups
that the workers parse and store themselves (``PoolWrites``, ``refresh_worker``).

The pool's start-up costs about a second: an unchanged refresh (all 304s) never starts one, and
a first refresh starts it in a thread beside its first fetches (``DocumentParser.warm``)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from newsdesk.fetch.encoded import decode_here, decoding, fail_body
from newsdesk.model import Feed, FetchResult
from newsdesk.settings import Settings

if TYPE_CHECKING:
    from newsdesk.process.document import ParsedDocument
    from newsdesk.refresh_state import Fetched, Stored

# A group for a worker to parse and store: at most this many feeds, or bodies (as fetched).
GROUP_FEEDS = 25
GROUP_BYTES = 4 * 1024 * 1024
log = logging.getLogger(__name__)
# What the workers run, by name: this process need not import the parse stack (the pool's
# fork server loads it, ``pools.FORKSERVER_PRELOAD``).
_WORKER = "newsdesk.refresh_worker"


class DocumentParser:
    """Parsing and processing are CPU work: worth other cores only for a big run (a pool costs
    its start-up; an unchanged refresh, all 304s, never starts one). Without a pool ``parse``
    returns None and the writer thread parses."""

    def __init__(self, settings: Settings, now: datetime, *, use_pool: bool) -> None:
        self.settings = settings
        self.now = now
        self.use_pool = use_pool and settings.parse_workers > 1
        self.pool: Executor | None = None
        self.starting = threading.Lock()  # the event loop's thread, or ``warm``'s

    def start(self) -> Executor | None:
        """The pool, started now; None in a daemonic process (the writer thread parses)."""
        with self.starting:
            if self.pool is None and self.use_pool:
                from newsdesk.pools import can_start_processes, process_pool

                if can_start_processes():
                    self.pool = process_pool(self.settings.parse_workers)
                else:
                    self.use_pool = False
            return self.pool

    def prestart(self) -> None:
        """Start the pool's fork server now (a few milliseconds here): it loads the parse stack
        on another core while this process goes on, before ``warm`` (in a thread) needs it."""
        from newsdesk.pools import can_start_processes, start_fork_server

        if self.use_pool and can_start_processes():
            start_fork_server()

    def warm(self, url: str) -> None:
        """In a thread, while the first feeds are fetched: start the pool and its workers,
        each with its connection to the database open (their start-up, about half a second,
        is otherwise waited for by the first group)."""
        from newsdesk.pools import call_in

        pool = self.start()
        if pool is None:
            return
        try:
            workers = range(self.settings.parse_workers)  # each submit starts a worker
            for started in [pool.submit(call_in, _WORKER, "open_here", url) for _ in workers]:
                started.result()
        except Exception:  # the groups meet the same failure, and report it
            log.debug("warming the parse workers failed", exc_info=True)

    async def parse(self, result: FetchResult) -> ParsedDocument | str | None:
        """The document, parsed (and decoded) in the pool; None: the writer thread parses, or
        the body failed the fetch as the HTTP client fails bodies (``result.error``)."""
        if not self.use_pool or result.error is not None or result.not_modified:
            return None
        if self.start() is None:  # a daemonic process: the writer thread parses
            decode_here(result)
            return None
        assert self.pool is not None
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


class PoolWrites:
    """Fetched documents handed to the parse workers in groups, each group parsed and stored
    by one worker in one transaction (``refresh_worker``): the refresh process only fetches.
    A group leaves as soon as a worker is idle, else once it holds ``GROUP_FEEDS`` feeds or
    ``GROUP_BYTES`` of bodies, so groups grow while the workers are busy. ``on_stored`` hears
    of each feed stored (on the event loop)."""

    def __init__(
        self, parser: DocumentParser, url: str, on_stored: Callable[[Stored], None]
    ) -> None:
        self.parser, self.url, self.on_stored = parser, url, on_stored
        self.workers = parser.settings.parse_workers
        self.group: list[tuple[Fetched, asyncio.Future[Stored]]] = []
        self.bytes = 0
        self.running = 0

    async def store(self, feed: Feed, result: FetchResult) -> Stored:
        """Parse and store one fetched feed; returns once its group is stored."""
        how = decoding(result)
        done: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        # the feed's secrets stay here: its headers were sent already
        from newsdesk.refresh_state import Fetched

        self.group.append((Fetched(replace(feed, secret=None), result, how), done))
        self.bytes += len(result.body)
        if (
            self.running < self.workers
            or len(self.group) >= GROUP_FEEDS
            or self.bytes >= GROUP_BYTES
        ):
            self._send()
        return await done

    def _send(self) -> None:
        if not self.group:
            return
        group, self.group, self.bytes = self.group, [], 0
        self.running += 1
        asyncio.get_running_loop().create_task(self._run(group))

    async def _run(self, group: list[tuple[Fetched, asyncio.Future[Stored]]]) -> None:
        parser = self.parser
        try:
            from newsdesk.pools import call_in

            stored = await asyncio.get_running_loop().run_in_executor(
                self.parser.start(),  # started by the first group: never for an all-304 run
                call_in,
                _WORKER,
                "parse_and_store",
                self.url,
                parser.settings,
                parser.now,
                [fetched for fetched, _ in group],
            )
        except BaseException as exc:
            for _, done in group:
                if not done.done():
                    done.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            self.running -= 1
            if self.running < self.workers:
                self._send()
        for (_, done), one in zip(group, stored, strict=True):
            self.on_stored(one)
            done.set_result(one)

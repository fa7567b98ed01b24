"""``Lanes``: where the web process runs its blocking calls (store, Desk), in two lanes.

Handlers are coroutines on one event loop; what blocks runs in a thread. Those threads share
one interpreter lock, and threads that compute hand it back and forth across cores at a cost
larger than what they gain: with four clients reading pages at once, each page took 25 ms of
the server's CPU against 15 ms when they came one at a time (48 against 66 pages a second,
``benchmarks/bench_load.py``). Hence:

- **reads** (the calls of a GET, HEAD or OPTIONS request) run one at a time, in the order they
  come: the reading lane. SQLite's readers never wait for its writer (WAL), so nothing in this
  lane waits for a refresh to commit;
- **writes** (the calls of POST, PUT, PATCH and DELETE requests, and a write a page makes
  while it is read: ``WebContext.write`` and ``write_later``) may wait for the database's write
  lock while a refresh commits. They have their own lane of ``WRITERS``
  threads, so a read never queues behind them.

A call made outside any request (``writing`` unset) takes the write lane: it is the lane that
cannot be held up by a lock another call waits for.

A page may also start a write and not wait for it to end (``start_write``: the entry page
marks its entry read, and waits a moment only, so that a refresh or the intelligence stage
holding the write lock does not hold the page). The person's later writes wait for it first
(``settle``), so their changes land in the order they made them (opened, then marked unread:
unread); their reads do not wait, and may show the entry unread until the lock is free. The
app waits for such writes before it stops (``drain``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter

T = TypeVar("T")
log = logging.getLogger(__name__)

READERS = 1
WRITERS = 8
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_writing(method: str) -> bool:
    """Whether a request with this method belongs in the write lane."""
    return method.upper() not in SAFE_METHODS


class Lanes:
    """The two lanes of one app. Their limiters belong to an event loop; a new loop (tests run
    several one after the other) gets new ones."""

    def __init__(self, readers: int = READERS, writers: int = WRITERS) -> None:
        self.readers, self.writers = readers, writers
        self._loop: asyncio.AbstractEventLoop | None = None
        self._limiters: tuple[CapacityLimiter, CapacityLimiter] | None = None
        # Writes started and not waited for, by person: (the request that started it, task).
        self._unfinished: dict[object, list[tuple[object, asyncio.Task[Any]]]] = {}

    def _lane(self, writing: bool) -> CapacityLimiter:
        loop = asyncio.get_running_loop()
        if self._limiters is None or loop is not self._loop:
            self._loop = loop
            self._limiters = (CapacityLimiter(self.readers), CapacityLimiter(self.writers))
            self._unfinished = {}  # an earlier loop's: it ran them, or they are gone with it
        return self._limiters[1 if writing else 0]

    async def run(self, writing: bool, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a thread of the write lane (``writing``) or the reading
        lane."""
        call = partial(fn, *args, **kwargs) if args or kwargs else fn
        return await anyio.to_thread.run_sync(call, limiter=self._lane(writing))

    def start_write(
        self, person: object, owner: object, fn: Callable[..., T], *args: Any, **kwargs: Any
    ) -> asyncio.Task[T]:
        """Start ``fn(*args, **kwargs)`` in the write lane and return at once. ``person``'s
        later writes made by another request than ``owner`` wait for it (``settle``)."""
        self._lane(True)  # this loop's limiters and list
        task = asyncio.ensure_future(self.run(True, fn, *args, **kwargs))
        started = (owner, task)
        self._unfinished.setdefault(person, []).append(started)
        task.add_done_callback(lambda _t: self._finished(person, started))
        return task

    def _finished(self, person: object, started: tuple[object, asyncio.Task[Any]]) -> None:
        # By identity: a request's context is a dataclass, whose == compares every field.
        waiting = [other for other in self._unfinished.get(person, []) if other is not started]
        self._unfinished[person] = waiting
        if not waiting:
            self._unfinished.pop(person, None)
        task = started[1]
        if not task.cancelled() and task.exception() is not None:
            log.error("a write the page did not wait for failed: %s", task.exception())

    async def settle(self, person: object, owner: object) -> None:
        """Wait for the writes of ``person`` that another request than ``owner`` started and
        did not wait for (called before a write: the person's changes keep their order)."""
        if not self._unfinished or asyncio.get_running_loop() is not self._loop:
            return
        pending = [task for who, task in self._unfinished.get(person, ()) if who is not owner]
        if pending:
            await asyncio.wait(pending)

    async def drain(self, timeout: float) -> None:
        """At shutdown: let the writes started and not waited for end (``timeout`` at most)."""
        if not self._unfinished or asyncio.get_running_loop() is not self._loop:
            return
        pending = [task for started in self._unfinished.values() for _who, task in started]
        if pending:
            await asyncio.wait(pending, timeout=timeout)

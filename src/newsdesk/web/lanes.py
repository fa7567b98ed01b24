"""``Lanes``: where the web process runs its blocking calls (store, Desk), in two lanes.

Handlers are coroutines on one event loop; what blocks runs in a thread. Those threads share
one interpreter lock, and threads that compute hand it back and forth across cores at a cost
larger than what they gain: with four clients reading pages at once, each page took 25 ms of
the server's CPU against 15 ms when they came one at a time (48 against 66 pages a second,
``benchmarks/bench_load.py``). Hence:

- **reads** (the calls of a GET, HEAD or OPTIONS request) run one at a time, in the order they
  come: the reading lane. SQLite's readers never wait for its writer (WAL), so nothing in this
  lane waits for a refresh to commit;
- **writes** (the calls of POST, PUT, PATCH and DELETE requests, and the one write a page makes
  while it is read, ``WebContext.write``: marking an entry read as it opens) may wait for the
  database's write lock while a refresh commits. They have their own lane of ``WRITERS``
  threads, so a read never queues behind them.

A call made outside any request (``writing`` unset) takes the write lane: it is the lane that
cannot be held up by a lock another call waits for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter

T = TypeVar("T")

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

    def _lane(self, writing: bool) -> CapacityLimiter:
        loop = asyncio.get_running_loop()
        if self._limiters is None or loop is not self._loop:
            self._loop = loop
            self._limiters = (CapacityLimiter(self.readers), CapacityLimiter(self.writers))
        return self._limiters[1 if writing else 0]

    async def run(self, writing: bool, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a thread of the write lane (``writing``) or the reading
        lane."""
        call = partial(fn, *args, **kwargs) if args or kwargs else fn
        return await anyio.to_thread.run_sync(call, limiter=self._lane(writing))

"""Worker processes for the CPU work of a big refresh (parsing feeds, extracting pages)."""

from __future__ import annotations

import gc
import importlib
import multiprocessing as mp
import os
import select
import signal
import sys
import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from multiprocessing.synchronize import Lock
from typing import Any


def can_start_processes() -> bool:
    """False inside a daemonic process (a Celery prefork worker), which may not have children:
    the work stays in the calling process there."""
    return not mp.current_process().daemon


def die_with_parent() -> None:
    """For a child process (the first thing a child does): SIGKILL when its parent ends, so a
    refresh (or a server) killed outright (SIGKILL) leaves no child behind holding its pipes
    and memory. A pool's workers are the fork server's children, not their owner's: they use
    ``die_with``."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # no prctl: the workers still end when their work queue closes


def die_with(owner: int) -> None:
    """A pool's initializer: end this worker when ``owner`` (the process that made the pool)
    ends, even in the middle of a task. Its parent is the fork server, and the fork server
    does not end while a worker lives (each worker holds the fork server's "alive" pipe): a
    server killed during an intelligence job left that job's worker running for minutes, at
    full CPU, writing to the database. A thread waits on a pidfd of ``owner``."""
    die_with_parent()  # the fork server too
    if not hasattr(os, "pidfd_open"):  # not Linux ≥ 5.3: the worker ends with its task queue
        return
    try:
        watched = os.pidfd_open(owner)
    except ProcessLookupError:
        os._exit(1)  # the owner is gone already
    except OSError:
        return

    def watch() -> None:
        select.select([watched], [], [])  # readable when the owner has ended
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="die-with-owner", daemon=True).start()


# What the fork server imports once, before it forks any worker: the parse worker's module and
# the parser stack (lxml, nh3, courlan, fastfeedparser), so that each worker starts with them
# loaded instead of importing them again (about 0.3 s of CPU per worker). Names, not imports:
# this module stays at the bottom of the layers, and a name that fails to import is skipped.
FORKSERVER_PRELOAD = (
    "__main__",
    "newsdesk.process.document",
    "newsdesk.parse.feed",
    "newsdesk.process.pipeline",
    "newsdesk.refresh_worker",
)


_turns: Lock | None = None


def turns() -> Lock | None:
    """In a pool's worker: the lock its workers share (``process_pool``), taken in turn for
    what only one of them may do at a time (a refresh's writes to SQLite); None elsewhere."""
    return _turns


def _start_worker(owner: int, lock: Lock) -> None:
    global _turns
    die_with(owner)
    _turns = lock
    # What the fork server imported (the parser stack, the store) lives as long as the worker:
    # out of the collector's sight, a full collection no longer walks it (it was most of the
    # collector's time in a worker).
    gc.freeze()


def call_in(module: str, function: str, *args: Any) -> Any:
    """``module.function(*args)``, the module imported where this runs: work for a pool's
    workers named rather than pickled by reference, so that the caller need not import what
    only the workers use (a refresh's parse stack)."""
    return getattr(importlib.import_module(module), function)(*args)


def start_fork_server() -> None:
    """Start the pools' fork server now, without waiting for it: it loads
    ``FORKSERVER_PRELOAD`` in a process of its own while this one goes on (a pool made later
    waits only for what is left of that)."""
    from multiprocessing import forkserver

    mp.get_context("forkserver").set_forkserver_preload(list(FORKSERVER_PRELOAD))
    forkserver.ensure_running()


def process_pool(workers: int) -> Executor:
    """A pool of ``workers`` processes, which share one lock (``turns``). Its start-up costs
    about a second, so callers start one only for a run with enough work to pay it back."""
    # forkserver: the refresh process has threads (writer, resolver), which fork does not
    # copy safely.
    context = mp.get_context("forkserver")
    context.set_forkserver_preload(list(FORKSERVER_PRELOAD))  # used when the server starts
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(os.getpid(), context.Lock()),
    )

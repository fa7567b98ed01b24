"""Worker processes for the CPU work of a big refresh (parsing feeds, extracting pages)."""

from __future__ import annotations

import multiprocessing as mp
import signal
import sys
from concurrent.futures import Executor, ProcessPoolExecutor


def can_start_processes() -> bool:
    """False inside a daemonic process (a Celery prefork worker), which may not have children:
    the work stays in the calling process there."""
    return not mp.current_process().daemon


def die_with_parent() -> None:
    """For a child process (a pool's initializer, or the first thing a child does): SIGKILL
    when its parent ends — for a pool's workers the forkserver, which ends with the process
    that started it — so a refresh (or a server) killed outright (SIGKILL) leaves no workers
    behind holding its pipes and memory."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # no prctl: the workers still end when their work queue closes


# What the fork server imports once, before it forks any worker: the parse worker's module and
# the parser stack (lxml, nh3, courlan, fastfeedparser), so that each worker starts with them
# loaded instead of importing them again (about 0.3 s of CPU per worker). Names, not imports:
# this module stays at the bottom of the layers, and a name that fails to import is skipped.
FORKSERVER_PRELOAD = (
    "__main__",
    "newsdesk.process.document",
    "newsdesk.parse.feed",
    "newsdesk.process.pipeline",
)


def process_pool(workers: int) -> Executor:
    """A pool of ``workers`` processes. Its start-up costs about a second, so callers start
    one only for a run with enough work to pay it back."""
    # forkserver: the refresh process has threads (writer, resolver), which fork does not
    # copy safely.
    context = mp.get_context("forkserver")
    context.set_forkserver_preload(list(FORKSERVER_PRELOAD))  # used when the server starts
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=die_with_parent,
    )

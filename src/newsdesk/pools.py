"""Worker processes for the CPU work of a big refresh (parsing feeds, extracting pages)."""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import Executor, ProcessPoolExecutor


def process_pool(workers: int) -> Executor:
    """A pool of ``workers`` processes. Its start-up costs about a second, so callers start
    one only for a run with enough work to pay it back."""
    # forkserver: the refresh process has threads (writer, resolver), which fork does not
    # copy safely.
    return ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("forkserver"))

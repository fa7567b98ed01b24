"""`newsdesk run` reads stories, entities and events in a background job beside its scheduler:
the backlog a big `newsdesk refresh` left first, then what each scheduled refresh stores."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from newsdesk.demo import SEED_DIR, SEED_FEEDS
from newsdesk.demo.server import SampleServer
from newsdesk.desk import Desk
from newsdesk.settings import load_settings
from newsdesk.store.schema import entries, entry_intel
from newsdesk.workers.daemon import scheduler_loop


def _counts(desk: Desk) -> tuple[int, int, int]:
    with desk.store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(entries)).scalar_one()
        clustered = conn.execute(
            select(func.count()).select_from(entries).where(entries.c.story_id.is_not(None))
        ).scalar_one()
        read = conn.execute(select(func.count()).select_from(entry_intel)).scalar_one()
    return int(total), int(clustered), int(read)


async def _until(desk: Desk, want: int, seconds: float = 60.0) -> tuple[int, int, int]:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        found = _counts(desk)
        if found[1] >= want and found[2] >= want:
            return found
        if asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.1)


async def test_the_scheduler_reads_entries_in_the_background(tmp_path: Path) -> None:
    server = SampleServer(SEED_DIR).start()
    settings = load_settings(
        env={},
        database_url=f"sqlite:///{tmp_path / 'n.db'}",
        allow_private_networks=True,
        entities=False,
        scheduler_tick=0.2,
    )
    desk = Desk(settings)
    try:
        # One feed refreshed by a CLI refresh that left its entries to the background job…
        await desk.subscribe(server.base + SEED_FEEDS[0])
        report = await Desk(settings.replace(intel_inline_max=0), store=desk.store).refresh_async()
        assert report.intel is None and report.intel_deferred == report.new_entries > 0
        left = report.new_entries
        # …then the other feed, added while `newsdesk run` is running.
        await desk.subscribe(server.base + SEED_FEEDS[1])
        stop = asyncio.Event()
        task = asyncio.create_task(scheduler_loop(desk, settings, stop))
        try:
            total, clustered, read = await _until(desk, 10)
        finally:
            stop.set()
            await asyncio.wait_for(task, 60)
        assert left < 10
        assert (total, clustered, read) == (10, 10, 10)
    finally:
        desk.close()
        server.stop()


def test_stopping_the_job_stops_its_process_mid_job() -> None:
    """A stop does not wait for a long job (say, spaCy on a big backlog): the process is ended,
    its transaction rolls back, and the entries stay for the next start."""
    import multiprocessing as mp
    import time
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    import pytest

    from newsdesk.workers.daemon import _IntelProcess

    job = _IntelProcess("sqlite:///unused.db", load_settings(env={}))
    job.pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("forkserver"))
    running = job.pool.submit(time.sleep, 120)
    while not running.running():
        time.sleep(0.05)
    time.sleep(0.5)  # inside the call
    job.close()
    assert job.pool is None
    with pytest.raises(BrokenProcessPool):
        running.result(timeout=0)

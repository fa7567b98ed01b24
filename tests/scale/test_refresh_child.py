"""Refreshes of the servers run in a child process (``workers.child``): progress and the report
come back over a pipe, SIGTERM stops it in order, it runs at a lower CPU priority, and it does
not outlive a server killed outright. The web's refresh jobs use it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from feed_farm import FeedFarm

from newsdesk.desk import Desk
from newsdesk.errors import NewsdeskError
from newsdesk.settings import Settings, load_settings
from newsdesk.store import EntryQuery, open_store
from newsdesk.web.jobs import RefreshJobs
from newsdesk.workers.child import NICE, RefreshOrder, RefreshProcess
from processes import gone


def _settings(db: Path) -> Settings:
    return load_settings(
        env={},
        database_url=f"sqlite:///{db}",
        allow_private_networks=True,
        fulltext=False,
        per_host_concurrency=1,
    )


def _subscribe(db: Path, farm: FeedFarm) -> None:
    store = open_store(f"sqlite:///{db}")
    try:
        for url in farm.urls:
            store.add_feed(url)
    finally:
        store.close()


def _until(what: object, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not what():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_child_refresh_reports_progress_and_its_report(tmp_path: Path) -> None:
    db = tmp_path / "n.db"
    with FeedFarm(feeds=4, items=3) as farm:
        _subscribe(db, farm)
        seen: list[tuple[str, int, int]] = []
        runner = RefreshProcess(f"sqlite:///{db}", _settings(db))
        report = runner.run(RefreshOrder(), lambda *p: seen.append(p))
    assert report.feeds == 4 and report.new_entries == 12 and not report.errors
    assert len(report.new_ids) == 12
    assert ("fetch", 4, 4) in seen and seen[-1] == ("intel", 12, 12)
    assert not runner.running
    store = open_store(f"sqlite:///{db}")
    try:
        assert len(store.list_entries(EntryQuery(limit=100))) == 12
    finally:
        store.close()


def test_stop_ends_the_child_in_order(tmp_path: Path) -> None:
    db = tmp_path / "n.db"
    with FeedFarm(feeds=12, items=2, delay=0.3) as farm:
        _subscribe(db, farm)
        runner = RefreshProcess(f"sqlite:///{db}", _settings(db))
        seen: list[tuple[str, int, int]] = []

        def stop_after_the_first() -> None:
            _until(lambda: any(done >= 1 for _, done, _ in seen))
            runner.stop()

        stopper = threading.Thread(target=stop_after_the_first)
        stopper.start()
        report = runner.run(RefreshOrder(), lambda *p: seen.append(p))
        stopper.join()
    assert report.skipped > 0 and report.feeds == 12
    assert report.new_entries == 2 * (12 - report.skipped)


def test_a_child_that_dies_is_an_error_not_a_hang(tmp_path: Path) -> None:
    db = tmp_path / "n.db"
    with FeedFarm(feeds=8, items=2, delay=1.0) as farm:
        _subscribe(db, farm)
        runner = RefreshProcess(f"sqlite:///{db}", _settings(db))
        killer = threading.Thread(target=lambda: (_until(lambda: runner.pid), runner.kill()))
        killer.start()
        with pytest.raises(NewsdeskError, match="without a report"):
            runner.run(RefreshOrder())
        killer.join()


def test_web_refresh_jobs_run_in_a_child_and_close_stops_them(tmp_path: Path) -> None:
    db = tmp_path / "n.db"
    with FeedFarm(feeds=10, items=2, delay=1.0) as farm:
        _subscribe(db, farm)
        desk = Desk(_settings(db))
        try:
            jobs = RefreshJobs(desk)
            job = jobs.start()
            assert jobs.start() is job  # one at a time
            _until(lambda: job.done >= 1)
            jobs.close(timeout=20)
            assert job.finished and job.failure is None, job.failure
            assert 1 <= job.new_entries // 2 < 10  # stopped before the end, what it had is kept
            assert desk.store.list_entries(EntryQuery(limit=100))
        finally:
            desk.close()


CHILD_OF_A_SERVER = """
import sys, threading, time
from newsdesk.settings import load_settings
from newsdesk.workers.child import RefreshOrder, RefreshProcess

def show(runner):
    while runner.pid is None:
        time.sleep(0.01)
    print(runner.pid, flush=True)

if __name__ == "__main__":
    url = sys.argv[1]
    settings = load_settings(
        env={}, database_url=url, allow_private_networks=True, fulltext=False,
        per_host_concurrency=1,
    )
    runner = RefreshProcess(url, settings)
    threading.Thread(target=show, args=(runner,), daemon=True).start()
    runner.run(RefreshOrder())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc, prctl")
def test_the_child_runs_niced_and_ends_with_a_killed_parent(tmp_path: Path) -> None:
    db = tmp_path / "n.db"
    with FeedFarm(feeds=30, items=2, delay=1.0) as farm:
        _subscribe(db, farm)
        script = tmp_path / "server.py"
        script.write_text(textwrap.dedent(CHILD_OF_A_SERVER))
        parent = subprocess.Popen(
            [sys.executable, str(script), f"sqlite:///{db}"],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        try:
            assert parent.stdout is not None
            pid = int(parent.stdout.readline())
            _until(lambda: farm.requests.total() >= 1)
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            assert int(fields[16]) == min(19, os.nice(0) + NICE)  # field 19 of stat: nice
            parent.send_signal(signal.SIGKILL)
            parent.wait(10)
            _until(lambda: gone(pid), 15)
        finally:
            if parent.poll() is None:
                parent.kill()
                parent.wait()

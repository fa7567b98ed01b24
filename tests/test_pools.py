"""A pool's workers end with the process that made the pool, even in the middle of a task:
they are the fork server's children, and the fork server lives as long as they do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from processes import gone

OWNER = """
import os, sys, time
from newsdesk.pools import process_pool

def slow(seconds):
    time.sleep(seconds)
    return os.getpid()

def worker_pid():
    return os.getpid()

if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "parse":
        pool = process_pool(1)
    else:  # the intelligence stage's process under `serve`/`run`
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor
        from newsdesk.workers.daemon import _quiet_child
        pool = ProcessPoolExecutor(
            max_workers=1, mp_context=mp.get_context("forkserver"),
            initializer=_quiet_child, initargs=(os.getpid(),),
        )
    print(pool.submit(worker_pid).result(), flush=True)
    pool.submit(slow, 120)  # busy when the owner is killed
    time.sleep(120)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc, pidfd")
@pytest.mark.parametrize("kind", ["parse", "intel"])
def test_a_busy_worker_ends_with_the_process_that_made_its_pool(kind: str, tmp_path: Path) -> None:
    script = tmp_path / "owner.py"
    script.write_text(textwrap.dedent(OWNER))
    owner = subprocess.Popen(
        [sys.executable, str(script), kind],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        start_new_session=True,
    )
    try:
        assert owner.stdout is not None
        worker = int(owner.stdout.readline())
        time.sleep(0.5)  # the slow task has started
        assert not gone(worker)
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
        deadline = time.monotonic() + 15
        while not gone(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert gone(worker), "the worker outlived its pool's owner"
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        os.killpg(owner.pid, signal.SIGKILL)  # whatever is left of the test's processes

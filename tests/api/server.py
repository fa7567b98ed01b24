"""A real ``newsdesk serve`` on loopback for tests that drive it with real clients (newsboat, the
``miniflux`` Python client): a child process on a free port, on a copy of the API tests'
database, stopped at the end. Its feeds come from the sample server on loopback, hence
``allow_private_networks``; ``--no-scheduler`` so that only the clients make it fetch."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def newsdesk_serve(db: Path) -> Iterator[str]:
    """``newsdesk serve`` on 127.0.0.1 over the SQLite file ``db``; yields the base URL
    (without a trailing slash). Its output goes to ``serve.log`` beside ``db``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update(
        NEWSDESK_DATABASE_URL=f"sqlite:///{db}",
        NEWSDESK_ALLOW_PRIVATE_NETWORKS="1",
        NEWSDESK_FULLTEXT="0",
    )
    port = _free_port()
    log = db.parent / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "newsdesk", "serve", "--no-scheduler", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base + "/healthz", proc, log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _wait_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited: {log.read_text(errors='replace')}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")

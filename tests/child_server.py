"""A real ``newsdesk serve`` in a child process on a free 127.0.0.1 port (uvicorn, our settings
from the environment), for tests that drive it with real clients or raw sockets; stopped at the
end. ``--no-scheduler``, so that only the tests make it fetch; no full text."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

# How long a test waits for the server to do something before calling it a failure: far above
# the short limits the tests configure, so a busy machine does not make them flaky.
PATIENCE = 20.0


@dataclass
class Served:
    port: int
    log: Path

    @property
    def base(self) -> str:
        """The base URL, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=PATIENCE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(
    db: Path, folder: Path, *args: str, log_name: str = "serve-{port}.log", **settings: str
) -> Iterator[Served]:
    """``newsdesk serve`` over the SQLite file ``db``; ``args`` go on its command line,
    ``settings`` become NEWSDESK_* variables (none is inherited from the environment). Its
    output goes to ``log_name`` (``{port}`` filled in) in ``folder``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update({"NEWSDESK_" + k.upper(): v for k, v in settings.items()})
    env.update(NEWSDESK_DATABASE_URL=f"sqlite:///{db}", NEWSDESK_FULLTEXT="0")
    env.pop("FORWARDED_ALLOW_IPS", None)
    port = free_port()
    log = folder / log_name.format(port=port)
    command = [sys.executable, "-m", "newsdesk", "serve", "--no-scheduler", "--port", str(port)]
    with open(log, "wb") as out:
        proc = subprocess.Popen([*command, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_up(f"http://127.0.0.1:{port}/healthz", proc, log)
        yield Served(port, log)
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

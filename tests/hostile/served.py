"""A real ``newsdesk serve`` in a child process on 127.0.0.1 (uvicorn, our settings from the
environment), and raw sockets to talk to it the way hostile clients do."""

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
        return f"http://127.0.0.1:{self.port}"

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=PATIENCE)
        return sock


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(db: Path, folder: Path, *args: str, **settings: str) -> Iterator[Served]:
    """``newsdesk serve`` on a free loopback port; ``settings`` become NEWSDESK_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update({"NEWSDESK_" + k.upper(): v for k, v in settings.items()})
    env.update(NEWSDESK_DATABASE_URL=f"sqlite:///{db}", NEWSDESK_FULLTEXT="0")
    env.pop("FORWARDED_ALLOW_IPS", None)
    port = free_port()
    log = folder / f"serve-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "newsdesk",
                "serve",
                "--no-scheduler",
                "--port",
                str(port),
                *args,
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
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
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


def read_until_closed(sock: socket.socket, drip: bytes = b"", every: float = 0.2) -> bytes:
    """Everything the server sends until it closes the connection, sending ``drip`` every
    ``every`` seconds meanwhile (a slowloris client); fails after ``PATIENCE``."""
    received = b""
    deadline = time.monotonic() + PATIENCE
    sock.settimeout(every)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            if drip:
                try:
                    sock.sendall(drip)
                except OSError:  # the server closed its end while we dripped
                    return received
            continue
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the server kept the connection open; it sent {received[:200]!r}")

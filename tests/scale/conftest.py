"""Fixtures of the scale tests: a fresh PostgreSQL database, brokers (Redis, RabbitMQ) from the
environment, and `newsdesk` subprocesses (workers, beat, daemon) that are always stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

POSTGRES_URL = os.environ.get("NEWSDESK_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("NEWSDESK_TEST_REDIS_URL")
RABBITMQ_URL = os.environ.get("NEWSDESK_TEST_RABBITMQ_URL")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards (skips without a test server)."""
    if not POSTGRES_URL:
        pytest.skip("NEWSDESK_TEST_POSTGRES_URL is not set")
    import psycopg

    name = f"newsdesk_scale_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_URL.rpartition("/")[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_url(request: pytest.FixtureRequest) -> str:
    url = REDIS_URL if request.param == "redis" else RABBITMQ_URL
    if not url:
        variable = "REDIS" if request.param == "redis" else "RABBITMQ"
        pytest.skip(f"NEWSDESK_TEST_{variable}_URL is not set")
    return url


@pytest.fixture
def redis_url() -> str:
    if not REDIS_URL:
        pytest.skip("NEWSDESK_TEST_REDIS_URL is not set")
    return REDIS_URL


class Processes:
    """`newsdesk …` subprocesses in their own process groups, logs in files."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "newsdesk", *args],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.running[name] = process
        return process

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def signal(self, name: str, sig: int) -> None:
        process = self.running[name]
        if process.poll() is None:
            os.killpg(process.pid, sig)

    def stop(self, name: str, timeout: float = 20.0) -> int:
        process = self.running.pop(name)
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                code = process.wait(timeout)
            except subprocess.TimeoutExpired:
                code = -9
        else:
            code = process.returncode
        # whatever is left of the group (a prefork child orphaned by a killed parent)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
        return code

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.stop_all()


def wait_for(check: Callable[[], bool], timeout: float, what: str, step: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")

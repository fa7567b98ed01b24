"""Shared fixtures: loopback sample servers, settings, databases (SQLite always; PostgreSQL when
NEWSDESK_TEST_POSTGRES_URL is set), and the CLI run in-process."""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from newsdesk.cli import main
from newsdesk.demo import SEED_DIR, SOCIAL_DIR
from newsdesk.demo.server import SampleServer
from newsdesk.settings import Settings, load_settings
from routes_server import RoutesServer

POSTGRES_URL = os.environ.get("NEWSDESK_TEST_POSTGRES_URL")

# The default run is the same every time: property tests draw their examples from a fixed seed and
# keep no example database between runs. `make fuzz` explores (NEWSDESK_HYPOTHESIS_PROFILE=explore).
hypothesis_settings.register_profile("deterministic", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("NEWSDESK_HYPOTHESIS_PROFILE", "deterministic"))


@pytest.fixture
def seed_server() -> Iterator[SampleServer]:
    server = SampleServer(SEED_DIR).start()
    yield server
    server.stop()


@pytest.fixture
def server() -> Iterator[RoutesServer]:
    """A loopback server whose answers the test sets per path."""
    s = RoutesServer()
    yield s
    s.stop()


@pytest.fixture
def social_server() -> Iterator[SampleServer]:
    server = SampleServer(SOCIAL_DIR).start()
    yield server
    server.stop()


def _postgres_database() -> Iterator[str]:
    """A fresh database on the test server, dropped afterwards."""
    import psycopg

    assert POSTGRES_URL
    name = f"newsdesk_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test on SQLite and on PostgreSQL (skipped when no test server is configured)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'newsdesk.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("NEWSDESK_TEST_POSTGRES_URL is not set")
    yield from _postgres_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'newsdesk.db'}"


@pytest.fixture
def settings(store_url: str) -> Settings:
    return load_settings(env={}, database_url=store_url, allow_private_networks=True)


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run `newsdesk ARGS…` in-process; loopback fetches allowed as in a home setup."""
    monkeypatch.setenv("NEWSDESK_ALLOW_PRIVATE_NETWORKS", "1")

    def run(*args: str) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse usage errors
                code = int(exc.code or 0)
        return CliResult(code, out.getvalue(), err.getvalue())

    return run

"""`newsdesk user set-password` and `newsdesk serve` from the command line."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from newsdesk.store import open_store


def test_user_set_password_from_stdin(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 'n.db'}"
    monkeypatch.setattr(sys, "stdin", io.StringIO("a fine password\n"))
    result = cli("user", "set-password", "--db", db)
    assert result.code == 0 and "password set for admin" in result.out
    store = open_store(db)
    try:
        assert store.users.verify_password("admin", "a fine password")
        assert not store.users.get_user().fever  # type: ignore[union-attr]  # off until turned on
    finally:
        store.close()
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    result = cli("user", "set-password", "--username", "ann", "--db", db)
    assert result.code == 1 and "at least 8 characters" in result.err


@pytest.mark.slow
def test_serve_starts_uvicorn_on_loopback(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsdesk",
            "serve",
            "--port",
            str(port),
            "--db",
            f"sqlite:///{tmp_path}/n.db",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        for _ in range(100):
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", follow_redirects=False)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert response.status_code == 303 and response.headers["location"] == "/setup"
    finally:
        proc.terminate()
        proc.wait(10)


def _serve(tmp_path: Path, feed_url: str, *extra: str) -> tuple[subprocess.Popen[str], str, Path]:
    """`newsdesk serve` in a process of its own, on a free port, with one feed due and a
    scheduler that ticks often; returns the process, its address and its database."""
    db = tmp_path / "serve.db"
    store = open_store(f"sqlite:///{db}")
    store.add_feed(feed_url)
    store.close()
    env = {
        **os.environ,
        "NEWSDESK_ALLOW_PRIVATE_NETWORKS": "1",
        "NEWSDESK_SCHEDULER_TICK": "0.2",
        "NEWSDESK_FULLTEXT": "0",
        "NEWSDESK_ENTITIES": "0",
    }
    args = ["serve", "--port", "0", "--no-auth", "--db", f"sqlite:///{db}", *extra]
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsdesk", *args], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"serving at (http://127\.0\.0\.1:\d+/)", line)
    assert found, line
    return proc, found.group(1), db


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0


def _fetches(server: Any) -> list[tuple[str, str, int]]:
    return [r for r in server.requests if r[1] == "/blog/feed.xml"]


def test_serve_refreshes_due_feeds_on_its_own(tmp_path: Path, blog_server: Any) -> None:
    proc, base, db = _serve(tmp_path, blog_server.base + "/blog/feed.xml")
    try:
        deadline = time.monotonic() + 60
        while not _fetches(blog_server) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _fetches(blog_server), "nobody pressed Refresh, yet the due feed is fetched"
        while time.monotonic() < deadline:
            with sqlite3.connect(db) as conn:
                if conn.execute("SELECT count(*) FROM entries").fetchone()[0]:
                    break
            time.sleep(0.1)
        assert httpx.get(base + "healthz").text == "ok"
    finally:
        _stop(proc)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 1


def test_serve_no_scheduler_leaves_feeds_alone(tmp_path: Path, blog_server: Any) -> None:
    proc, base, db = _serve(tmp_path, blog_server.base + "/blog/feed.xml", "--no-scheduler")
    try:
        assert httpx.get(base + "healthz").text == "ok"
        page = httpx.get(base)
        assert page.status_code == 200
        time.sleep(1.5)  # a few scheduler ticks' worth: a scheduler would have fetched by now
        assert _fetches(blog_server) == []
    finally:
        _stop(proc)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT last_fetched FROM feeds").fetchone()[0] is None

"""`newsdesk user set-password` and `newsdesk serve` from the command line."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from newsdesk.store import open_store
from newsdesk.store.users import get_user, verify_password


def test_user_set_password_from_stdin(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 'n.db'}"
    monkeypatch.setattr(sys, "stdin", io.StringIO("a fine password\n"))
    result = cli("user", "set-password", "--db", db)
    assert result.code == 0 and "password set for admin" in result.out
    store = open_store(db)
    try:
        assert verify_password(store.engine, "admin", "a fine password")
        assert not get_user(store.engine).fever  # type: ignore[union-attr]  # off until turned on
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

"""Pages and API requests served by a real `newsdesk serve` while a real `newsdesk refresh`
writes a large refresh into the same database: no "database is locked", no 500s. Bounded in
time and requests; the figures (p50/p99) come from benchmarks/bench_load.py."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from newsdesk.store import open_store

from .loopback import LoopbackServer

FEEDS = 150
ITEMS = 40


def _feed(n: int, base: str) -> str:
    items = "".join(
        f"<item><guid>f{n}-{i}</guid><title>Feed {n} story {i}</title>"
        f"<link>{base}/story/{n}/{i}</link><pubDate>Mon, 0{1 + i % 9} Jan 2024 10:00:00 GMT"
        f"</pubDate><description>&lt;p&gt;{'lorem ipsum dolor ' * 40}&lt;/p&gt;</description>"
        "</item>"
        for i in range(ITEMS)
    )
    head = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
    return f"{head}{items}</channel></rss>"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_pages_and_api_during_a_large_refresh(tmp_path: Path) -> None:
    farm = LoopbackServer().start()
    db = f"sqlite:///{tmp_path}/load.db"
    env = {
        **os.environ,
        "NEWSDESK_DATABASE_URL": db,
        "NEWSDESK_ALLOW_PRIVATE_NETWORKS": "1",
        "NEWSDESK_FULLTEXT": "0",
        "NEWSDESK_EXPAND_LINKS": "0",
    }
    procs: list[subprocess.Popen[bytes]] = []
    log = tmp_path / "serve.log"
    try:
        store = open_store(db)
        try:
            for n in range(FEEDS):
                store.add_feed(farm.static(f"/feed/{n}", _feed(n, farm.base)))

            _token, key = store.tokens.create_token("load")
        finally:
            store.close()
        port = _free_port()
        with open(log, "wb") as out:
            procs.append(
                subprocess.Popen(
                    [
                        *(sys.executable, "-m", "newsdesk", "serve", "--no-auth"),
                        *("--no-scheduler", "--port", str(port)),  # the refresh is the test's
                    ],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        base = f"http://127.0.0.1:{port}"
        _wait(base + "/healthz")
        refresh = subprocess.Popen(
            [sys.executable, "-m", "newsdesk", "refresh"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        procs.append(refresh)
        statuses = asyncio.run(_hammer(base, key, refresh, seconds=20))
        out, err = refresh.communicate(timeout=600)
        assert refresh.returncode == 0, err.decode()
        assert b"0 errors" in out
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)
        farm.stop()
    text = log.read_text(errors="replace")
    assert "database is locked" not in text
    assert "Traceback" not in text, text[-3000:]
    assert sum(statuses.values()) > 50
    assert set(statuses) == {200}, statuses


async def _hammer(
    base: str, key: str, refresh: subprocess.Popen[bytes], seconds: float
) -> dict[int, int]:
    paths = ["/", "/categories", "/search?q=lorem", "/subscriptions", "/feed/1", "/?page=2"]
    api = ["/api/entries?limit=50", "/api/subscriptions", "/v1/entries?limit=50", "/v1/feeds"]
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + seconds

    async def worker(n: int, client: httpx.AsyncClient) -> None:
        i = n
        while time.monotonic() < deadline and refresh.poll() is None:
            i += 1
            if i % 2:
                response = await client.get(paths[i % len(paths)])
            else:
                response = await client.get(
                    api[i % len(api)], headers={"Authorization": f"Bearer {key}"}
                )
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await asyncio.gather(*(worker(n, client) for n in range(6)))
    return statuses


def _wait(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")

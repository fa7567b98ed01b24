"""`newsdesk run`: web server and scheduler in one real process; SIGTERM lets the fetches in
flight finish and be stored, starts no new one, and exits 0 with nothing half-written."""

from __future__ import annotations

import re
import signal
import socket
import sqlite3
import urllib.request
from pathlib import Path
from typing import Any

from feed_farm import FeedFarm

from conftest import Processes, wait_for
from newsdesk.store import open_store

FEEDS, ITEMS = 30, 3


def _counts(db: Path) -> tuple[int, list[tuple[int, int, Any]]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT f.id, count(e.id), f.last_fetched FROM feeds f "
            "LEFT JOIN entries e ON e.feed_id = f.id GROUP BY f.id"
        ).fetchall()
    fetched = sum(1 for r in rows if r[2] is not None)
    return fetched, rows


def test_sigterm_finishes_in_flight_fetches_and_exits(tmp_path: Path, processes: Processes) -> None:
    db = tmp_path / "run.db"
    with FeedFarm(feeds=FEEDS, items=ITEMS, delay=0.4) as farm:
        store = open_store(f"sqlite:///{db}")
        for url in farm.urls:
            store.add_feed(url)
        store.close()
        env = {
            "NEWSDESK_ALLOW_PRIVATE_NETWORKS": "1",
            "NEWSDESK_PER_HOST_CONCURRENCY": "2",
            "NEWSDESK_FULLTEXT": "0",
            "NEWSDESK_SHUTDOWN_TIMEOUT": "10",
        }
        args = ("run", "--db", f"sqlite:///{db}", "--host", "127.0.0.1", "--port", "0")
        process = processes.start("run", env, *args, "--no-auth")

        def serving() -> bool:
            return "serving at" in processes.log("run")

        wait_for(serving, 30, "the web server")
        match = re.search(r"serving at (http://[\d.:]+/)", processes.log("run"))
        assert match
        with urllib.request.urlopen(match.group(1) + "healthz", timeout=10) as response:
            assert response.read() == b"ok"
        # refreshes are written in batches: wait for the farm, not the database
        wait_for(lambda: sum(farm.requests.values()) >= 2, 30, "the first feeds to be fetched")
        processes.signal("run", signal.SIGTERM)
        assert process.wait(30) == 0, processes.log("run")

        fetched, rows = _counts(db)
        assert 2 <= fetched < FEEDS  # stopped launching new fetches
        for _feed_id, count, last_fetched in rows:
            # each feed is all or nothing: fetched and stored, or untouched and still due
            assert count == (ITEMS if last_fetched is not None else 0)
        # every fetch the farm answered (in flight at SIGTERM included) was stored
        assert sum(farm.requests.values()) == fetched
        log = processes.log("run")
        assert "SIGTERM: finishing the fetches in flight" in log
        assert "Traceback" not in log


def test_run_reports_a_bad_database_or_port_clearly(cli: Any, tmp_path: Path) -> None:
    bad = cli("run", "--db", "postgresql://nobody@127.0.0.1:1/none", "--port", "0")
    assert bad.code == 1
    assert "cannot open the database" in bad.err and "Traceback" not in bad.err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        busy = cli(
            "run", "--db", str(tmp_path / "x.db"), "--host", "127.0.0.1", "--port", str(port)
        )
    assert busy.code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in busy.err

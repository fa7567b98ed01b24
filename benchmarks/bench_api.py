"""API benchmark: latency of the reader-app APIs over HTTP on loopback.

Starts ``newsdesk serve`` (uvicorn) in a subprocess on a database built by
``build_big_db.py`` (100,000 entries across 500 feeds by default; built first when missing),
makes an API key, then times sequential requests that reader apps make on every sync: the
native entry list, Miniflux's entry list and counters, Google Reader's stream contents, item
ids and unread counts, and Fever's items and unread ids. Prints p50/p95/max per request and
writes the figures as JSON to ``benchmarks/results/``.

Run: ``python benchmarks/bench_api.py [--db PATH] [--entries 100000] [--requests 50]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from build_big_db import PASSWORD
from newsdesk.settings import load_settings
from newsdesk.store import open_store
from newsdesk.store.server_key import server_key
from newsdesk.store.tokens import create_token
from newsdesk.store.users import set_fever

HERE = Path(__file__).parent
DEFAULT_DIR = Path(os.environ.get("TMPDIR", "/tmp")) / "newsdesk-bench"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_up(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with code {proc.returncode}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def measure(client: httpx.Client, path: str, requests: int, warmup: int) -> dict[str, float]:
    """Sequential GETs of ``path`` after ``warmup`` unmeasured ones: p50, p95, max, mean."""
    for _ in range(warmup):
        client.get(path)
    timings: list[float] = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: HTTP {response.status_code}")
    ordered = sorted(timings)
    return {
        "requests": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 2),
        "max_ms": round(max(timings), 2),
        "mean_ms": round(statistics.fmean(timings), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    db: Path = args.db or DEFAULT_DIR / f"api-{args.entries}.db"
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        print(f"building {db}…", file=sys.stderr)
        subprocess.run(
            [
                sys.executable,
                str(HERE / "build_big_db.py"),
                str(db),
                "--entries",
                str(args.entries),
                "--feeds",
                str(args.feeds),
            ],
            check=True,
        )
    store = open_store(f"sqlite:///{db}")
    try:
        _, key = create_token(store.engine, f"bench-{time.time_ns()}")
        # Fever is off until turned on; its verifier is keyed by the key file beside the db.
        server = server_key(load_settings(database_url=f"sqlite:///{db}"))
        set_fever(store.engine, "admin", on=True, password=PASSWORD, server_key=server)
    finally:
        store.close()
    with sqlite3.connect(db) as conn:
        n_entries = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
        n_feeds = conn.execute("SELECT count(*) FROM feeds").fetchone()[0]
        middle = conn.execute("SELECT max(id) / 2 FROM entries").fetchone()[0]
    fever_key = hashlib.md5(f"admin:{PASSWORD}".encode()).hexdigest()
    n = args.requests
    reading_list = "user/-/state/com.google/reading-list"
    requests = {
        "native entries (50)": "/api/entries?limit=50",
        "native unread (50)": "/api/entries?status=unread&limit=50",
        "miniflux entries (100)": "/v1/entries?status=unread&limit=100&direction=desc",
        "miniflux counters": "/v1/feeds/counters",
        "greader contents (50)": f"/reader/api/0/stream/contents/{reading_list}?n=50",
        "greader ids (1000)": f"/reader/api/0/stream/items/ids?s={reading_list}&n=1000",
        "greader unread-count": "/reader/api/0/unread-count",
        "fever items (50)": f"/fever/?api&items&since_id={middle}&api_key={fever_key}",
        "fever unread ids": f"/fever/?api&unread_item_ids&api_key={fever_key}",
    }
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "newsdesk",
        "serve",
        "--no-scheduler",
        "--db",
        f"sqlite:///{db}",
    ]
    proc = subprocess.Popen([*command, "--port", str(port)], stdout=subprocess.DEVNULL)
    results: dict[str, dict[str, float]] = {}
    try:
        _wait_up(base, proc)
        headers = {"X-Auth-Token": key, "Authorization": f"GoogleLogin auth={key}"}
        with httpx.Client(base_url=base, timeout=120, headers=headers) as client:
            for name, path in requests.items():
                results[name] = measure(client, path, n, args.warmup)
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"\nNewsdesk APIs over HTTP on loopback: {n_entries:,} entries, {n_feeds:,} feeds")
    print(f"{'request':<26}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for name, figures in results.items():
        print(
            f"{name:<26}{figures['p50_ms']:>9.1f}{figures['p95_ms']:>9.1f}{figures['max_ms']:>9.1f}"
        )
    out = HERE / "results" / f"api-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    machine = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    document = {"entries": n_entries, "feeds": n_feeds, "machine": machine, "requests": results}
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()

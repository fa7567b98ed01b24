"""Web benchmark: latency of the reading room's pages over HTTP on loopback.

Starts ``newsdesk serve`` (uvicorn) in a subprocess on a database built by
``build_big_db.py`` (1,000,000 entries across 2,000 feeds by default; built first when missing),
logs in, then times sequential requests to the river, a category page, the categories page
(every feed by category), entry pages (random ids) and a two-word search, after a warm-up.
Every page carries the sidebar's unread counts per category. For a long sidebar and categories
page, build the database with ``build_big_db.py --categories 1000``. Prints p50/p95/max per page
(target: p95 < 50 ms) and writes the figures as JSON to ``benchmarks/results/``.

Run: ``python benchmarks/bench_web.py [--db PATH] [--requests 200] [--pages river,categories]``
(the server runs from the ``newsdesk`` on ``PYTHONPATH``: point it at another tree to compare).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx

HERE = Path(__file__).parent
DEFAULT_DB = Path(os.environ.get("TMPDIR", "/tmp")) / "newsdesk-bench" / "big.db"
PASSWORD = "benchmark password"
TARGET_MS = 50.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


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


def _login(client: httpx.Client) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page.text)
    if token is None:
        raise SystemExit("no CSRF token on the login page")
    response = client.post(
        "/login",
        data={"csrf_token": token.group(1), "username": "admin", "password": PASSWORD},
    )
    if response.status_code != 303:
        raise SystemExit(f"login failed: HTTP {response.status_code}")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    client: httpx.Client, paths: list[str], warmup: int, server_pid: int
) -> dict[str, float]:
    for path in paths[: min(warmup, len(paths) // 2)]:
        client.get(path)
    cpu_before = _cpu_seconds(server_pid)
    timings: list[float] = []
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: HTTP {response.status_code}")
        timings.append(elapsed)
    cpu_ms = (_cpu_seconds(server_pid) - cpu_before) * 1000 / len(timings)
    return {
        "requests": len(timings),
        "server_cpu_ms": round(cpu_ms, 2),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(_percentile(timings, 0.95), 2),
        "max_ms": round(max(timings), 2),
        "mean_ms": round(statistics.fmean(timings), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--pages", default="", help="comma-separated page names (default: all)")
    args = parser.parse_args()
    db: Path = args.db
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        print(f"building {db} (a few minutes)…", file=sys.stderr)
        subprocess.run([sys.executable, str(HERE / "build_big_db.py"), str(db)], check=True)
    with sqlite3.connect(db) as conn:
        n_entries = conn.execute("SELECT max(id) FROM entries").fetchone()[0]
        n_feeds = conn.execute("SELECT count(*) FROM feeds").fetchone()[0]
        category = conn.execute("SELECT title FROM categories ORDER BY id LIMIT 1").fetchone()[0]
        sample = conn.execute("SELECT content_text FROM entries LIMIT 2000").fetchall()
    # The two words found in most entries: the worst case for ranking matches.
    counts = Counter(w for (text,) in sample for w in set(text.lower().strip(".").split()))
    common = [w for w, _n in counts.most_common(2)]
    rng = random.Random(1)
    n = args.requests
    pages = {
        "river": ["/?show=all"] * n,
        "river (unread)": ["/"] * n,
        "category": [f"/category/{category}?show=all"] * n,
        "categories": ["/categories"] * n,
        "entry": [f"/entry/{rng.randint(1, n_entries)}" for _ in range(n)],
        "search (two words)": ["/search?q=moscow+talks"] * n,
        "search (common words)": [f"/search?q={common[0]}+{common[1]}"] * max(10, n // 10),
    }
    if args.pages:
        chosen = {name.strip() for name in args.pages.split(",")}
        pages = {name: paths for name, paths in pages.items() if name in chosen}
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "newsdesk",
        "serve",
        "--no-scheduler",  # reads only: nothing is fetched while pages are timed
        "--db",
        f"sqlite:///{db}",
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    results: dict[str, dict[str, float]] = {}
    try:
        _wait_up(base, proc)
        with httpx.Client(base_url=base, timeout=30) as client:
            _login(client)
            for name, paths in pages.items():
                results[name] = measure(client, paths, args.warmup, proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"\nNewsdesk web pages over HTTP on loopback: {n_entries:,} entries, {n_feeds:,} feeds")
    load = os.getloadavg()[0]
    print(f"(load average {load:.1f} on {os.cpu_count()} CPUs; server CPU per request is the")
    print(" figure least disturbed by other work on the machine)")
    print(
        f"{'page':<24}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'cpu ms':>9}"
        f"   target p95 < {TARGET_MS:.0f} ms"
    )
    for name, figures in results.items():
        verdict = "ok" if figures["p95_ms"] < TARGET_MS else "SLOW"
        print(
            f"{name:<24}{figures['p50_ms']:>9.1f}{figures['p95_ms']:>9.1f}"
            f"{figures['max_ms']:>9.1f}{figures['server_cpu_ms']:>9.1f}   {verdict}"
        )
    out = HERE / "results" / f"web-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    machine = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    machine["load_average"] = round(load, 2)
    document = {"entries": n_entries, "feeds": n_feeds, "machine": machine, "pages": results}
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()

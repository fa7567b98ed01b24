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

Teams (issue 15): ``--teams`` times a copy of that database with 50 people on it, each following
200 of the 2,000 feeds (``build_teams_db.py``: overlapping follows, own and shared categories,
30 % read; built once and kept as ``teams.db`` next to ``big.db``). First the store calls the
pages make, in this process, as ``--people`` people in turn (``store.as_person``), ``--rounds``
times each, with the CPU time of each call; then (unless ``--no-http``) the pages over HTTP, the
people logged in and taking turns. That a refresh fetches each URL once whatever the number of
followers is a test: ``tests/test_teams_fetch_once.py``.
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
from typing import Any

import httpx

HERE = Path(__file__).parent
DEFAULT_DB = Path(os.environ.get("TMPDIR", "/tmp")) / "newsdesk-bench" / "big.db"
# ``--teams``: DEFAULT_DB with 50 people on it (``build_teams_db.py``), kept between runs.
TEAMS_DB = DEFAULT_DB.with_name("teams.db")
TEAM_CATEGORY = "World"  # one of each member's 8 categories
SHARED = "Wire services"  # shared with everyone
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


def _login(client: httpx.Client, username: str = "admin") -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page.text)
    if token is None:
        raise SystemExit("no CSRF token on the login page")
    response = client.post(
        "/login",
        data={"csrf_token": token.group(1), "username": username, "password": PASSWORD},
    )
    if response.status_code != 303:
        raise SystemExit(f"login failed: HTTP {response.status_code}")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _figures(timings: list[float]) -> dict[str, float]:
    return {
        "requests": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(_percentile(timings, 0.95), 2),
        "max_ms": round(max(timings), 2),
        "mean_ms": round(statistics.fmean(timings), 2),
    }


def measure(
    clients: list[httpx.Client], paths: list[str], warmup: int, server_pid: int
) -> dict[str, float]:
    """Time GET of each path in turn, the clients (one per person) taking turns."""
    for i, path in enumerate(paths[: min(warmup, len(paths) // 2)]):
        clients[i % len(clients)].get(path)
    cpu_before = _cpu_seconds(server_pid)
    timings: list[float] = []
    for i, path in enumerate(paths):
        started = time.perf_counter()
        response = clients[i % len(clients)].get(path)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: HTTP {response.status_code}")
        timings.append(elapsed)
    cpu_ms = (_cpu_seconds(server_pid) - cpu_before) * 1000 / len(timings)
    return {"server_cpu_ms": round(cpu_ms, 2), **_figures(timings)}


def _words(db: Path) -> tuple[list[str], str]:
    """The two words found in most entries (the worst case for ranking matches) and a rare
    one (in about one entry in 2,000)."""
    with sqlite3.connect(db) as conn:
        sample = conn.execute("SELECT content_text FROM entries LIMIT 2000").fetchall()
    counts = Counter(w for (text,) in sample for w in set(text.lower().strip(".").split()))
    common = [w for w, _n in counts.most_common(2)]
    rare = min((w for w, n in counts.items() if n == 1 and len(w) > 5), default="moscow")
    return common, rare


def measure_store(db: Path, people: list[int], reps: int) -> dict[str, dict[str, float]]:
    """The reading room's store calls as the pages make them, as each of ``people`` in turn
    (``store.as_person``), in this process: ``reps`` rounds, after one round of warm-up."""
    from newsdesk.store import open_store
    from newsdesk.store.protocols.refresh import EntryQuery

    store = open_store(f"sqlite:///{db}")
    common, rare = _words(db)
    page = 31  # the pages ask for 30 entries and one more (is there a next page?)
    calls: dict[str, Any] = {
        "river (unread)": lambda s: s.list_entries(EntryQuery(read=False, limit=page)),
        "river (all)": lambda s: s.list_entries(EntryQuery(limit=page)),
        "river, page 5": lambda s: s.list_entries(EntryQuery(limit=page, offset=120)),
        "category (all)": lambda s: s.list_entries(EntryQuery(category=TEAM_CATEGORY, limit=page)),
        "category (unread)": lambda s: s.list_entries(
            EntryQuery(category=TEAM_CATEGORY, read=False, limit=page)
        ),
        "shared category": lambda s: s.list_entries(EntryQuery(category=SHARED, limit=page)),
        "starred": lambda s: s.list_entries(EntryQuery(starred=True, limit=page)),
        "search (two words)": lambda s: s.search("moscow talks", EntryQuery(limit=page)),
        "search (common words)": lambda s: s.search(" ".join(common), EntryQuery(limit=page)),
        f"search (rare: {rare})": lambda s: s.search(rare, EntryQuery(limit=page)),
        "sidebar counts": lambda s: s.reading.unread_by_category(),
        "categories page": lambda s: s.reading.category_groups(),
        "feeds": lambda s: s.list_feeds(),
    }
    timings: dict[str, list[float]] = {name: [] for name in calls}
    cpu: dict[str, list[float]] = {name: [] for name in calls}
    slow: set[str] = set()  # over a second when warming up: one timed round is enough
    try:
        for round_ in range(reps + 1):
            for person in people:
                mine = store.as_person(person)
                for name, call in calls.items():
                    if name in slow and len(timings[name]) >= len(people):
                        continue
                    started, cpu_started = time.perf_counter(), time.thread_time()
                    call(mine)
                    elapsed = (time.perf_counter() - started) * 1000
                    if not round_:  # the first round warms the caches
                        if elapsed > 1000:
                            slow.add(name)
                        continue
                    timings[name].append(elapsed)
                    cpu[name].append((time.thread_time() - cpu_started) * 1000)
    finally:
        store.close()
    # CPU time of the calling thread (SQLite runs in it): the figure a busy machine disturbs
    # least; its 95th percentile is what the table's "cpu ms" column shows.
    return {
        name: {"server_cpu_ms": round(_percentile(cpu[name], 0.95), 2), **_figures(found)}
        for name, found in timings.items()
    }


def _pages(db: Path, n: int, teams: bool) -> dict[str, list[str]]:
    with sqlite3.connect(db) as conn:
        n_entries = conn.execute("SELECT max(id) FROM entries").fetchone()[0]
        category = conn.execute("SELECT title FROM categories ORDER BY id LIMIT 1").fetchone()[0]
    common, rare = _words(db)
    rng = random.Random(1)
    category = TEAM_CATEGORY if teams else category
    pages = {
        "river": ["/?show=all"] * n,
        "river (unread)": ["/"] * n,
        "category": [f"/category/{category}?show=all"] * n,
        "categories": ["/categories"] * n,
        "entry": [f"/entry/{rng.randint(1, n_entries)}" for _ in range(n)],
        "search (two words)": ["/search?q=moscow+talks"] * n,
        "search (common words)": [f"/search?q={common[0]}+{common[1]}"] * max(10, n // 10),
    }
    if teams:
        # A random entry is one of the person's only one time in ten: their newest instead.
        del pages["entry"]
        pages["search (rare word)"] = [f"/search?q={rare}"] * n
        pages["shared category"] = [f"/category/{SHARED}?show=all"] * n
    return pages


def measure_http(
    db: Path, pages: dict[str, list[str]], people: list[str], warmup: int
) -> dict[str, dict[str, float]]:
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
    clients = [httpx.Client(base_url=base, timeout=60) for _ in people]
    try:
        _wait_up(base, proc)
        for client, name in zip(clients, people, strict=True):
            _login(client, name)
        for name, paths in pages.items():
            results[name] = measure(clients, paths, warmup, proc.pid)
    finally:
        for client in clients:
            client.close()
        proc.terminate()
        proc.wait(10)
    return results


def _table(title: str, results: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    cpu = any("server_cpu_ms" in f for f in results.values())
    print(
        f"{'page':<28}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
        + (f"{'cpu ms':>9}" if cpu else "")
        + f"   target p95 < {TARGET_MS:.0f} ms"
    )
    for name, figures in results.items():
        verdict = "ok" if figures["p95_ms"] < TARGET_MS else "SLOW"
        if verdict == "SLOW" and figures.get("server_cpu_ms", TARGET_MS) < TARGET_MS:
            verdict = "SLOW on the clock, ok in CPU time (a busy machine?)"
        cpu_ms = f"{figures['server_cpu_ms']:>9.1f}" if cpu else ""
        print(
            f"{name:<28}{figures['p50_ms']:>9.1f}{figures['p95_ms']:>9.1f}"
            f"{figures['max_ms']:>9.1f}{cpu_ms}   {verdict}"
        )


def _database(args: argparse.Namespace) -> Path:
    """The database to time, built first when missing (and kept for the next run)."""
    db: Path = args.db or (TEAMS_DB if args.teams else DEFAULT_DB)
    if db.exists():
        _followed(db)
        return db
    db.parent.mkdir(parents=True, exist_ok=True)
    print(f"building {db} (a few minutes)…", file=sys.stderr)
    if args.teams:
        build = [sys.executable, str(HERE / "build_teams_db.py"), str(db)]
        subprocess.run([*build, "--base", str(DEFAULT_DB)], check=True)
    else:
        subprocess.run([sys.executable, str(HERE / "build_big_db.py"), str(db)], check=True)
    _followed(db)
    return db


def _followed(db: Path) -> None:
    """``build_big_db.py`` files its feeds and read flags the single-user way (``feeds.
    category_id``, ``entries.read``) in a database made new, which no person follows: the
    pages would time empty views. Its owner (admin) then follows every feed, the way migration
    11 does it for a desk of one (``migrate_to_teams``: subscriptions, categories, read and
    starred states)."""
    from sqlalchemy import create_engine

    from newsdesk.store.teams_migration import migrate_to_teams

    with sqlite3.connect(db) as conn:
        feeds, followed = conn.execute(
            "SELECT (SELECT count(*) FROM feeds), (SELECT count(*) FROM subscriptions)"
        ).fetchone()
    if not feeds or followed:
        return
    print(f"{db}: the admin follows its {feeds:,} feeds (migration 11)…", file=sys.stderr)
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.begin() as conn:
            migrate_to_teams(conn)
            conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--pages", default="", help="comma-separated page names (default: all)")
    parser.add_argument(
        "--teams", action="store_true", help="50 people each following 200 feeds (issue 15)"
    )
    parser.add_argument("--people", type=int, default=10, help="--teams: how many people to time")
    parser.add_argument("--rounds", type=int, default=5, help="--teams: store calls per person")
    parser.add_argument("--no-http", action="store_true", help="--teams: the store calls only")
    args = parser.parse_args()
    db = _database(args)
    with sqlite3.connect(db) as conn:
        n_entries = conn.execute("SELECT max(id) FROM entries").fetchone()[0]
        n_feeds = conn.execute("SELECT count(*) FROM feeds").fetchone()[0]
        n_people = conn.execute("SELECT count(*) FROM users").fetchone()[0]
    pages = _pages(db, args.requests, args.teams)
    if args.pages:
        chosen = {name.strip() for name in args.pages.split(",")}
        pages = {name: paths for name, paths in pages.items() if name in chosen}
    # People 2.. (members with the 8 categories of TEAM_TITLES; evenly spread, the last ones
    # are the "inbox zero" readers).
    spread = max(1, (n_people - 1) // max(1, args.people))
    people = list(range(n_people, 1, -spread))[: args.people] if args.teams else [1]
    document: dict[str, Any] = {"entries": n_entries, "feeds": n_feeds, "people": n_people}
    if args.teams:
        store_results = measure_store(db, people, args.rounds)
        document["store"] = store_results
        _table(
            f"Store calls as {len(people)} of {n_people} people, {args.rounds} rounds each "
            f"({n_entries:,} entries, {n_feeds:,} feeds; in-process, SQLite; cpu ms: the "
            "95th percentile of the CPU time each call took)",
            store_results,
        )
    if not (args.teams and args.no_http):
        names = [f"person{p:02d}" for p in people] if args.teams else ["admin"]
        results = measure_http(db, pages, names, args.warmup)
        document["pages"] = results
        _table(
            f"Newsdesk web pages over HTTP on loopback: {n_entries:,} entries, {n_feeds:,} feeds"
            + (f", as {len(names)} people in turn" if args.teams else ""),
            results,
        )
    load = os.getloadavg()[0]
    print(f"(load average {load:.1f} on {os.cpu_count()} CPUs; server CPU per request is the")
    print(" figure least disturbed by other work on the machine)")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = HERE / "results" / f"web{'-teams' if args.teams else ''}-{stamp}.json"
    out.parent.mkdir(exist_ok=True)
    document["machine"] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": round(load, 2),
    }
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()

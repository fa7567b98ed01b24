"""A/B of `newsdesk refresh --no-fulltext` between source trees (say main and a branch),
interleaved round by round so that a shared machine's load falls on both alike; medians of
CPU seconds, which a busy machine disturbs far less than wall time.

Modes: ``first`` (a fresh database per trial filled by ``newsdesk import OPML``, every feed
new), ``unchanged`` (one database per tree refreshed once beforehand: every feed answers 304)
and ``empty`` (no feeds: the start-up alone). Databases: SQLite, or PostgreSQL (``--postgres
ADMIN_URL``: a database ``ab_refresh`` on that server, dropped and created for each trial).

Reported per tree: wall, the main process's CPU (user + sys), the whole tree's (with the parse
workers) and, on PostgreSQL, the CPU of the server's backends of the trial's database (sampled
from /proc every 0.1 s: the same host only).

Every tree runs with its own bytecode cache (``PYTHONPYCACHEPREFIX``) and with
``PYTHONDONTWRITEBYTECODE`` unset: with it set and no cache, each process compiles Newsdesk's
modules from source again (about 0.1 s of CPU a process, parse workers included).

Run the farm first (``python benchmarks/farm.py --port 18767 --feeds 1000 --opml /tmp/farm.opml``),
then e.g. ``python benchmarks/ab_refresh.py --mode unchanged --opml /tmp/farm.opml --rounds 7
main=/work/main branch=/work/wt-branch``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_refresh import TreeSampler

# Runs in the measured process: the CLI, then its own CPU written out at exit.
_MAIN = (
    "import atexit, os, resource, sys\n"
    "def out():\n"
    "    u = resource.getrusage(resource.RUSAGE_SELF)\n"
    "    open(os.environ['AB_OUT'], 'w').write(str(u.ru_utime + u.ru_stime))\n"
    "if __name__ == '__main__':\n"
    "    atexit.register(out)\n"
    "    from newsdesk.cli import main\n"
    "    sys.exit(main())\n"
)
TICK = os.sysconf("SC_CLK_TCK")


def _env(tree: Path, home: Path, out: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[name] = str(home)
    env |= {
        "NEWSDESK_ALLOW_PRIVATE_NETWORKS": "1",
        "no_proxy": "*",
        "PYTHONPATH": str(tree / "src"),
        "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "ab_refresh_pyc" / tree.name),
        "AB_OUT": str(out),
    }
    return env


def _backend_cpu(database: str, stop: threading.Event, found: list[float]) -> None:
    """Sampled in this process (a psql per sample would count as the tree's CPU)."""
    import psycopg

    seen: dict[int, float] = {}
    with psycopg.connect(_url("postgres"), autocommit=True) as conn:
        while not stop.is_set():
            query = "SELECT pid FROM pg_stat_activity WHERE datname = %s"
            for (pid,) in conn.execute(query, (database,)).fetchall():
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    seen[pid] = (int(fields[11]) + int(fields[12])) / TICK
                except OSError:
                    pass
            time.sleep(0.1)
    found.append(sum(seen.values()))


def _url(database: str) -> str:
    return str(ARGS.postgres).rsplit("/", 1)[0] + "/" + database


def _psql(database: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_url(database), autocommit=True) as conn:
        conn.execute(sql)


def _fresh(tree: Path, home: Path) -> str:
    """A new empty database for this trial (and fresh XDG folders); its URL."""
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    if ARGS.postgres is None:
        return f"sqlite:///{home / 'newsdesk.db'}"
    _psql("postgres", "DROP DATABASE IF EXISTS ab_refresh WITH (FORCE)")
    _psql("postgres", "CREATE DATABASE ab_refresh")
    return _url("ab_refresh")


def _newsdesk(tree: Path, home: Path, *args: str) -> tuple[float, float, float]:
    """Run one command; (wall, main-process CPU, tree CPU). The tree's CPU is sampled from
    /proc (``bench_refresh.TreeSampler``): ``wait4`` misses the parse workers, whose parent is
    the pool's fork server, which nobody waits for."""
    out = home / "cpu"
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", _MAIN, *args],
        cwd=tree,
        env=_env(tree, home, out),
        stdout=subprocess.DEVNULL,
    )
    sampler = TreeSampler(process.pid, interval=0.05)  # light: it shares the CPUs
    sampler.start()
    code = process.wait()
    wall = time.perf_counter() - start
    sampler.done.set()
    sampler.join()
    if code != 0:
        raise subprocess.CalledProcessError(code, args)
    main_cpu = float(out.read_text())  # written at its exit: exact, where sampling is late
    return wall, main_cpu, sampler.tree_cpu_s - sampler.cpu.get(process.pid, 0.0) + main_cpu


def trial(name: str, tree: Path, work: Path, urls: dict[str, str]) -> list[float]:
    home = work / name
    if ARGS.mode == "first" or name not in urls:
        urls[name] = _fresh(tree, home)
        if ARGS.mode != "empty":
            _newsdesk(tree, home, "import", ARGS.opml, "--db", urls[name])
        if ARGS.mode == "unchanged":
            _newsdesk(tree, home, "refresh", "--no-fulltext", "--db", urls[name])
    stop, found = threading.Event(), [0.0]
    sampler = threading.Thread(target=_backend_cpu, args=("ab_refresh", stop, found))
    if ARGS.postgres:
        found.clear()
        sampler.start()
    figures = _newsdesk(tree, home, "refresh", "--no-fulltext", "--db", urls[name])
    if ARGS.postgres:
        stop.set()
        sampler.join()
    return [*figures, found[0]]


def main() -> None:
    if ARGS.postgres and ARGS.mode != "first":
        raise SystemExit("on PostgreSQL, --mode first only (one database at a time)")
    trees = dict(v.split("=", 1) for v in ARGS.trees)
    results: dict[str, list[list[float]]] = {name: [] for name in trees}
    urls: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="ab_refresh_") as work:
        for _ in range(ARGS.rounds):
            for name, tree in trees.items():
                figures = trial(name, Path(tree).resolve(), Path(work), urls)
                results[name].append(figures)
                print(name, " ".join(f"{x:.2f}" for x in figures), flush=True)
    print("tree: median wall / main-process CPU / tree CPU / PostgreSQL backends' CPU, seconds")
    for name, rows in results.items():
        medians = [statistics.median(column) for column in zip(*rows, strict=True)]
        print(f"{name}: " + " / ".join(f"{m:.3f}" for m in medians), f"(n={len(rows)})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", metavar="NAME=TREE")
    parser.add_argument("--mode", choices=("first", "unchanged", "empty"), default="unchanged")
    parser.add_argument("--opml", default="/tmp/farm.opml")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--postgres", metavar="ADMIN_URL", help="e.g. postgresql://postgres@127.0.0.1/postgres"
    )
    ARGS = parser.parse_args()
    main()

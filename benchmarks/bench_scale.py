"""Scale benchmark: the first refresh of a loopback farm (default 10,000 feeds x 30 items) by a
single process on SQLite, a single process on PostgreSQL, and Celery with 1, 2 and 4 worker
processes on PostgreSQL (Redis broker).

The farm is ``farm.py``, started and stopped through ``bench_refresh`` (same generator, same
addresses). Every scenario gets a fresh database filled by ``newsdesk import farm.opml`` (not
timed). Single process: the wall and CPU time of ``newsdesk refresh --no-fulltext``. Celery: the
workers are started and ready first; the clock runs from starting ``newsdesk beat`` until every
feed has been fetched (polled in the database); CPU is counted per process tree (workers, beat)
and for the PostgreSQL server processes. Full text is off everywhere: this measures
fetch + parse + process + store.

Run: ``python benchmarks/bench_scale.py [--feeds 10000] [--items 30] [--workers 1,2,4]``
(PostgreSQL admin URL from --postgres or $NEWSDESK_TEST_POSTGRES_URL, broker from --broker or
$NEWSDESK_TEST_REDIS_URL). Prints a table; writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from bench_refresh import (
    child_env,
    machine,
    newsdesk_command,
    run_measured,
    running_farm,
    versions,
)

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_BROKER = "redis://127.0.0.1:6379/15"


@contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"newsdesk_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def db_counts(db_url: str) -> tuple[int, int]:
    """(feeds fetched, entries) in the database at ``db_url``."""
    from sqlalchemy import create_engine, text

    from newsdesk.store.engine import normalize_url

    engine = create_engine(normalize_url(db_url))
    try:
        with engine.connect() as conn:
            fetched = conn.execute(
                text("SELECT count(*) FROM feeds WHERE last_fetched IS NOT NULL")
            ).scalar()
            entries = conn.execute(text("SELECT count(*) FROM entries")).scalar()
    finally:
        engine.dispose()
    return int(fetched or 0), int(entries or 0)


def import_farm(db_url: str, opml: Path, env: dict[str, str]) -> None:
    subprocess.run(
        [*newsdesk_command(), "import", str(opml), "--db", db_url],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def tree_cpu(process: psutil.Process) -> float:
    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        with suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
    return total


def postgres_cpu() -> float:
    """CPU of the local PostgreSQL server: live processes, plus the backends that have exited
    (counted in their parent's children times)."""
    total = 0.0
    for p in psutil.process_iter(["name"]):
        if p.info["name"] in ("postgres", "postmaster"):
            with suppress(psutil.Error):
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
    return total


def busy_cpu() -> float:
    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0))


def single_process(
    name: str, db_url: str, feeds: int, env: dict[str, str], log_dir: Path, unchanged: bool = False
) -> dict[str, Any]:
    """One measured `newsdesk refresh`; ``unchanged``: a second one, where every feed answers
    304 (its ``feeds_fetched`` counts the unchanged feeds)."""
    pg_before, busy_before = postgres_cpu(), busy_cpu()
    step = run_measured(
        name, [*newsdesk_command(), "refresh", "--no-fulltext", "--db", db_url], env, log_dir
    )
    fetched, entries = db_counts(db_url)
    if unchanged:
        fetched = feeds if step.exit_code == 0 and f"{feeds} unchanged" in step.output_tail else 0
    return {
        "scenario": name,
        "ok": step.exit_code == 0 and fetched == feeds,
        "wall_s": round(step.wall_s, 2),
        "app_cpu_s": round(step.cpu_s, 2),
        "db_cpu_s": round(postgres_cpu() - pg_before, 2) if "postgres" in name else None,
        "machine_busy_cpu_s": round(busy_cpu() - busy_before, 2),
        "feeds_fetched": fetched,
        "entries": entries,
        "peak_rss_mib": round(step.peak_rss_mib, 1),
        "output_tail": step.output_tail[-400:],
    }


def _stop(process: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(30)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        process.wait(10)


def celery_run(
    workers: int,
    db_url: str,
    feeds: int,
    env: dict[str, str],
    broker: str,
    log_dir: Path,
    timeout: float,
    batch_size: int,
) -> dict[str, Any]:
    env = env | {
        "NEWSDESK_DATABASE_URL": db_url,
        "NEWSDESK_BROKER_URL": broker,
        "NEWSDESK_CELERY_QUEUE": f"newsdesk-bench-{uuid.uuid4().hex[:8]}",
        "NEWSDESK_SCHEDULER_TICK": "1",
        "NEWSDESK_BATCH_SIZE": str(batch_size),
        "NEWSDESK_FULLTEXT": "0",
        "NEWSDESK_EXPAND_LINKS": "0",
    }
    started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(name: str, *args: str) -> subprocess.Popen[bytes]:
        log = log_dir / f"celery{workers}-{name}.log"
        process = subprocess.Popen(
            [*newsdesk_command(), *args],
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append((process, log))
        return process

    try:
        pool = [
            start(f"w{i}", "worker", "--name", f"w{i}@bench", "--log-level", "warning")
            for i in range(workers)
        ]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # ready: every worker answers a ping
            out = subprocess.run(
                [*newsdesk_command(), "queue", "--json"], env=env, capture_output=True
            )
            if out.returncode == 0 and len(json.loads(out.stdout)["workers"]) >= workers:
                break
            time.sleep(0.5)
        procs = [psutil.Process(p.pid) for p in pool]
        cpu_before = [tree_cpu(p) for p in procs]
        pg_before, busy_before = postgres_cpu(), busy_cpu()
        t0 = time.perf_counter()
        beat = start("beat", "beat", "--log-level", "warning")
        fetched = 0
        while time.perf_counter() - t0 < timeout:
            fetched, _ = db_counts(db_url)
            if fetched >= feeds:
                break
            time.sleep(0.5)
        wall = time.perf_counter() - t0
        worker_cpu = sum(tree_cpu(p) - b for p, b in zip(procs, cpu_before, strict=True))
        beat_cpu = tree_cpu(psutil.Process(beat.pid))
        pg_cpu, busy = postgres_cpu() - pg_before, busy_cpu() - busy_before
        fetched, entries = db_counts(db_url)
    finally:
        for process, _log in reversed(started):
            _stop(process)
    return {
        "scenario": f"celery {workers} worker{'s' if workers > 1 else ''} on postgresql",
        "ok": fetched == feeds,
        "wall_s": round(wall, 2),
        "app_cpu_s": round(worker_cpu + beat_cpu, 2),
        "db_cpu_s": round(pg_cpu, 2),
        "machine_busy_cpu_s": round(busy, 2),
        "feeds_fetched": fetched,
        "entries": entries,
        "workers": workers,
        "batch_size": batch_size,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--hosts", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", default="1,2,4", help="Celery worker counts to run")
    parser.add_argument("--batch-size", type=int, default=100, help="feeds per Celery task")
    parser.add_argument(
        "--skip", action="append", default=[], choices=("sqlite", "postgresql", "celery")
    )
    parser.add_argument(
        "--postgres", default=os.environ.get("NEWSDESK_TEST_POSTGRES_URL", DEFAULT_PG)
    )
    parser.add_argument(
        "--broker", default=os.environ.get("NEWSDESK_TEST_REDIS_URL", DEFAULT_BROKER)
    )
    parser.add_argument("--timeout", type=float, default=900, help="seconds per Celery run")
    parser.add_argument("--results", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def per_feed_ms(row: dict[str, Any], key: str) -> str:
    value, feeds = row.get(key), row.get("feeds_fetched") or 0
    return f"{value * 1000 / feeds:.1f}" if value is not None and feeds else "-"


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (
        f"{'scenario':34} {'ok':>3} {'wall s':>8} {'feeds/s':>8} {'app cpu ms/feed':>15} "
        f"{'db cpu ms/feed':>14} {'busy cpu ms/feed':>16} {'entries':>8}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        rate = r["feeds_fetched"] / r["wall_s"] if r["wall_s"] else 0
        print(
            f"{r['scenario']:34} {'yes' if r['ok'] else 'NO':>3} {r['wall_s']:>8.1f} "
            f"{rate:>8.0f} {per_feed_ms(r, 'app_cpu_s'):>15} {per_feed_ms(r, 'db_cpu_s'):>14} "
            f"{per_feed_ms(r, 'machine_busy_cpu_s'):>16} {r['entries']:>8}"
        )
    by = {r["scenario"]: r for r in rows}
    one = by.get("celery 1 worker on postgresql")
    for n in (2, 4):
        other = by.get(f"celery {n} workers on postgresql")
        if one and other and other["wall_s"]:
            print(f"speed-up, {n} workers vs 1: {one['wall_s'] / other['wall_s']:.2f}x")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="newsdesk-scale-") as tmp:
        workdir = Path(tmp)
        env = child_env(workdir)
        print(f"farm: {args.feeds} feeds x {args.items} items on {args.hosts} addresses…")
        with running_farm(args, workdir) as farm:
            opml = farm.opml
            if "sqlite" not in args.skip:
                db = f"sqlite:///{workdir / 'single.db'}"
                import_farm(db, opml, env)
                rows.append(
                    single_process("single process on sqlite", db, args.feeds, env, workdir)
                )
                rows.append(single_process("  again, all 304", db, args.feeds, env, workdir, True))
                print_table(rows[-2:])
            if "postgresql" not in args.skip:
                with fresh_postgres(args.postgres) as db:
                    import_farm(db, opml, env)
                    rows.append(
                        single_process("single process on postgresql", db, args.feeds, env, workdir)
                    )
                    rows.append(
                        single_process(
                            "  again, all 304 (postgresql)", db, args.feeds, env, workdir, True
                        )
                    )
                print_table(rows[-2:])
            if "celery" not in args.skip:
                for n in (int(w) for w in args.workers.split(",") if w.strip()):
                    with fresh_postgres(args.postgres) as db:
                        import_farm(db, opml, env)
                        rows.append(
                            celery_run(
                                n,
                                db,
                                args.feeds,
                                env,
                                args.broker,
                                workdir,
                                args.timeout,
                                args.batch_size,
                            )
                        )
                    print_table(rows[-1:])
    print()
    print_table(rows)
    result = {
        "benchmark": "scale",
        "when": datetime.now().isoformat(timespec="seconds"),
        "feeds": args.feeds,
        "items": args.items,
        "hosts": args.hosts,
        "machine": machine(),
        "load_average_at_end": os.getloadavg(),
        "versions": versions(),
        "rows": rows,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / f"scale-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten {out}")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

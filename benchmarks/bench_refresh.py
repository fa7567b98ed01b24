"""Refresh benchmark: Newsdesk against the `reader` library on the same synthetic feed farm.

This module owns the orchestration and the measuring: it starts the farm (``farm.py``) as a
subprocess, checks with ``probe.py`` that the farm answers far more 304s per second than any
client needs, then runs each measured step in a fresh subprocess with its own SQLite database:

* start-up cost: ``newsdesk --version``, ``python -c 'import reader'``, and each program's
  refresh of an empty database (best of three runs each);
* Newsdesk: ``newsdesk import farm.opml`` (setup), then ``newsdesk refresh --no-fulltext`` twice:
  the first refresh stores everything, the second finds the farm unchanged (all 304);
* reader: ``reader_refresh.py add`` (setup), then ``reader_refresh.py update`` twice.

Each step reports the wall time of the subprocess (the primary figure), the time the program
reports itself, the CPU time and peak memory of its process tree (``wait4`` and polling),
the entries stored and the database size (read from its SQLite file), and what the farm answered
during the step (its ``/_stats`` counters before and after). The result is printed as a plain
text table and written as JSON to ``benchmarks/results/``.

Run: ``python benchmarks/bench_refresh.py [--feeds 1000] [--items 30]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any

import psutil

from probe import ProbeResult, probe, urls_from_opml

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
MIB = 1024 * 1024
_SUMMARY_SECONDS = re.compile(r"\bin ([0-9.]+) ?s\b")


@dataclass(slots=True)
class Farm:
    """A running farm subprocess and what it announced."""

    process: subprocess.Popen[bytes]
    info: dict[str, Any]
    opml: Path

    @property
    def stats_url(self) -> str:
        return f"http://127.0.0.1:{self.info['port']}/_stats"

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(self.stats_url, timeout=10) as response:  # loopback only
            data: dict[str, int] = json.load(response)
        return data


@dataclass(slots=True)
class Step:
    """One measured subprocess."""

    name: str
    command: list[str]
    exit_code: int
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    sampled_rss_mib: float
    ru_maxrss_mib: float
    waited_cpu_s: float
    polled_cpu_s: float
    processes: int
    root_peak_rss_mib: float
    entries: int | None = None
    new_entries: int | None = None
    feeds: int = 0
    farm: dict[str, int] = field(default_factory=dict)
    in_process: str = ""
    in_process_s: float | None = None
    db_mib: float | None = None
    farm_cpu_s: float = 0.0
    other_cpu_s: float = 0.0
    output_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class TreeSampler(threading.Thread):
    """Polls the memory and CPU time of a process and its descendants until stopped.

    Memory: the peak of the summed RSS of the tree, and the peak of the summed VmHWM (each
    process's own high-water mark since its exec, kept by the kernel). VmHWM only grows, so
    polling misses at most what a process gained in its last interval before exiting; it is what
    ``wait4``'s ``ru_maxrss`` would be, except that ``ru_maxrss`` also counts the RSS of the
    parent at spawn time (the vforked child runs in the parent's memory until exec).

    CPU: the last CPU time seen of every process that was in the tree, summed. ``wait4`` only
    counts descendants that their parent waited for, which misses, for instance, the workers of
    a ``forkserver`` process pool (the fork server reaps them and is never waited for itself).
    """

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss = 0
        self.peak_hwm = 0
        self.root_hwm = 0
        self.cpu: dict[int, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self.done.is_set():
            self.sample(root)
            self.done.wait(self.interval)

    def sample(self, root: psutil.Process) -> None:
        try:
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        rss = hwm = 0
        for process in processes:
            try:
                with process.oneshot():
                    current = process.memory_info().rss
                    times = process.cpu_times()
            except psutil.Error:
                continue
            peak = max(current, _vm_hwm(process.pid))
            rss, hwm = rss + current, hwm + peak
            self.cpu[process.pid] = times.user + times.system
            if process.pid == self.pid:
                self.root_hwm = max(self.root_hwm, peak)
        self.peak_rss, self.peak_hwm = max(self.peak_rss, rss), max(self.peak_hwm, hwm)

    @property
    def tree_cpu_s(self) -> float:
        return sum(self.cpu.values())


def _vm_hwm(pid: int) -> int:
    """VmHWM of ``pid`` in bytes from /proc (0 where there is no /proc)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0
    return 0


def run_measured(name: str, command: list[str], env: dict[str, str], log_dir: Path) -> Step:
    """Run ``command`` to completion; wall, CPU and peak memory come from this one child."""
    log = log_dir / f"{name.replace(' ', '_')}.log"
    with log.open("wb") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
        sampler = TreeSampler(process.pid)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        sampler.done.set()
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    output = log.read_text(encoding="utf-8", errors="replace")
    waited_cpu = usage.ru_utime + usage.ru_stime
    return Step(
        name=name,
        command=command,
        exit_code=process.returncode,
        wall_s=wall,
        cpu_s=max(waited_cpu, sampler.tree_cpu_s),
        waited_cpu_s=waited_cpu,
        polled_cpu_s=sampler.tree_cpu_s,
        processes=max(1, len(sampler.cpu)),
        root_peak_rss_mib=sampler.root_hwm / MIB,
        peak_rss_mib=sampler.peak_hwm / MIB,
        sampled_rss_mib=sampler.peak_rss / MIB,
        ru_maxrss_mib=usage.ru_maxrss * 1024 / MIB,  # Linux reports KiB
        output_tail="\n".join(output.strip().splitlines()[-15:]),
    )


def start_farm(args: argparse.Namespace, workdir: Path) -> Farm:
    """Start ``farm.py`` and wait for its JSON announcement line."""
    opml = workdir / "farm.opml"
    command = [
        sys.executable,
        str(HERE / "farm.py"),
        f"--feeds={args.feeds}",
        f"--items={args.items}",
        f"--hosts={args.hosts}",
        f"--seed={args.seed}",
        "--port=0",
        f"--opml={opml}",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait()
        raise SystemExit(f"the farm exited ({process.returncode}) before announcing itself")
    return Farm(process, json.loads(line), opml)


def stop_farm(farm: Farm) -> None:
    farm.process.terminate()
    try:
        farm.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        farm.process.kill()
        farm.process.wait()


@contextmanager
def running_farm(args: argparse.Namespace, workdir: Path) -> Iterator[Farm]:
    farm = start_farm(args, workdir)
    try:
        yield farm
    finally:
        stop_farm(farm)


def count_entries(db: Path) -> int | None:
    """Rows in the ``entries`` table of a SQLite file (both programs name it so)."""
    if not db.exists():
        return None
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        try:
            (count,) = connection.execute("SELECT count(*) FROM entries").fetchone()
        except sqlite3.Error:
            return None
    return int(count)


def db_size(db: Path) -> int:
    """Bytes of a SQLite database on disk, with its WAL (not yet checkpointed pages count)."""
    files = (db, db.with_name(db.name + "-wal"))
    return sum(f.stat().st_size for f in files if f.exists())


def child_env(workdir: Path) -> dict[str, str]:
    """The environment of measured children: private networks allowed, no proxy, own dirs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env |= {
        "NEWSDESK_ALLOW_PRIVATE_NETWORKS": "1",
        "NO_PROXY": "127.0.0.0/8,localhost",
        "no_proxy": "127.0.0.0/8,localhost",
        "XDG_DATA_HOME": str(workdir / "xdg-data"),
        "XDG_CACHE_HOME": str(workdir / "xdg-cache"),
        "XDG_CONFIG_HOME": str(workdir / "xdg-config"),
    }
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env.pop(name, None)
    # As users run them: with bytecode cached (a shell that sets this makes every child, parse
    # workers included, compile Newsdesk's sources again; reader's come compiled from the wheel).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def newsdesk_command() -> list[str]:
    """The ``newsdesk`` console script next to this interpreter, else ``python -m newsdesk``."""
    script = Path(sys.executable).with_name("newsdesk")
    return [str(script)] if script.exists() else [sys.executable, "-m", "newsdesk"]


def _busy_cpu_s() -> float:
    """CPU seconds all CPUs of the machine have spent busy since boot."""
    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0))


def _process_cpu_s(process: psutil.Process) -> float:
    t = process.cpu_times()
    return float(t.user + t.system)


class Runner:
    """Runs steps against one farm, records the farm's answers during each step."""

    def __init__(self, farm: Farm, workdir: Path, env: dict[str, str]) -> None:
        self.farm, self.workdir, self.env = farm, workdir, env
        self.steps: list[Step] = []
        self._farm_process = psutil.Process(farm.process.pid)
        self._me = psutil.Process()

    def measure(self, name: str, command: list[str]) -> Step:
        """``run_measured`` plus the CPU the farm and unrelated processes used meanwhile.

        ``other_cpu_s`` is the machine's busy CPU time minus the child's, the farm's and this
        process's: other work competing with the step (it inflates wall times, not CPU times).
        """
        busy, farm, me = _busy_cpu_s(), _process_cpu_s(self._farm_process), _process_cpu_s(self._me)
        step = run_measured(name, command, self.env, self.workdir)
        step.farm_cpu_s = _process_cpu_s(self._farm_process) - farm
        mine = _process_cpu_s(self._me) - me
        step.other_cpu_s = max(0.0, _busy_cpu_s() - busy - step.cpu_s - step.farm_cpu_s - mine)
        return step

    def step(self, name: str, command: list[str], db: Path | None = None) -> Step:
        before = self.farm.stats()
        entries_before = count_entries(db) if db else None
        step = self.measure(name, command)
        after = self.farm.stats()
        step.farm = {key: after[key] - before.get(key, 0) for key in after}
        step.feeds = step.farm.get("full", 0) + step.farm.get("not_modified", 0)
        if db is not None:
            step.entries = count_entries(db)
            if step.entries is not None:
                step.new_entries = step.entries - (entries_before or 0)
            step.db_mib = db_size(db) / MIB
        self.steps.append(step)
        _echo(step)
        return step


def _echo(step: Step) -> None:
    state = "ok" if step.ok else f"FAILED (exit {step.exit_code})"
    print(f"  {step.name:<28} {step.wall_s:8.2f} s  {state}", file=sys.stderr, flush=True)
    if not step.ok:
        print(_indent(step.output_tail), file=sys.stderr, flush=True)


def _indent(text: str) -> str:
    return "\n".join("      " + line for line in text.splitlines())


def best_of(runner: Runner, name: str, command: list[str], times: int) -> Step:
    """The fastest of ``times`` runs of a start-up command; only that one is kept."""
    runs = [runner.measure(name, command) for _ in range(times)]
    best = min(runs, key=lambda s: s.wall_s)
    runner.steps.append(best)
    _echo(best)
    return best


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def run_startup(runner: Runner, reader_workers: int) -> None:
    """Start-up costs: bare imports, then a whole refresh of an empty database (best of 3)."""
    best_of(runner, "newsdesk --version", [*newsdesk_command(), "--version"], 3)
    reader_import = [sys.executable, "-c", "import reader._parser.feedparser, reader"]
    best_of(runner, "python -c 'import reader'", reader_import, 3)
    empty = f"sqlite:///{runner.workdir / 'empty-nd.db'}"
    refresh = [*newsdesk_command(), "--db", empty, "refresh", "--no-fulltext"]
    best_of(runner, "newsdesk refresh, 0 feeds", refresh, 3)
    update = [*_reader_script(), "update", "--db", str(runner.workdir / "empty-reader.db")]
    best_of(runner, "reader update, 0 feeds", [*update, f"--workers={reader_workers}"], 3)


def _reader_script() -> list[str]:
    return [sys.executable, str(HERE / "reader_refresh.py")]


# The refresh runs Newsdesk's intelligence stage (issue 7) on new entries. The steps named
# "newsdesk …" run it as shipped but with entities off (stories and timelines on); the variants
# measure it against the core pipeline alone ("no intel") and with entities on.
INTEL_VARIANTS: dict[str, dict[str, str]] = {
    "": {"NEWSDESK_ENTITIES": "0"},
    " (no intel)": {
        "NEWSDESK_STORIES": "0",
        "NEWSDESK_ENTITIES": "0",
        "NEWSDESK_TIMELINES": "0",
        "NEWSDESK_ALERTS": "0",
    },
    " (entities on)": {"NEWSDESK_ENTITIES": "1"},
}


def run_newsdesk(runner: Runner, variants: Sequence[str]) -> None:
    env = runner.env
    for variant in variants:
        runner.env = {**env, **INTEL_VARIANTS[variant]}
        slug = variant.strip(" ()").replace(" ", "-") or "default"
        db = runner.workdir / f"nd-{slug}.db"
        base = [*newsdesk_command(), "--db", f"sqlite:///{db}"]
        runner.step(
            f"newsdesk import (setup){variant}", [*base, "import", str(runner.farm.opml)], db
        )
        for name in ("newsdesk first refresh", "newsdesk unchanged refresh"):
            step = runner.step(name + variant, [*base, "refresh", "--no-fulltext"], db)
            lines = [line for line in step.output_tail.splitlines() if line.strip()]
            summary = next((line for line in lines if _SUMMARY_SECONDS.search(line)), "")
            step.in_process = " / ".join(line.strip() for line in lines[-2:])
            seconds = _SUMMARY_SECONDS.search(summary)
            step.in_process_s = float(seconds.group(1)) if seconds else None
            if name.endswith("first refresh") and variant != " (no intel)":
                # A first import is more than intel_inline_max entries: the stage is left to
                # the background job. Measure that job here, as `newsdesk intel` runs it.
                job = runner.step(f"newsdesk intel (background){variant}", [*base, "intel"], db)
                job.in_process = last_line(job.output_tail)
                seconds = _SUMMARY_SECONDS.search(job.output_tail)
                job.in_process_s = float(seconds.group(1)) if seconds else None
    runner.env = env


def run_reader(runner: Runner, workers: int, *, search: bool) -> None:
    db = runner.workdir / "reader.db"
    script = _reader_script()
    add = [*script, "add", "--db", str(db), "--opml", str(runner.farm.opml)]
    add += ["--search"] if search else []
    runner.step("reader add_feed (setup)", add, db)
    update = [*script, "update", "--db", str(db), f"--workers={workers}"]
    for name in ("reader first update", "reader unchanged update"):
        step = runner.step(name, update, db)
        step.in_process, step.in_process_s = _reader_summary(step.output_tail)


def _reader_summary(output: str) -> tuple[str, float | None]:
    try:
        report = json.loads(last_line(output))
    except ValueError:
        return last_line(output), None
    search = f", update_search {report['search_s']:.2f} s" if report.get("search_s") else ""
    return (
        f"update_feeds {report['update_s']:.2f} s{search} (import {report['import_s']:.2f} s); "
        f"feeds updated {report['feeds_updated']}, not modified "
        f"{report['feeds_not_modified']}, failed {report['feeds_failed']}"
    ), report["update_s"]


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "memory_mib": round(psutil.virtual_memory().total / MIB),
    }


def versions() -> dict[str, str]:
    found = {}
    for package in ("newsdesk", "reader", "aiohttp", "sqlalchemy", "feedparser", "requests"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "-"
    return found


def _rate(count: int | None, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if count and seconds else "-"


def format_table(steps: Sequence[Step]) -> str:
    """A plain text table, one row per step."""
    header = (
        f"{'step':<28} {'wall s':>7} {'inproc':>7} {'cpu s':>6} {'other':>6} {'entries':>7} "
        f"{'new':>7} {'new/s':>6} {'feeds/s':>7} {'peak MiB':>8} {'procs':>5} {'db MiB':>7} "
        f"{'200':>5} {'304':>5}"
    )
    return "\n".join([header, "-" * len(header), *(_row(s) for s in steps)])


def _row(s: Step) -> str:
    entries = "-" if s.entries is None else f"{s.entries:,}"
    new = "-" if s.new_entries is None else f"{s.new_entries:,}"
    inproc = "-" if s.in_process_s is None else f"{s.in_process_s:.2f}"
    db = "-" if s.db_mib is None else f"{s.db_mib:.1f}"
    full = s.farm.get("full", 0) if s.farm else "-"
    not_modified = s.farm.get("not_modified", 0) if s.farm else "-"
    return (
        f"{s.name:<28} {s.wall_s:7.2f} {inproc:>7} {s.cpu_s:6.2f} {s.other_cpu_s:6.2f} "
        f"{entries:>7} {new:>7} {_rate(s.new_entries, s.wall_s):>6} "
        f"{_rate(s.feeds, s.wall_s):>7} {s.peak_rss_mib:8.1f} {s.processes:>5} {db:>7} "
        f"{full:>5} {not_modified:>5}" + ("" if s.ok else f"  FAILED exit {s.exit_code}")
    )


def format_ratios(wall: dict[str, float | None], cpu: dict[str, float | None]) -> str:
    """reader / Newsdesk, by wall time and by CPU time."""
    lines = [f"{'reader / newsdesk (>1: Newsdesk faster)':<42} {'wall':>6} {'cpu':>6}"]
    for key in wall:
        shown = [("-" if v is None else f"{v:.2f}x") for v in (wall[key], cpu.get(key))]
        lines.append(f"{key.replace('_', ' '):<42} {shown[0]:>6} {shown[1]:>6}")
    return "\n".join(lines)


def contention_warning(steps: Sequence[Step]) -> str | None:
    """A warning when unrelated processes used more than a tenth of a CPU during a step."""
    busy = [s for s in steps if s.wall_s >= 1 and s.other_cpu_s > 0.1 * s.wall_s]
    if not busy:
        return None
    worst = max(busy, key=lambda s: s.other_cpu_s / s.wall_s)
    return (
        f"WARNING: other processes were busy during {len(busy)} step(s) (worst: "
        f"{worst.name}, {worst.other_cpu_s:.1f} CPU s in {worst.wall_s:.1f} s): wall times are "
        "inflated; compare CPU times or rerun on an idle machine."
    )


def ratios(steps: Sequence[Step], measure: str = "wall_s") -> dict[str, float | None]:
    """reader time / Newsdesk time (``wall_s`` or ``cpu_s``); above 1: Newsdesk is faster."""
    by_name = {s.name: s for s in steps}
    pairs = {
        "first_refresh": ("reader first update", "newsdesk first refresh"),
        "unchanged_refresh": ("reader unchanged update", "newsdesk unchanged refresh"),
        "startup_imports": ("python -c 'import reader'", "newsdesk --version"),
        "startup_empty_refresh": ("reader update, 0 feeds", "newsdesk refresh, 0 feeds"),
        # above 1: the intelligence stage (entities off) costs the refresh that much more
        "intel_cost_first_refresh": ("newsdesk first refresh", "newsdesk first refresh (no intel)"),
    }
    found: dict[str, float | None] = {}
    for key, (theirs, ours) in pairs.items():
        a, b = by_name.get(theirs), by_name.get(ours)
        if a is None or b is None or not (a.ok and b.ok) or getattr(b, measure) <= 0:
            found[key] = None
        else:
            found[key] = getattr(a, measure) / getattr(b, measure)
    return found


def report(
    args: argparse.Namespace, farm: Farm, probes: dict[str, ProbeResult], steps: Sequence[Step]
) -> dict[str, Any]:
    """Print the human summary and return everything as one JSON-able dict."""
    found, found_cpu = ratios(steps), ratios(steps, "cpu_s")
    print(f"command : {shlex.join([Path(sys.executable).name, *sys.argv])}")
    info = machine()
    print(
        f"machine : {info['cpus']} CPUs, {info['memory_mib']:,} MiB, "
        f"{info['implementation']} {info['python']}, {info['platform']}"
    )
    print(f"versions: {', '.join(f'{k} {v}' for k, v in versions().items())}")
    print(
        f"farm    : {farm.info['feeds']} feeds x {farm.info['items']} items on "
        f"{farm.info['hosts']} addresses, {farm.info['bytes'] / MIB:.0f} MiB "
        f"({farm.info['gzip_bytes'] / MIB:.0f} MiB gzip), built in {farm.info['startup_s']} s"
    )
    print(
        f"farm can: {probes['304'].per_second:,.0f} req/s of 304, "
        f"{probes['200'].per_second:,.0f} req/s of full gzip bodies "
        f"({probes['200'].connections} connections, one core left for the farm)"
    )
    search = ", then update_search()" if args.reader_search else " (search not enabled)"
    print(f"reader  : update_feeds_iter(workers={args.reader_workers}, scheduled=False){search}\n")
    print(format_table(steps))
    print()
    for step in steps:
        if step.in_process:
            print(f"{step.name}: {step.in_process}")
    print()
    print(format_ratios(found, found_cpu))
    warning = contention_warning(steps)
    if warning:
        print(f"\n{warning}")
    return {
        "command": sys.argv,
        "machine": info,
        "versions": versions(),
        "farm": farm.info,
        "probe": {kind: result.as_dict() for kind, result in probes.items()},
        "reader_workers": args.reader_workers,
        "reader_search": args.reader_search,
        "steps": [asdict(s) for s in steps],
        "ratios_reader_over_newsdesk": {"wall": found, "cpu": found_cpu},
    }


def write_json(result: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"refresh-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return path


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--hosts", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reader-workers", type=int, default=16, help="update_feeds workers")
    parser.add_argument(
        "--reader-search",
        action="store_true",
        help="let reader index entries for full-text search too (update_search), as Newsdesk does",
    )
    parser.add_argument("--probe-seconds", type=float, default=2.0)
    parser.add_argument("--skip", choices=("newsdesk", "reader"), action="append", default=[])
    parser.add_argument(
        "--intel",
        choices=("no-intel", "entities-on"),
        action="append",
        default=[],
        help="also run Newsdesk without its intelligence stage, or with entities on",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, workdir: Path, log: IO[str]) -> dict[str, Any]:
    """Farm up, probe, startup, Newsdesk, reader, report."""
    print(f"workdir {workdir}; starting the farm…", file=log, flush=True)
    with running_farm(args, workdir) as farm:
        probes = probe_farm(farm, args.probe_seconds, log)
        runner = Runner(farm, workdir, child_env(workdir))
        run_startup(runner, args.reader_workers)
        if "newsdesk" not in args.skip:
            extra = [f" ({v.replace('-', ' ')})" for v in args.intel]
            run_newsdesk(runner, ["", *extra])
        if "reader" not in args.skip:
            run_reader(runner, args.reader_workers, search=args.reader_search)
        return report(args, farm, probes, runner.steps)


def probe_farm(farm: Farm, seconds: float, log: IO[str]) -> dict[str, ProbeResult]:
    """How fast the farm answers 304s and full bodies, to show it is not the bottleneck."""
    urls = urls_from_opml(farm.opml)
    probes = {
        "304": asyncio.run(probe(urls, seconds)),
        "200": asyncio.run(probe(urls, seconds, conditional=False)),
    }
    for kind, result in probes.items():
        print(f"  farm probe: {result.per_second:,.0f} req/s of {kind}", file=log, flush=True)
    return probes


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="newsdesk-bench-"))
    try:
        result = run(args, workdir, sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    path = write_json(result, args.results)
    print(f"\nJSON: {path}")
    failed = [s["name"] for s in result["steps"] if s["exit_code"] != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

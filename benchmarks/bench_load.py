"""Load while refreshing: the web app (`newsdesk serve`) answers pages and API requests with
wrk while `newsdesk refresh` writes a large farm into the same SQLite (or PostgreSQL) database.

One command, all on loopback:

    python benchmarks/bench_load.py [--feeds 500] [--items 30] [--seconds 20] [--connections 8]
        [--refresh outside|inside|scheduler]

It starts the feed farm (benchmarks/farm.py), subscribes a fresh database to every feed, fills
it from the first 10% of them (so pages have entries), starts `newsdesk serve --no-auth` and then
a refresh of everything; while that refresh writes, it runs wrk against a rotation of pages and
then against the native API. Where the refresh runs (``--refresh``): ``outside`` (the default)
a separate `newsdesk refresh` process; ``inside`` a refresh job of the server itself (POST
/api/refresh, what "Refresh now" does); ``scheduler`` the server's own scheduler (`serve`
without --no-scheduler: the 90% never fetched are due at once); ``none`` no refresh at all (the
idle figures). It prints requests/s, p50/p90/p99 latency, non-2xx answers, socket errors, and
how many "database is locked" lines the server logged, and writes them to
benchmarks/results/load-*.json. Needs `wrk` (Debian: apt-get install -y wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable

PAGES_LUA = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1], headers)
end
headers = {}
%s
done = function(summary, latency, requests)
  io.write(string.format("NONOK %%d\\n", summary.errors.status))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_farm(feeds: int, items: int, opml: Path) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [
            PYTHON,
            str(HERE / "farm.py"),
            "--feeds",
            str(feeds),
            "--items",
            str(items),
            "--hosts",
            "16",
            "--opml",
            str(opml),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, info


def newsdesk(*args: str, env: dict[str, str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "newsdesk", *args], env=env, text=True, capture_output=True, check=True, **kw
    )


def wait_http(url: str, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def run_wrk(
    base: str, paths: list[str], seconds: int, connections: int, header: str
) -> dict[str, Any]:
    lua = PAGES_LUA % (
        ", ".join(json.dumps(p) for p in paths),
        header,
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(min(2, connections)),  # wrk wants a connection per thread
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "--latency",
                "--timeout",
                "10s",
                "-s",
                script.name,
                base + "/",
            ],
            text=True,
            capture_output=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    return parse_wrk(out)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(value: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)", value)
    assert match, value
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(out: str) -> dict[str, Any]:
    result: dict[str, Any] = {"raw": out}
    for pct in ("50", "90", "99"):
        match = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        result[f"p{pct}_ms"] = _ms(match.group(1)) if match else None
    match = re.search(r"(\d+) requests in", out)
    result["requests"] = int(match.group(1)) if match else 0
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["requests_per_s"] = float(match.group(1)) if match else 0.0
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(match.group(1)) if match else 0
    match = re.search(r"Socket errors: (.*)", out)
    result["socket_errors"] = match.group(1).strip() if match else "none"
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--seconds", type=int, default=20, help="wrk duration per target")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--db", help="database URL (default: a SQLite file in a temp folder)")
    parser.add_argument(
        "--refresh",
        choices=("outside", "inside", "scheduler", "none"),
        default="outside",
        help="where the refresh runs: a `newsdesk refresh` process, a refresh job of the "
        "server (POST /api/refresh), or the server's scheduler; none: the idle figures",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install -y wrk)", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="newsdesk-load-"))
    db = args.db or f"sqlite:///{work / 'load.db'}"
    env = {
        **os.environ,
        "NEWSDESK_DATABASE_URL": db,
        "NEWSDESK_ALLOW_PRIVATE_NETWORKS": "1",
        "NEWSDESK_FULLTEXT": "0",
        "NEWSDESK_EXPAND_LINKS": "0",
    }
    procs: list[subprocess.Popen[Any]] = []
    try:
        farm, _info = start_farm(args.feeds, args.items, work / "farm.opml")
        procs.append(farm)
        newsdesk("import", str(work / "farm.opml"), env=env)
        seed = max(1, args.feeds // 10)
        newsdesk("refresh", *(f"--feed={i}" for i in range(1, seed + 1)), env=env)
        key = _api_key(db)
        port = free_port()
        server_log = open(work / "serve.log", "w")  # noqa: SIM115 - handed to the server
        # outside/inside: the benchmark's own refresh is the only writer
        scheduler = [] if args.refresh == "scheduler" else ["--no-scheduler"]
        serve = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "newsdesk",
                "serve",
                *scheduler,
                "--no-auth",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
        procs.append(serve)
        server_log.close()  # the server has its own copy of the descriptor
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/healthz")

        refresh_started = time.monotonic()
        refresh = Refresh(args.refresh, base, key, env, db)
        if refresh.process is not None:
            procs.append(refresh.process)
        time.sleep(1.0)  # let it start writing
        pages = [
            "/",
            "/categories",
            "/search?q=lorem",
            "/subscriptions",
            "/feed/1",
            "/entry/1",
            "/entry/2",
            "/?page=2",
        ]
        page_result = run_wrk(base, pages, args.seconds, args.connections, "")
        api_header = f'headers["Authorization"] = "Bearer {key}"'
        api_paths = [
            "/api/entries?limit=50",
            "/api/subscriptions",
            "/v1/entries?limit=50",
            "/api/entries/1",
            "/v1/feeds/counters",
        ]
        api_result = run_wrk(base, api_paths, args.seconds, args.connections, api_header)
        refresh_running = refresh.running()
        summary = refresh.finish(timeout=1800)
        refresh_seconds = time.monotonic() - refresh_started
        log = (work / "serve.log").read_text()
        locked = log.count("database is locked")
        server_errors = log.count("Traceback")
        results = {
            "when": datetime.now(UTC).isoformat(),
            "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
            "database": db.split(":", 1)[0],
            "feeds": args.feeds,
            "refresh": args.refresh,
            "items": args.items,
            "connections": args.connections,
            "seconds_per_target": args.seconds,
            "refresh_still_running_after_both_runs": refresh_running,
            "refresh_seconds": round(refresh_seconds, 1),
            "refresh_summary": summary,
            "pages": {k: v for k, v in page_result.items() if k != "raw"},
            "api": {k: v for k, v in api_result.items() if k != "raw"},
            "database_is_locked_in_server_log": locked,
            "tracebacks_in_server_log": server_errors,
        }
        print(json.dumps(results, indent=2))
        for name, r in (("pages", page_result), ("api", api_result)):
            print(
                f"{name:5}: {r['requests_per_s']:8.1f} req/s  p50 {r['p50_ms']:.1f} ms  "
                f"p90 {r['p90_ms']:.1f} ms  p99 {r['p99_ms']:.1f} ms  non-2xx {r['non_2xx']}  "
                f"socket errors: {r['socket_errors']}"
            )
        print(
            f"refresh: {results['refresh_summary']} ({refresh_seconds:.1f} s, "
            f"running during the load: {refresh_running})"
        )
        print(f'"database is locked" in the server log: {locked}; tracebacks: {server_errors}')
        out_dir = HERE / "results"
        out_dir.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        (out_dir / f"load-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
        bad = page_result["non_2xx"] + api_result["non_2xx"] + locked + server_errors
        return 1 if bad else 0
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        shutil.rmtree(work, ignore_errors=True)


class Refresh:
    """The refresh the load runs against: a process, a job of the server, or its scheduler."""

    def __init__(self, where: str, base: str, key: str, env: dict[str, str], db: str) -> None:
        self.where, self.base, self.key, self.db = where, base, key, db
        self.process: subprocess.Popen[str] | None = None
        self.job_url = ""
        if where == "outside":
            self.process = subprocess.Popen(
                [PYTHON, "-m", "newsdesk", "refresh"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        elif where == "inside":
            job = self._api("POST", "/api/refresh")
            self.job_url = job["url"]

    def _api(self, method: str, path: str) -> dict[str, Any]:
        import urllib.request

        request = urllib.request.Request(
            self.base + path,
            method=method,
            headers={"Authorization": f"Bearer {self.key}"},
            data=b"" if method == "POST" else None,
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            found: dict[str, Any] = json.loads(response.read())
            return found

    def _scheduled(self) -> str | None:
        """Once no feed is due: how many the scheduler fetched."""
        from newsdesk.store import open_store

        store = open_store(self.db)
        try:
            counts = store.leases.feed_counts(datetime.now(UTC))
        finally:
            store.close()
        return f"{counts.total} feeds fetched by the scheduler" if counts.due == 0 else None

    def running(self) -> bool:
        if self.where == "none":
            return False
        if self.process is not None:
            return self.process.poll() is None
        if self.where == "inside":
            return bool(self._api("GET", self.job_url)["status"] == "running")
        return self._scheduled() is None

    def finish(self, timeout: float) -> str:
        """Wait for the refresh to end; its summary."""
        if self.where == "none":
            return "no refresh (idle)"
        if self.process is not None:
            out, err = self.process.communicate(timeout=timeout)
            return out.strip().splitlines()[0] if out.strip() else err[-500:]
        deadline = time.monotonic() + timeout
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.5)
        if self.where == "inside":
            job = self._api("GET", self.job_url)
            return str(job.get("summary") or job.get("failure") or job["status"])
        return self._scheduled() or "still running"


def _api_key(db: str) -> str:
    from newsdesk.store import open_store

    store = open_store(db)
    try:
        _token, key = store.tokens.create_token("bench-load")
        return key
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())

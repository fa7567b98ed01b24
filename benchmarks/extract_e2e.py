"""Full text end to end: corpus pages behind a summary-only feed on loopback, read by the real
``newsdesk refresh`` and read back with ``newsdesk entries --json``.

One RSS feed lists every page (a title, the page's link and a one-line summary, so Newsdesk wants
the full text of each); a threaded HTTP server on 127.0.0.1 answers the feed and the pages, each
page with its raw bytes and ``text/html`` without a charset, as the direct call gets them. Newsdesk
runs as child processes on a temporary SQLite database: ``add``, then a timed ``refresh``, then
``entries --json``. Each entry's ``content_text`` is scored like the direct call's text. The
intelligence stage (stories, entities, timelines, alerts) is switched off: it reads the stored
text after the extraction and has benchmarks of its own.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent


class CorpusPage(Protocol):
    name: str
    body: bytes


def feed_xml(base: str, count: int) -> bytes:
    """An RSS 2.0 feed of ``count`` items pointing at ``base/p/<index>.html``."""
    date = format_datetime(datetime(2024, 5, 1, tzinfo=UTC))
    items = "".join(
        f"<item><title>Corpus page {i}</title><link>{escape(base)}/p/{i}.html</link>"
        f'<guid isPermaLink="false">page-{i}</guid><pubDate>{date}</pubDate>'
        "<description>A short summary; the article is on the page.</description></item>"
        for i in range(count)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Extraction corpus</title><link>{escape(base)}/</link>"
        f"<description>Pages of a public corpus</description>{items}</channel></rss>"
    ).encode()


def serve(pages: Sequence[CorpusPage]) -> tuple[ThreadingHTTPServer, str]:
    """Start the loopback server in a daemon thread; (server, base URL)."""
    bodies = [page.body for page in pages]
    feed: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, kind = self._answer()
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def _answer(self) -> tuple[bytes | None, str]:
            if self.path == "/feed.xml":
                return feed[0], "application/rss+xml"
            name = self.path.removeprefix("/p/").removesuffix(".html")
            if self.path.startswith("/p/") and name.isdigit() and int(name) < len(bodies):
                return bodies[int(name)], "text/html"
            return None, "text/plain"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # a benchmark's server is quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    base = f"http://127.0.0.1:{server.server_address[1]}"
    feed.append(feed_xml(base, len(bodies)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, base


def _env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update(
        {
            "NEWSDESK_ALLOW_PRIVATE_NETWORKS": "1",  # the pages are on 127.0.0.1
            "NEWSDESK_STORIES": "0",
            "NEWSDESK_ENTITIES": "0",
            "NEWSDESK_TIMELINES": "0",
            "NEWSDESK_ALERTS": "0",
            "NO_PROXY": "*",
            "XDG_DATA_HOME": str(workdir / "xdg-data"),
            "XDG_CACHE_HOME": str(workdir / "xdg-cache"),
            "XDG_CONFIG_HOME": str(workdir / "xdg-config"),
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
        }
    )
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        env.pop(proxy, None)
    return env


def _newsdesk(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "newsdesk", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"newsdesk {args[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_end_to_end(pages: Sequence[CorpusPage]) -> tuple[dict[str, str], float, float, str]:
    """Serve ``pages``, refresh their feed with Newsdesk; (text by page name, wall seconds and
    CPU seconds of the refresh process, Newsdesk's summary line)."""
    server, base = serve(pages)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-extract-e2e-") as tmp:
            workdir = Path(tmp)
            env = _env(workdir)
            db = f"sqlite:///{workdir / 'e2e.db'}"
            _newsdesk(env, "add", f"{base}/feed.xml", "--db", db)
            started, cpu = time.perf_counter(), _children_cpu()
            summary = _newsdesk(env, "refresh", "--db", db).strip().splitlines()[-1]
            seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu
            listed = _newsdesk(
                env, "entries", "--json", "--limit", str(len(pages) + 10), "--db", db
            )
    finally:
        server.shutdown()
        server.server_close()
    by_url = {e["url"]: e.get("content_text") or "" for e in json.loads(listed)}
    texts = {page.name: by_url.get(f"{base}/p/{i}.html", "") for i, page in enumerate(pages)}
    return texts, seconds, cpu, summary

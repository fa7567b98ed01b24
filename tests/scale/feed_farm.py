"""A small loopback feed farm for the scale tests: N RSS feeds × M items on one or more loopback
addresses, served by threads, counting requests and the most connections in flight per address.

Feed ``i`` is ``http://ADDR:PORT/feeds/i.rss`` with items ``feed-i-item-j``; answers carry an
ETag and honour If-None-Match (304). ``delay`` slows every answer (to observe concurrency).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def farm_feed(index: int, items: int, base: str) -> bytes:
    """Feed ``index``: summary-only items whose links are article pages of the same farm."""
    parts = [
        f"<item><title>Item {j} of feed {index}</title>"
        f"<link>{base}/articles/{index}/{j}.html</link>"
        f"<guid isPermaLink='false'>feed-{index}-item-{j}</guid>"
        f"<description>&lt;p&gt;Body {j} of feed {index}, long enough to be a body.&lt;/p&gt;"
        f"</description><pubDate>Tue, 27 Feb 2024 {j % 24:02d}:{j % 60:02d}:00 GMT</pubDate>"
        "</item>"
        for j in range(items)
    ]
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {index}</title><link>{base}/</link>"
        f"{''.join(parts)}</channel></rss>"
    ).encode()


def article_page(path: str) -> bytes:
    """The article behind an item link: a page with a header, the story and a footer."""
    paragraphs = "".join(
        f"<p>Paragraph {k} of the story at {path}: the full text that the feed only "
        "summarised, long enough for the extractor to see it as the main text.</p>"
        for k in range(6)
    )
    return (
        "<!doctype html><html><head><title>Story</title></head><body>"
        "<nav>Home | World | Sport</nav>"
        f"<article><h1>Story {path}</h1>{paragraphs}</article>"
        "<footer>Copyright the farm</footer></body></html>"
    ).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, farm: FeedFarm, address: str) -> None:
        super().__init__((address, farm.port), _Handler)
        self.farm = farm
        self.address = address


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        farm = self.server.farm
        with farm.lock:
            farm.in_flight[self.server.address] += 1
            farm.peak[self.server.address] = max(
                farm.peak[self.server.address], farm.in_flight[self.server.address]
            )
        try:
            if farm.delay:
                time.sleep(farm.delay)
            self._answer(farm)
        finally:
            with farm.lock:
                farm.in_flight[self.server.address] -= 1

    def _answer(self, farm: FeedFarm) -> None:
        name = self.path.rsplit("/", 1)[-1]
        base = f"http://{self.server.address}:{farm.port}"
        if self.path.startswith("/articles/") and name.endswith(".html"):
            with farm.lock:
                farm.pages += 1
            self._send(200, article_page(self.path), content_type="text/html; charset=utf-8")
            return
        if not (self.path.startswith("/feeds/") and name.endswith(".rss")):
            self._send(404, b"not found")
            return
        index = int(name.removesuffix(".rss"))
        body = farm_feed(index, farm.items, base)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        with farm.lock:
            farm.requests[self.path] += 1
        if self.headers.get("If-None-Match") == etag:
            with farm.lock:
                farm.not_modified += 1
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(200, body, etag)

    def _send(
        self,
        status: int,
        body: bytes,
        etag: str | None = None,
        content_type: str = "application/rss+xml; charset=utf-8",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)


class FeedFarm:
    """``with FeedFarm(feeds=20, items=5) as farm: farm.urls``."""

    def __init__(
        self, feeds: int, items: int, addresses: tuple[str, ...] = ("127.0.0.1",), delay: float = 0
    ) -> None:
        self.feeds, self.items, self.delay = feeds, items, delay
        self.addresses = addresses
        self.lock = threading.Lock()
        self.in_flight: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.not_modified = 0
        self.pages = 0
        self.port = 0
        self._servers: list[_Server] = []

    def __enter__(self) -> FeedFarm:
        for address in self.addresses:
            server = _Server(self, address)
            self.port = server.server_address[1]  # the first picks a port, the others reuse it
            self._servers.append(server)
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def url(self, index: int) -> str:
        address = self.addresses[index % len(self.addresses)]
        return f"http://{address}:{self.port}/feeds/{index}.rss"

    @property
    def urls(self) -> list[str]:
        return [self.url(i) for i in range(self.feeds)]

    def expected_titles(self, index: int) -> set[str]:
        return {f"Item {j} of feed {index}" for j in range(self.items)}

"""A loopback HTTP server whose answers tests set per path: status, headers, body, delay; or a
function of the request's headers (names lower-cased) that returns the answer. Every request
is recorded with its headers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # When set, each request waits here for the others (to make requests overlap for sure).
    barrier: threading.Barrier | None = None


Rule = Callable[[dict[str, str]], Answer]  # the answer, given the request's headers


class RoutesServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.port = self.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.answers: dict[str, Answer | Rule] = {}
        self.hits: list[tuple[str, dict[str, str]]] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def route(self, path: str, answer: Answer | Rule) -> str:
        self.answers[path] = answer
        return self.base + path

    def requests_of(self, path: str) -> list[dict[str, str]]:
        """The headers of each request for ``path`` (names lower-cased)."""
        return [{k.lower(): v for k, v in h.items()} for p, h in self.hits if p == path]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RoutesServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _answer(self, head: bool) -> None:
        headers = dict(self.headers.items())
        self.server.hits.append((self.path, headers))
        answer = self.server.answers.get(self.path, Answer(b"not found", 404, "text/plain"))
        if callable(answer):
            answer = answer({k.lower(): v for k, v in headers.items()})
        if answer.barrier is not None:
            answer.barrier.wait(timeout=30)
        if answer.delay:
            time.sleep(answer.delay)
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not head:  # a body after a HEAD answer would be read as the next response
            self.wfile.write(answer.body)


def rss(title: str, items: int = 3, prefix: str = "item") -> bytes:
    parts = [
        f"<item><title>{prefix} {i} of {title}</title><link>https://example.org/{prefix}/{i}</link>"
        f"<guid>{prefix}-{i}</guid><description>&lt;p&gt;Body {i} of a longer article about "
        f"{title}.&lt;/p&gt;</description><pubDate>Tue, 27 Feb 2024 1{i}:00:00 GMT</pubDate></item>"
        for i in range(items)
    ]
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://example.org/</link>{''.join(parts)}</channel></rss>"
    ).encode()


def article_page(title: str, topic: str) -> bytes:
    """An article page with enough text for the extractor to find its main part."""
    paragraphs = "".join(
        f"<p>Paragraph {i} of the {topic} report: the council met on Tuesday and went through "
        f"the {topic} budget line by line, with residents asking questions about each item "
        f"before the vote that closed the evening session.</p>"
        for i in range(8)
    )
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/about'>About</a></nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article>"
        f"<footer>Copyright, all rights reserved.</footer></body></html>"
    ).encode()


def summary_feed(base: str, link: str, summary: str) -> bytes:
    """One summary-only item (guid fixed) whose link and summary the test changes."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Council</title>'
        f"<link>{base}/</link><item><title>The budget vote</title><link>{base}{link}</link>"
        f"<guid>budget-vote</guid><description>{summary}</description>"
        "<pubDate>Tue, 27 Feb 2024 10:00:00 GMT</pubDate></item></channel></rss>"
    ).encode()


def post_feed(base: str, name: str, short: str) -> bytes:
    """A feed of one post (no title: a social post) that shares ``short``."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{name}</title><link>{base}/</link><item><link>{base}/{name}/status/1</link>"
        f"<guid>{name}-1</guid><description>&lt;p&gt;Worth a read &lt;a href=&quot;{base}{short}"
        "&quot;&gt;link&lt;/a&gt;&lt;/p&gt;</description>"
        "<pubDate>Tue, 27 Feb 2024 10:00:00 GMT</pubDate></item></channel></rss>"
    ).encode()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

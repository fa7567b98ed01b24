"""A loopback HTTP server whose answers tests set per path: status, headers, body, delay."""

from __future__ import annotations

import socket
import threading
import time
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


class RoutesServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.answers: dict[str, Answer] = {}
        self.hits: list[tuple[str, dict[str, str]]] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def route(self, path: str, answer: Answer) -> str:
        self.answers[path] = answer
        return self.base + path

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
        self.server.hits.append((self.path, dict(self.headers.items())))
        answer = self.server.answers.get(self.path, Answer(b"not found", 404, "text/plain"))
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


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

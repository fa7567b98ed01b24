"""A loopback HTTP server whose answers depend on the request: each path has a function of the
request's headers that returns the answer (a feed that demands a browser's user agent, Basic
credentials, a cookie, a header…). Every request is recorded with its headers."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


Rule = Callable[[dict[str, str]], Reply]


class GateServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.port = self.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.rules: dict[str, Rule] = {}
        self.hits: list[tuple[str, dict[str, str]]] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def route(self, path: str, rule: Rule | Reply) -> str:
        self.rules[path] = rule if callable(rule) else (lambda _h, r=rule: r)
        return self.base + path

    def requests_of(self, path: str) -> list[dict[str, str]]:
        """The headers of each request for ``path`` (names lower-cased)."""
        return [{k.lower(): v for k, v in h.items()} for p, h in self.hits if p == path]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GateServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _answer(self, head: bool) -> None:
        headers = dict(self.headers.items())
        self.server.hits.append((self.path, headers))
        rule = self.server.rules.get(self.path)
        lowered = {k.lower(): v for k, v in headers.items()}
        reply = rule(lowered) if rule else Reply(b"not found", 404, "text/plain")
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(reply.body)


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def demands(wanted: Callable[[dict[str, str]], bool], body: bytes, refusal: int = 403) -> Rule:
    """The feed ``body`` when ``wanted(headers)``, else ``refusal`` (401 asks for Basic)."""

    def rule(headers: dict[str, str]) -> Reply:
        if wanted(headers):
            return Reply(body)
        extra = {"WWW-Authenticate": 'Basic realm="feed"'} if refusal == 401 else {}
        return Reply(b"no", refusal, "text/plain", extra)

    return rule

"""A loopback HTTP server for a folder of sample sources described by ``routes.json``.

Routes map a path to a file (with a content type) or to a redirect. ``{{BASE}}`` in files and
locations becomes the server's base URL. Files answer with an ETag and Last-Modified and honour
conditional GET with 304. Used by ``newsdesk demo``, the tests and the examples.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SampleServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.server.requests.append((self.command, self.path, int(code)))

    def _answer(self, head: bool) -> None:
        route = self.server.routes.get(self.path.split("#")[0])
        if route is None:
            self._send(404, b"not found", "text/plain", head=head)
            return
        if "location" in route:
            self.send_response(int(route.get("status", 302)))
            self.send_header("Location", route["location"].replace("{{BASE}}", self.server.base))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, etag = self.server.body(route["file"])
        last_modified = self.server.last_modified
        if self.headers.get("If-None-Match") == etag or (
            self.headers.get("If-Modified-Since") == last_modified
        ):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(
            int(route.get("status", 200)),
            body,
            route.get("type", "application/octet-stream"),
            {"ETag": etag, "Last-Modified": last_modified},
            head,
        )

    def _send(
        self,
        status: int,
        body: bytes,
        ctype: str,
        headers: dict[str, str] | None = None,
        head: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)


class SampleServer(ThreadingHTTPServer):
    """Serves one or more sample folders (their routes merged) on 127.0.0.1."""

    daemon_threads = True

    def __init__(self, *folders: Path, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.routes: dict[str, dict[str, Any]] = {}
        for folder in folders:
            for path, route in json.loads((folder / "routes.json").read_text()).items():
                if "file" in route:
                    route = {**route, "file": str((folder / route["file"]).resolve())}
                self.routes[path] = route
        self.last_modified = formatdate(time.time() - 3600, usegmt=True)
        self.requests: list[tuple[str, str, int]] = []  # method, path, status
        self._cache: dict[str, tuple[bytes, str]] = {}
        self._thread: threading.Thread | None = None

    def body(self, file: str) -> tuple[bytes, str]:
        if file not in self._cache:
            raw = Path(file).read_bytes().replace(b"{{BASE}}", self.base.encode())
            self._cache[file] = (raw, f'"{hashlib.sha1(raw).hexdigest()[:16]}"')
        return self._cache[file]

    def start(self) -> SampleServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

"""What happens to a request before the rest of the app sees it: repeated slashes in the path
collapsed (``CollapseSlashes``), and cross-origin access to the token-authenticated APIs
(``ApiCors``).

Clients configured with a trailing slash, as newsboat's docs write the URL
(``miniflux-url "https://host/"``), ask for ``//v1/feeds``; Miniflux and FreshRSS answer those.
The path is rewritten before the guard, so the collapsed path meets exactly the checks the
clean one does (an API path its key check, a page the login).

Browser-based reader apps call the APIs from another origin: they need the preflight answered
and ``Access-Control-Allow-Origin`` on the answers. Only the prefixes that authenticate with a
key or a password sent by the caller get it, never with ``Allow-Credentials``: the reading
room's pages (session cookie) stay same-origin.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Not after a colon: Google Reader stream ids carry feed URLs in the path
# (``/stream/contents/feed/http://host/feed``), whose ``//`` must stay.
_SLASHES = re.compile(r"(?<!:)/{2,}")
_RAW_SLASHES = re.compile(rb"(?<!:)/{2,}")
# Every path under these authenticates with a key, a ClientLogin token or a password the
# caller sends (web.api.access); none reads the session cookie (the guard skips it for them).
CORS_PREFIXES = ("/v1/", "/api/", "/reader/api/0/", "/accounts/ClientLogin")
ALLOW_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
ALLOW_HEADERS = "X-Auth-Token, Authorization, Content-Type, Accept"
PREFLIGHT_MAX_AGE = "3600"


class CollapseSlashes:
    """``//v1//feeds`` → ``/v1/feeds`` (path and raw path), before any check runs; a ``//``
    after a colon (a URL inside the path) is kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "//" in scope["path"]:
            scope = dict(scope)
            scope["path"] = _SLASHES.sub("/", scope["path"])
            raw = scope.get("raw_path")
            if isinstance(raw, bytes):
                scope["raw_path"] = _RAW_SLASHES.sub(b"/", raw)
        await self.app(scope, receive, send)


def parse_origins(spec: str) -> tuple[str, ...]:
    """``"*"`` → ("*",); ``"https://a.example, https://b.example"`` → both, without a trailing
    slash (an Origin header never has one); empty → ()."""
    found = [o.strip().rstrip("/") for o in spec.split(",")]
    return ("*",) if "*" in found else tuple(o for o in found if o)


class ApiCors:
    """Answers preflights and adds the CORS headers on ``CORS_PREFIXES``, as Miniflux's API
    middleware does (any origin by default, no credentials)."""

    def __init__(self, app: ASGIApp, origins: str = "*") -> None:
        self.app = app
        self.origins = parse_origins(origins)

    def _allowed_origin(self, origin: str | None) -> str | None:
        if not self.origins:
            return None
        if "*" in self.origins:
            return "*"
        return origin if origin in self.origins else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(CORS_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        allowed = self._allowed_origin(headers.get("origin"))
        if allowed is None:
            await self.app(scope, receive, send)
            return
        cors = {
            "Access-Control-Allow-Origin": allowed,
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
        }
        if allowed != "*":
            cors["Vary"] = "Origin"
        if scope["method"] == "OPTIONS":
            await _preflight(cors, send)
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                for name, value in cors.items():
                    if name == "Vary":
                        out.add_vary_header("Origin")
                    else:
                        out[name] = value
            await send(message)

        await self.app(scope, receive, with_cors)


async def _preflight(cors: dict[str, str], send: Send) -> None:
    raw = [(k.lower().encode(), v.encode()) for k, v in cors.items()]
    raw += [(b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 200, "headers": raw})
    await send({"type": "http.response.body", "body": b""})

"""The gate every request passes: security headers, the login session, first-run redirect and
CSRF checks on state-changing requests.

CSRF: each browser gets a random ``newsdesk_csrf`` cookie; the token pages embed (forms'
``csrf_token`` field, the ``X-CSRF-Token`` header htmx sends) is an HMAC of that cookie under a
server secret, so a page on another origin can neither read nor forge it. Paths a route module
lists in ``PUBLIC_PREFIXES`` (the APIs, with their own authentication) are not touched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from newsdesk.store.users import has_users, session_user
from newsdesk.web.context import WebContext

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SESSION_COOKIE = "newsdesk_session"
CSRF_COOKIE = "newsdesk_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_FORM_BYTES = 20 * 1024 * 1024
# Pages reachable without a session (they still get CSRF checks: login forms too).
OPEN_PATHS = ("/login", "/setup", "/static/", "/healthz", "/syndicate/")
_SEED = re.compile(r"^[A-Za-z0-9_-]{32,64}$")

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # Feed content shows remote images and plays remote media; it never runs script.
        "img-src 'self' https: http: data:",
        "media-src 'self' https: http:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "frame-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


def csrf_token(secret: str, seed: str) -> str:
    return hmac.new(secret.encode(), seed.encode(), hashlib.sha256).hexdigest()


def is_https(scope: Scope) -> bool:
    return scope.get("scheme") == "https"


class GuardMiddleware:
    def __init__(self, app: ASGIApp, ctx: WebContext) -> None:
        self.app = app
        self.ctx = ctx
        self._has_users = False

    def _secret(self) -> str:
        return str(self.ctx.extras["csrf_secret"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(self.ctx.public_prefixes):
            await self.app(scope, receive, _with_headers(send, []))
            return
        if path.startswith("/static/"):
            await self.app(scope, receive, _with_headers(send, []))
            return

        headers = Headers(scope=scope)
        cookies = _cookies(headers.get("cookie", ""))
        new_cookies: list[str] = []
        seed = cookies.get(CSRF_COOKIE, "")
        if not _SEED.match(seed):
            seed = secrets.token_urlsafe(32)
            new_cookies.append(_cookie(CSRF_COOKIE, seed, scope, max_age=None))
        state = scope.setdefault("state", {})
        state["csrf_token"] = csrf_token(self._secret(), seed)
        session = cookies.get(SESSION_COOKIE, "")
        user = await run_in_threadpool(session_user, self.ctx.engine, session) if session else None
        state["user"] = user
        send = _with_headers(send, new_cookies)

        if not self.ctx.no_auth and user is None and not path.startswith(OPEN_PATHS):
            if not self._has_users:
                self._has_users = await run_in_threadpool(has_users, self.ctx.engine)
            target = "/setup" if not self._has_users else "/login"
            if target == "/login" and scope["method"] == "GET" and path != "/":
                query = scope.get("query_string", b"").decode("latin-1")
                target += "?next=" + quote(path + ("?" + query if query else ""), safe="")
            await _redirect(target, headers)(scope, receive, send)
            return

        if scope["method"] not in SAFE_METHODS:
            body, receive = await _buffer(receive)
            if body is None:
                await HTMLResponse("The request is too large.", 413)(scope, receive, send)
                return
            token = headers.get(CSRF_HEADER) or await _form_field(scope, body, CSRF_FIELD)
            if not token or not hmac.compare_digest(token, state["csrf_token"]):
                page = self.ctx.templates.get_template("error.html").render(
                    ctx=self.ctx,
                    request=Request(scope),
                    title="Form expired",
                    message="This form has expired or did not come from Newsdesk. "
                    "Go back, reload the page and try again.",
                    status=403,
                )
                await HTMLResponse(page, 403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _redirect(target: str, headers: Headers) -> Response:
    if headers.get("hx-request"):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _cookies(raw: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:
        return {}
    return {key: morsel.value for key, morsel in jar.items()}


def _cookie(name: str, value: str, scope: Scope, *, max_age: int | None) -> str:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if is_https(scope):
        parts.append("Secure")
    return "; ".join(parts)


def session_cookie(token: str, scope: Scope, max_age: int) -> str:
    return _cookie(SESSION_COOKIE, token, scope, max_age=max_age)


def clear_session_cookie(scope: Scope) -> str:
    return _cookie(SESSION_COOKIE, "", scope, max_age=0)


def _with_headers(send: Send, cookies: list[str]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in SECURITY_HEADERS.items():
                if name not in headers:
                    headers[name] = value
            for cookie in cookies:
                headers.append("set-cookie", cookie)
        await send(message)

    return wrapped


async def _buffer(receive: Receive) -> tuple[bytes | None, Receive]:
    """Read the whole request body (bounded) and give back a receive that replays it."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None, receive
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _form_field(scope: Scope, body: bytes, name: str) -> str | None:
    content_type = Headers(scope=scope).get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None

    async def once() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    request = Request(scope, once)
    try:
        form = await request.form()
    except Exception:
        return None
    try:
        value = form.get(name)
        return value if isinstance(value, str) else None
    finally:
        await form.close()

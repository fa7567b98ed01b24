"""The gate every request passes: the ``Host`` check against DNS rebinding, security headers,
the login session, first-run redirect and CSRF checks on state-changing requests.

CSRF: the token pages embed (forms' ``csrf_token`` field, the ``X-CSRF-Token`` header htmx
sends) is an HMAC under a server secret of the login session's cookie, or, before login and
with login off, of a random ``newsdesk_csrf`` cookie; a page on another origin can neither read
nor forge it, and a request whose ``Origin``/``Referer`` names another site is refused anyway.
Paths a route module lists in ``PUBLIC_PREFIXES`` (the APIs, with their own authentication)
skip the session and CSRF checks, not the ``Host`` check.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

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
_LOGIN_PATHS = ("/login", "/setup")
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
        self._allowed_hosts = parse_host_names(ctx.settings.allowed_hosts)

    def _secret(self) -> str:
        return self.ctx.csrf_secret

    async def _users_exist(self) -> bool:
        if not self._has_users:  # once there is a user there always is: ask until then
            self._has_users = await self.ctx.lanes.run(False, self.ctx.store.users.has_users)
        return self._has_users

    async def _host_allowed(self, headers: Headers, path: str) -> bool:
        """DNS rebinding: while login is off or nobody has an account yet, only a loopback
        name (or a listed one) reaches the reading room; a listed name list is enforced
        always. The APIs want a key in every state, which a rebound page does not have."""
        host = headers.get("host")
        if host is None:
            return True  # HTTP/1.0 without Host: not a browser, so not a rebinding page
        if self._allowed_hosts:
            return host_allowed(host, self._allowed_hosts)
        if path.startswith(self.ctx.public_prefixes):
            return True
        if self.ctx.no_auth or not await self._users_exist():
            return host_allowed(host, ())
        return True

    def _page(self, scope: Scope, title: str, message: str, status: int) -> Response:
        page = self.ctx.templates.get_template("error.html").render(
            ctx=self.ctx, request=Request(scope), title=title, message=message, status=status
        )
        return HTMLResponse(page, status)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not await self._host_allowed(headers, scope["path"]):
            name = headers.get("host", "")[:200]
            message = (
                f"This Newsdesk does not answer to the name {name!r}. Open it at its own "
                "address, or list this name in NEWSDESK_ALLOWED_HOSTS."
            )
            page = self._page(scope, "Wrong address", message, 421)
            await page(scope, receive, _with_headers(send, []))
            return
        path: str = scope["path"]
        if path.startswith(self.ctx.public_prefixes) or path.startswith("/static/"):
            await self.app(scope, receive, _with_headers(send, []))
            return

        cookies = _cookies(headers.get("cookie", ""))
        new_cookies: list[str] = []
        seed = cookies.get(CSRF_COOKIE, "")
        if not _SEED.match(seed):
            seed = secrets.token_urlsafe(32)
            new_cookies.append(_cookie(CSRF_COOKIE, seed, scope, max_age=None))
        session = cookies.get(SESSION_COOKIE, "")
        user = (
            await self.ctx.lanes.run(False, self.ctx.store.users.session_user, session)
            if session
            else None
        )
        state = scope.setdefault("state", {})
        state["user"] = user
        # Bound to the login session when there is one: a token taken with another session,
        # or a CSRF cookie planted by a sibling site, does not match it. The login and setup
        # forms keep the cookie's token (a login page opened before another tab logged in
        # still works).
        bound = user is not None and not path.startswith(_LOGIN_PATHS)
        state["csrf_token"] = csrf_token(self._secret(), "session:" + session if bound else seed)
        send = _with_headers(send, new_cookies)

        if not self.ctx.no_auth and user is None and not path.startswith(OPEN_PATHS):
            target = "/setup" if not await self._users_exist() else "/login"
            if target == "/login" and scope["method"] == "GET" and path != "/":
                query = scope.get("query_string", b"").decode("latin-1")
                target += "?next=" + quote(path + ("?" + query if query else ""), safe="")
            await _redirect(target, headers)(scope, receive, send)
            return

        if scope["method"] not in SAFE_METHODS:
            if foreign_origin(headers, self._allowed_hosts):
                page = self._page(
                    scope,
                    "Refused",
                    "Refused: this request came from another site. Newsdesk only accepts "
                    "changes sent from its own pages.",
                    403,
                )
                await page(scope, receive, send)
                return
            body, receive = await _buffer(receive)
            if body is None:
                await HTMLResponse("The request is too large.", 413)(scope, receive, send)
                return
            token = headers.get(CSRF_HEADER) or await _form_field(scope, body, CSRF_FIELD)
            if not token or not hmac.compare_digest(token, state["csrf_token"]):
                page = self._page(
                    scope,
                    "Form expired",
                    "This form has expired or did not come from Newsdesk. "
                    "Go back, reload the page and try again.",
                    403,
                )
                await page(scope, receive, send)
                return
        await self.app(scope, receive, send)


# -- names and origins ----------------------------------------------------------------------

_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_host_names(spec: str) -> tuple[str, ...]:
    """``"news.example.org, .example.net"`` → lower-case names; a leading dot also admits
    every name under it."""
    return tuple(part.strip().lower().rstrip(".") for part in spec.split(",") if part.strip())


def _split_host(value: str) -> tuple[str, int | None]:
    """``Host`` header → (name, explicit port or None); brackets kept off IPv6 literals."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        name, _, port = value.partition(":")
    return name.rstrip("."), int(port) if port.isdigit() else None


def is_loopback_name(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):  # browsers keep these on loopback
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    name, _ = _split_host(host)
    return is_loopback_name(name) or _listed(name, allowed)


def _listed(name: str, allowed: tuple[str, ...]) -> bool:
    for entry in allowed:
        if entry.startswith("."):
            if name == entry[1:] or name.endswith(entry):
                return True
        elif name == entry:
            return True
    return False


def foreign_origin(headers: Headers, allowed: tuple[str, ...] = ()) -> bool:
    """True when the browser says the request comes from a page of another site: ``Origin``
    (or, without it, ``Referer``) names another host or port than the one asked, and not one
    of the ``allowed`` public names (a proxy may rewrite ``Host``). Neither header (scripts,
    old browsers) is left to the token."""
    source = headers.get("origin") or headers.get("referer")
    if source is None:
        return False
    parts = urlsplit(source.strip())
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return True  # "null" (sandboxed frames, redirects across sites) and anything odd
    try:
        origin_port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        return True
    origin_name = parts.hostname.rstrip(".").lower()
    if _listed(origin_name, allowed):
        return False
    name, port = _split_host(headers.get("host", ""))
    if origin_name != name:
        return True
    # Without a port in Host the scheme the browser used is unknown to us behind a TLS proxy:
    # either default port is ours.
    return origin_port not in ((port,) if port is not None else (80, 443))


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

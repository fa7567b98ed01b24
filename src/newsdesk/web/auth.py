"""Logging in and out: the first-run password page, the login form (with its second step, the
two-factor code, for a person who turned it on) and logout, and the failed-login budget every
way in shares (``LoginLimiter``, kept in the database). Sessions and the CSRF gate live in
``web.guard``.

Two-factor login: after a right password the page asks for a code, carrying a short-lived
signed "pending login" token (who, until when, bound to the password) in the form, not a
session: nothing is reachable with it but the code form. Every code tried counts against the
same budget as a password, and a right password alone does not reset that budget while the
code is still to come.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from newsdesk.errors import NewsdeskError
from newsdesk.store.server_key import server_key
from newsdesk.store.users import DEFAULT_USERNAME, MIN_PASSWORD_LENGTH, User
from newsdesk.web.context import WebContext
from newsdesk.web.guard import SESSION_COOKIE, clear_session_cookie, session_cookie
from newsdesk.web.routing import RouteTable


def safe_next(target: str | None) -> str:
    """Only local paths: never redirect to another site after login."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target:
        return "/"
    return target


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _lifetime(ctx: WebContext) -> timedelta:
    return timedelta(days=ctx.settings.session_days)


PENDING_SECONDS = 300  # time to type the two-factor code after the password


async def _login_response(request: Request, ctx: WebContext, user_id: int, target: str) -> Response:
    """A new session (and the last login recorded), then on to ``target``."""
    lifetime = _lifetime(ctx)
    token = await ctx.run(ctx.store.users.create_session, user_id, lifetime)
    await ctx.run(ctx.store.users.logged_in, user_id)
    response = RedirectResponse(safe_next(target), status_code=303)
    response.headers.append(
        "set-cookie", session_cookie(token, request.scope, int(lifetime.total_seconds()))
    )
    return response


TABLE = RouteTable[WebContext]()


@TABLE.route("/setup", "GET", "POST")
async def setup(request: Request, ctx: WebContext) -> Response:
    if await ctx.run(ctx.store.users.has_users):
        return RedirectResponse("/login", status_code=303)
    values: dict[str, Any] = {"username": DEFAULT_USERNAME, "min_length": MIN_PASSWORD_LENGTH}
    if request.method == "GET":
        return ctx.render(request, "setup.html", title="Welcome", **values)
    form = await request.form()
    username = str(form.get("username") or DEFAULT_USERNAME).strip()
    password = str(form.get("password") or "")
    values["username"] = username
    if password != str(form.get("confirm") or ""):
        return ctx.render(
            request,
            "setup.html",
            title="Welcome",
            error="The two passwords differ.",
            status_code=400,
            **values,
        )
    try:
        await ctx.run(ctx.store.users.setup_owner, username, password)
    except NewsdeskError as exc:
        return ctx.render(
            request, "setup.html", title="Welcome", error=str(exc), status_code=400, **values
        )
    user = await ctx.run(ctx.store.users.get_user, username)
    assert user is not None
    return await _login_response(request, ctx, user.id, "/subscriptions")


def _too_many(
    request: Request, ctx: WebContext, wait: int, template: str, **values: Any
) -> Response:
    response = ctx.render(
        request,
        template,
        title="Log in",
        error=f"Too many failed logins. Try again in {wait // 60 + 1} minutes.",
        status_code=429,
        **values,
    )
    response.headers["Retry-After"] = str(wait)
    return response


@TABLE.route("/login", "GET", "POST")
async def login(request: Request, ctx: WebContext) -> Response:
    target = safe_next(request.query_params.get("next"))
    if request.method == "GET":
        if not await ctx.run(ctx.store.users.has_users):
            return RedirectResponse("/setup", status_code=303)
        return ctx.render(request, "login.html", title="Log in", next=target, username="")
    limiter = ctx.login_limiter
    client = _client(request)
    form = await request.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or "/"))
    wait = await limiter.reserve(client, username)
    if wait:
        return _too_many(request, ctx, wait, "login.html", next=target, username=username)
    if await ctx.run(ctx.store.users.verify_password, username, password):
        user = await ctx.run(ctx.store.users.get_user, username)
        if user is not None and user.two_factor:
            pending = await pending_token(ctx, user, time.time() + PENDING_SECONDS)
            return _code_page(request, ctx, pending, target)
        if user is not None:
            await limiter.succeeded(client, username)
            return await _login_response(request, ctx, user.id, target)
    return ctx.render(
        request,
        "login.html",
        title="Log in",
        next=target,
        username=username,
        error="Wrong user name or password.",
        status_code=401,
    )


def _code_page(
    request: Request, ctx: WebContext, pending: str, target: str, error: str = "", status: int = 200
) -> Response:
    return ctx.render(
        request,
        "login_code.html",
        title="Log in: code",
        pending=pending,
        next=target,
        error=error,
        status_code=status,
    )


@TABLE.post("/login/code")
async def login_code(request: Request, ctx: WebContext) -> Response:
    """The second step: a code from the person's app, or one of their recovery codes."""
    form = await request.form()
    pending = str(form.get("pending") or "")
    target = safe_next(str(form.get("next") or "/"))
    user = await pending_user(ctx, pending, time.time())
    if user is None:
        return ctx.render(
            request,
            "login.html",
            title="Log in",
            next=target,
            username="",
            error="That took too long: log in again.",
            status_code=400,
        )
    client = _client(request)
    wait = await ctx.login_limiter.reserve(client, user.username)
    if wait:
        return _too_many(request, ctx, wait, "login_code.html", pending=pending, next=target)
    code = str(form.get("code") or "")[:64]
    key = server_key(ctx.settings)
    if await ctx.run(ctx.store.two_factor.verify, user.id, code, key):
        await ctx.login_limiter.succeeded(client, user.username)
        return await _login_response(request, ctx, user.id, target)
    return _code_page(request, ctx, pending, target, "That code is not right.", 401)


def _pending_mac(ctx: WebContext, user_id: int, expires: int, stamp: str) -> str:
    bound = hashlib.sha256(stamp.encode()).hexdigest()
    message = f"pending-login\x00{user_id}\x00{expires}\x00{bound}".encode()
    return hmac.new(ctx.csrf_secret.encode(), message, hashlib.sha256).hexdigest()


async def pending_token(ctx: WebContext, user: User, expires_at: float) -> str:
    """``ID.EXPIRES.MAC``: the person who gave the right password, until when; bound to the
    password (a change ends it) and signed with the app's secret."""
    stamp = await ctx.run(ctx.store.users.credential_stamp, user.id)
    expires = int(expires_at)
    return f"{user.id}.{expires}.{_pending_mac(ctx, user.id, expires, stamp)}"


async def pending_user(ctx: WebContext, token: str, now: float) -> User | None:
    """The person of a valid, unexpired pending-login token; None otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    user_id, expires = int(parts[0]), int(parts[1])
    if expires < now or len(parts[0]) > 18:
        return None
    stamp = await ctx.run(ctx.store.users.credential_stamp, user_id)
    if not stamp or not hmac.compare_digest(parts[2], _pending_mac(ctx, user_id, expires, stamp)):
        return None
    user = await ctx.run(ctx.store.users.user_by_id, user_id)
    return user if user is not None and user.two_factor else None


@TABLE.post("/logout")
async def logout(request: Request, ctx: WebContext) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await ctx.run(ctx.store.users.end_session, token)
    response = RedirectResponse("/login", status_code=303)
    response.headers.append("set-cookie", clear_session_cookie(request.scope))
    return response


def routes(ctx: WebContext) -> list[BaseRoute]:
    return TABLE.routes(ctx)

"""Logging in and out: the first-run password page, the login form and logout, and the
failed-login budget every way in shares (``LoginLimiter``, kept in the database). Sessions and
the CSRF gate live in ``web.guard``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from newsdesk.errors import NewsdeskError
from newsdesk.store.users import DEFAULT_USERNAME, MIN_PASSWORD_LENGTH
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


async def _login_response(request: Request, ctx: WebContext, user_id: int, target: str) -> Response:
    lifetime = _lifetime(ctx)
    token = await ctx.run(ctx.store.users.create_session, user_id, lifetime)
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
        await ctx.run(ctx.store.users.set_password, username, password)
    except NewsdeskError as exc:
        return ctx.render(
            request, "setup.html", title="Welcome", error=str(exc), status_code=400, **values
        )
    user = await ctx.run(ctx.store.users.get_user, username)
    assert user is not None
    return await _login_response(request, ctx, user.id, "/subscriptions")


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
        response = ctx.render(
            request,
            "login.html",
            title="Log in",
            next=target,
            username=username,
            error=f"Too many failed logins. Try again in {wait // 60 + 1} minutes.",
            status_code=429,
        )
        response.headers["Retry-After"] = str(wait)
        return response
    if await ctx.run(ctx.store.users.verify_password, username, password):
        user = await ctx.run(ctx.store.users.get_user, username)
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

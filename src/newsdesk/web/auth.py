"""Logging in and out: the first-run password page, the login form (rate limited per client
address) and logout. Sessions and the CSRF gate live in ``web.guard``."""

from __future__ import annotations

import time
from collections import deque
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from newsdesk.errors import NewsdeskError
from newsdesk.store.users import (
    DEFAULT_USERNAME,
    MIN_PASSWORD_LENGTH,
    create_session,
    end_session,
    get_user,
    has_users,
    set_password,
    verify_password,
)
from newsdesk.web.context import WebContext
from newsdesk.web.guard import SESSION_COOKIE, clear_session_cookie, session_cookie

WINDOW_SECONDS = 15 * 60


class LoginLimiter:
    """Failed logins per client address in a sliding window (kept in memory: one server)."""

    def __init__(self, attempts: int, window: float = WINDOW_SECONDS) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, client: str) -> int:
        """Seconds to wait before trying again (0: go ahead)."""
        now = time.monotonic()
        failures = self._recent(client, now)
        if len(failures) < self.attempts:
            return 0
        return max(1, int(failures[0] + self.window - now) + 1)

    def failed(self, client: str) -> None:
        self._recent(client, time.monotonic()).append(time.monotonic())
        if len(self._failures) > 10_000:  # forget the oldest addresses, bounded memory
            for key in list(self._failures)[:1000]:
                del self._failures[key]

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)


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


def routes(ctx: WebContext) -> list[BaseRoute]:
    limiter = LoginLimiter(ctx.settings.login_attempts)
    ctx.extras["login_limiter"] = limiter
    lifetime = timedelta(days=ctx.settings.session_days)

    async def _login_response(request: Request, user_id: int, target: str) -> Response:
        token = await ctx.run(create_session, ctx.engine, user_id, lifetime)
        response = RedirectResponse(safe_next(target), status_code=303)
        response.headers.append(
            "set-cookie", session_cookie(token, request.scope, int(lifetime.total_seconds()))
        )
        return response

    async def setup(request: Request) -> Response:
        if await ctx.run(has_users, ctx.engine):
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
            await ctx.run(set_password, ctx.engine, username, password)
        except NewsdeskError as exc:
            return ctx.render(
                request, "setup.html", title="Welcome", error=str(exc), status_code=400, **values
            )
        user = await ctx.run(get_user, ctx.engine, username)
        assert user is not None
        return await _login_response(request, user.id, "/subscriptions")

    async def login(request: Request) -> Response:
        target = safe_next(request.query_params.get("next"))
        if request.method == "GET":
            if not await ctx.run(has_users, ctx.engine):
                return RedirectResponse("/setup", status_code=303)
            return ctx.render(request, "login.html", title="Log in", next=target, username="")
        client = _client(request)
        form = await request.form()
        username = str(form.get("username") or "").strip()
        password = str(form.get("password") or "")
        target = safe_next(str(form.get("next") or "/"))
        wait = limiter.retry_after(client)
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
        if await ctx.run(verify_password, ctx.engine, username, password):
            user = await ctx.run(get_user, ctx.engine, username)
            if user is not None:
                limiter.succeeded(client)
                return await _login_response(request, user.id, target)
        limiter.failed(client)
        return ctx.render(
            request,
            "login.html",
            title="Log in",
            next=target,
            username=username,
            error="Wrong user name or password.",
            status_code=401,
        )

    async def logout(request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await ctx.run(end_session, ctx.engine, token)
        response = RedirectResponse("/login", status_code=303)
        response.headers.append("set-cookie", clear_session_cookie(request.scope))
        return response

    return [
        Route("/setup", setup, methods=["GET", "POST"]),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]

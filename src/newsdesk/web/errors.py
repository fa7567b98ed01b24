"""How the web app fails safely: ids in paths bounded to what the databases hold, errors
answered with pages (``ErrorPages``: unknown ids are 404s, bad input a clear message, never a
traceback), and a bug answered with a 500 page that still carries the security headers.

``{name:int}`` in a route matches 0 to 2**31 - 1 only (PostgreSQL's ``integer``; SQLite's ids
are smaller in practice): a longer number is no route, so a 404, where it used to reach the
database and come back as an ``OverflowError`` (a 500).

Starlette answers an unhandled exception in its outermost middleware, outside every other
middleware (so without our headers), and then re-raises it to the server, which drops the
connection. ``ServerErrorPages`` sits inside ``GuardMiddleware`` and answers instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.convertors import CONVERTOR_TYPES, IntegerConvertor
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from newsdesk.errors import FeedNotFoundError, NewsdeskError
from newsdesk.web.context import LoginRequired, WebContext

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
ErrorPage = Callable[[Request, Exception], Awaitable[Response]]

log = logging.getLogger(__name__)

# 0 … 2147483647, as a regular expression (a converter's regex decides whether a route matches;
# raising in ``convert`` would be a 500).
MAX_ID = 2**31 - 1
_UP_TO_MAX_ID = (
    "(?:[0-9]{1,9}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|2147[0-3][0-9]{5}"
    "|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|21474836[0-3][0-9]"
    "|214748364[0-7])"
)


class BoundedIdConvertor(IntegerConvertor):
    regex = _UP_TO_MAX_ID


def bound_path_ids() -> None:
    """Make ``{name:int}`` the bounded converter; call before routes are built."""
    CONVERTOR_TYPES["int"] = BoundedIdConvertor()


bound_path_ids()


class ServerErrorPages:
    """Answer an exception nothing else handled with ``page`` (logged there), unless the
    response had already started; never re-raise it."""

    def __init__(self, app: ASGIApp, page: ErrorPage) -> None:
        self.app = app
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            if started:
                log.exception("error after the answer began on %s", scope.get("path"))
                return
            response = await self.page(Request(scope, receive), exc)
            await response(scope, receive, send)


class ErrorPages:
    """The app's answers to errors, as pages (``error.html``); the APIs' paths (the app's
    public prefixes) get a JSON 500 instead."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx

    def handlers(self) -> dict[Any, ErrorPage]:
        """Starlette's ``exception_handlers``."""
        return {404: self.not_found, HTTPException: self.http_error, NewsdeskError: self.user_error}

    def _page(
        self, request: Request, title: str, message: str, status: int, **extra: Any
    ) -> Response:
        return self.ctx.render(
            request,
            "error.html",
            title=title,
            message=message,
            status=status,
            status_code=status,
            **extra,
        )

    async def not_found(self, request: Request, exc: Exception) -> Response:
        detail = getattr(exc, "detail", None)
        message = detail if isinstance(detail, str) and detail != "Not Found" else None
        return self._page(
            request, "Not found", message or "There is nothing here. It may have been removed.", 404
        )

    async def http_error(self, request: Request, exc: Exception) -> Response:
        """A login page for ``LoginRequired`` (``HX-Redirect`` for htmx), else the status."""
        assert isinstance(exc, HTTPException)
        if isinstance(exc, LoginRequired):
            if request.headers.get("hx-request"):
                return Response(status_code=200, headers={"HX-Redirect": "/login"})
            return RedirectResponse("/login", status_code=303)
        if exc.status_code == 404:
            return await self.not_found(request, exc)
        return self._page(request, "Error", str(exc.detail), exc.status_code, headers=exc.headers)

    async def user_error(self, request: Request, exc: Exception) -> Response:
        """Bad input, said plainly: a 400 (a 404 for a feed that is not there)."""
        status = 404 if isinstance(exc, FeedNotFoundError) else 400
        return self._page(request, "Error", str(exc), status)

    async def server_error(self, request: Request, exc: Exception) -> Response:
        """A bug: logged, answered without a traceback (``ServerErrorPages`` calls it)."""
        log.exception("error serving %s", request.url.path, exc_info=exc)
        if request.url.path.startswith(self.ctx.public_prefixes):
            message = "internal error: the server could not answer"
            return JSONResponse({"error": {"status": 500, "message": message}}, status_code=500)
        return self._page(
            request,
            "Something went wrong",
            "Newsdesk could not show this page. The error has been logged.",
            500,
        )

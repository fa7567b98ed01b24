"""How the web app fails safely: ids in paths bounded to what the databases hold, and a bug
answered with a 500 page that still carries the security headers.

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
from starlette.requests import Request
from starlette.responses import Response

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

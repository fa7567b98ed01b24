"""How the APIs fail: ``ApiError`` carries a status and a message for the client; ``endpoint``
wraps a handler so that every failure becomes an answer in that API's own error shape (JSON for
the native and Miniflux APIs, plain text for Google Reader, Fever's ``auth: 0``) and nothing,
whatever goes wrong, reaches the client as a traceback."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import wraps

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from newsdesk.errors import (
    EntityNotFoundError,
    EntryNotFoundError,
    FeedNotFoundError,
    NewsdeskError,
)
from newsdesk.store.tokens import TokenNotFoundError
from newsdesk.store.watchlists import WatchlistNotFoundError

# What the store raises for an id the caller cannot see (another person's, or none): a 404.
NOT_FOUND_ERRORS = (
    FeedNotFoundError,
    EntryNotFoundError,
    EntityNotFoundError,
    TokenNotFoundError,
    WatchlistNotFoundError,
)

log = logging.getLogger("newsdesk.web.api")

Handler = Callable[[Request], Awaitable[Response]]
ErrorRenderer = Callable[[int, str, dict[str, str] | None], Response]


class ApiError(Exception):
    """Answer with ``status`` and ``message`` (written for the person using the client)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


class Unauthorized(ApiError):
    def __init__(self, message: str = "access unauthorized") -> None:
        super().__init__(401, message)


class NotFound(ApiError):
    def __init__(self, message: str = "resource not found") -> None:
        super().__init__(404, message)


class Forbidden(ApiError):
    """The caller is known but may not do this (a member on an admin's route)."""

    def __init__(self, message: str = "Access Forbidden") -> None:
        super().__init__(403, message)


class BadRequest(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(400, message)


def endpoint(render: ErrorRenderer) -> Callable[[Handler], Handler]:
    """Wrap a handler: ``ApiError`` → its status; Newsdesk errors (bad input) → 400, unknown
    feeds, entries, entities, keys or watchlists (or another person's) → 404; anything else is
    logged and answered 500 without details."""

    def wrap(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as exc:
                return render(exc.status, exc.message, exc.headers)
            except NOT_FOUND_ERRORS as exc:
                return render(404, str(exc), None)
            except NewsdeskError as exc:
                return render(400, str(exc), None)
            except Exception:
                log.exception("API error on %s %s", request.method, request.url.path)
                return render(500, "internal error: the server could not answer", None)

        return wrapped

    return wrap


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The native API's error shape: ``{"error": {"status": 404, "message": "…"}}``."""
    return JSONResponse(
        {"error": {"status": status, "message": message}}, status_code=status, headers=headers
    )

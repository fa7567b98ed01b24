"""How ``newsdesk serve`` meets slow, greedy and lying clients, below the pages.

- ``server_config``: the uvicorn options — forwarded headers believed only from
  ``trusted_proxies``, a connection limit, a keep-alive timeout, bounded header size, and
  ``HeaderDeadline``: uvicorn (h11) waits forever for the headers of a new request, so a client
  that opens connections and drips header lines (slowloris) would hold them all.
- ``BodyLimits``: a deadline for receiving a request's body (408 past it), and a small size
  limit on the bodies of the forms anyone may post before logging in (login, setup,
  ClientLogin, Fever): 413 without reading them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from uvicorn.protocols.http.h11_impl import H11Protocol

from newsdesk.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Posted to before any authentication: their bodies are a few fields.
LOGIN_PATHS = ("/login", "/setup", "/accounts/ClientLogin", "/fever/")
MAX_HEADER_BYTES = 16 * 1024


def header_deadline_protocol(seconds: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection whose next request's headers have not all
    arrived ``seconds`` after it opened (or after the previous response)."""

    class HeaderDeadline(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def _arm(self, previous: object) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            self._deadline = self.loop.call_later(seconds, self._expired, previous)

        def _expired(self, previous: object) -> None:
            # A new request's headers made a new cycle: it is past the header stage.
            if self.cycle is previous and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            self._arm(self.cycle)

        def on_response_complete(self) -> None:
            finished = self.cycle
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm(finished)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            super().connection_lost(exc)

    return HeaderDeadline


def trusted_proxies(settings: Settings) -> list[str]:
    return [part.strip() for part in settings.trusted_proxies.split(",") if part.strip()]


def server_config(app: ASGIApp, settings: Settings, *, host: str, port: int, log_level: str) -> Any:
    """The ``uvicorn.Config`` of ``newsdesk serve``."""
    import uvicorn

    proxies = trusted_proxies(settings)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        # Off unless proxies are listed: X-Forwarded-For from anyone else (anything on the
        # host, for loopback) would choose its own client address and dodge the login limit.
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or [],
        limit_concurrency=settings.web_max_connections,
        timeout_keep_alive=settings.web_keepalive_timeout,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        http=header_deadline_protocol(settings.web_header_timeout),
    )


class BodyLimits:
    """ASGI middleware: a request's body must arrive within ``body_timeout`` seconds of its
    headers; before authentication (``LOGIN_PATHS``) it may hold at most ``login_max`` bytes."""

    def __init__(self, app: ASGIApp, body_timeout: float, login_max: int) -> None:
        self.app = app
        self.body_timeout = body_timeout
        self.login_max = login_max

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.login_max if scope["path"].startswith(LOGIN_PATHS) else None
        declared = Headers(scope=scope).get("content-length", "")
        if limit is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(413, "The request is too large.")(scope, receive, send)
            return
        body = _Body(receive, time.monotonic() + self.body_timeout, limit)
        sent: list[bool] = [False]

        async def guarded_send(message: Message) -> None:
            if body.refused is not None:
                return  # we answered already
            sent[0] = True
            await send(message)

        async def guarded_receive() -> Message:
            message = await body.receive()
            if body.refused is not None and not sent[0]:
                sent[0] = True
                await _refuse(*body.refused)(scope, receive, send)
            return message

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception:
            if body.refused is None:
                raise
            # The app saw the cut-off body as a disconnect and gave up: answered already.


def _refuse(status: int, text: str) -> PlainTextResponse:
    return PlainTextResponse(text, status, headers={"connection": "close"})


class _Body:
    """The request's body messages, under a deadline and (optionally) a size limit. Past
    either, ``refused`` says what to answer and the app is told the client disconnected."""

    def __init__(self, receive: Receive, deadline: float, limit: int | None) -> None:
        self._receive = receive
        self._deadline = deadline
        self._limit = limit
        self._size = 0
        self._done = False
        self.refused: tuple[int, str] | None = None

    async def receive(self) -> Message:
        if self.refused is not None:
            return {"type": "http.disconnect"}
        if self._done:  # after the body: waiting for a disconnect is not bounded here
            return await self._receive()
        try:
            message = await asyncio.wait_for(
                self._receive(), max(0.0, self._deadline - time.monotonic())
            )
        except TimeoutError:
            self.refused = (408, "The request body took too long to arrive.")
            return {"type": "http.disconnect"}
        if message["type"] != "http.request":
            return message
        self._size += len(message.get("body", b""))
        if self._limit is not None and self._size > self._limit:
            self.refused = (413, "The request is too large.")
            return {"type": "http.disconnect"}
        self._done = not message.get("more_body", False)
        return message

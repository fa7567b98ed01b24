"""The APIs reader apps and scripts speak: Newsdesk's own REST API (``/api/``), the
Miniflux-compatible API (``/v1/``), the Google Reader API (``/accounts/ClientLogin``,
``/reader/api/0/``) and the Fever API (``/fever/``).

``create_app`` mounts ``routes(ctx)``; the paths in ``PUBLIC_PREFIXES`` skip the reading room's
session and CSRF checks, since every API authenticates its callers itself (``web.api.access``).
Unknown paths under these prefixes answer 404 (405 for a known path and another method) in the
API's own error shape rather than with an HTML page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route

if TYPE_CHECKING:
    from newsdesk.web.api.errors import ErrorRenderer
    from newsdesk.web.api.state import ApiContext

# The API modules (and the store under them) are imported in routes(), not here: importing this
# package must stay cheap, since the CLI loads `newsdesk.web.api.cli` on every command.

__all__ = ["PUBLIC_PREFIXES", "routes"]

# "/fever" without its slash too: clients are set up with either (``fever.routes``).
PUBLIC_PREFIXES = ("/v1/", "/api/", "/reader/", "/accounts/", "/fever")
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _fallback(prefix: str, render: ErrorRenderer, known: list[BaseRoute]) -> Route:
    async def unknown(request: Request) -> Response:
        allowed: set[str] = set()
        for route in known:
            match, _ = route.matches({**request.scope, "method": "__NEWSDESK_PROBE__"})
            if match is not Match.NONE and isinstance(route, Route) and route.methods:
                allowed |= route.methods
        if allowed:
            return render(
                405,
                f"{request.method} is not allowed here: use {', '.join(sorted(allowed))}",
                {"Allow": ", ".join(sorted(allowed))},
            )
        return render(404, "resource not found", None)

    return Route(prefix + "{rest:path}", unknown, methods=_ALL_METHODS)


def routes(ctx: ApiContext) -> list[BaseRoute]:
    from newsdesk.web.api import fever, greader, miniflux, native
    from newsdesk.web.api.errors import json_error
    from newsdesk.web.api.state import ApiState

    api = ApiState.from_context(ctx)
    ctx.api = api
    native_routes = native.routes(api)
    miniflux_routes = miniflux.routes(api)
    greader_routes = greader.routes(api)
    fever_routes = fever.routes(api)
    return [
        *native_routes,
        *miniflux_routes,
        *greader_routes,
        *fever_routes,
        _fallback("/api/", json_error, native_routes),
        _fallback("/v1/", miniflux.error, miniflux_routes),
        _fallback("/reader/", greader.error, greader_routes),
        _fallback("/accounts/", greader.error, greader_routes),
        _fallback("/fever/", fever.error, fever_routes),
    ]

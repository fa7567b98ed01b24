"""``create_app``: the reading room as a Starlette application.

It gathers the routes of our own modules (auth, pages, management, outgoing feeds) and of the
packages in ``ROUTE_MODULES`` (the APIs and the intelligence pages), puts every request
through ``BodyLimits`` (body deadline, small bodies before login) and ``GuardMiddleware`` (Host
check, security headers, session, CSRF) and turns errors into pages: unknown ids are 404s, bad
input a clear message, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from newsdesk.desk import Desk
from newsdesk.errors import FeedNotFoundError, NewsdeskError
from newsdesk.settings import Settings
from newsdesk.web import account, api, auth, filters, icons, intel, manage, pages, republish
from newsdesk.web.context import LoginRequired, WebContext
from newsdesk.web.edge import ApiCors, CollapseSlashes
from newsdesk.web.errors import ServerErrorPages
from newsdesk.web.guard import GuardMiddleware
from newsdesk.web.transport import BodyLimits

ROUTE_MODULES = (api, intel)  # each gives routes(ctx) and may list PUBLIC_PREFIXES
HERE = Path(__file__).parent
log = logging.getLogger(__name__)


def create_app(settings: Settings, *, desk: Desk | None = None, no_auth: bool = False) -> Starlette:
    """The web app. Pass ``desk`` to share one (tests); otherwise one is opened and closed with
    the app. ``no_auth`` turns off login (the CLI allows it only on loopback)."""
    own_desk = desk is None
    desk = desk or Desk(settings)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.autoescape = True
    filters.install(templates.env)
    templates.env.globals.update(
        csrf_token=lambda request: getattr(request.state, "csrf_token", ""),
        current_user=lambda request: getattr(request.state, "user", None),
    )
    extra_modules = ROUTE_MODULES
    public: list[str] = []
    for module in (icons, *extra_modules):
        public.extend(getattr(module, "PUBLIC_PREFIXES", ()))
    ctx = WebContext(
        settings=settings,
        desk=desk,
        templates=templates,
        no_auth=no_auth,
        public_prefixes=tuple(public),
    )
    ctx.extras["csrf_secret"] = desk.store.users.server_secret("csrf")
    ctx.extras["feed_secret"] = desk.store.users.server_secret("feed-links")
    templates.env.globals["feed_query"] = pages.FeedQuery(ctx)  # read at render: keys rotate

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    for module in (auth, pages, manage, republish, account, icons, *extra_modules):
        make_routes = getattr(module, "routes", None)
        if make_routes is None:
            log.warning("%s has no routes(ctx); skipped", module.__name__)
            continue
        routes.extend(make_routes(ctx))

    async def not_found(request: Request, exc: Exception) -> Response:
        detail = getattr(exc, "detail", None)
        message = detail if isinstance(detail, str) and detail != "Not Found" else None
        return ctx.render(
            request,
            "error.html",
            title="Not found",
            message=message or "There is nothing here. It may have been removed.",
            status=404,
            status_code=404,
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if isinstance(exc, LoginRequired):
            if request.headers.get("hx-request"):
                return Response(status_code=200, headers={"HX-Redirect": "/login"})
            return RedirectResponse("/login", status_code=303)
        if exc.status_code == 404:
            return await not_found(request, exc)
        return ctx.render(
            request,
            "error.html",
            title="Error",
            message=str(exc.detail),
            status=exc.status_code,
            status_code=exc.status_code,
            headers=exc.headers,
        )

    async def user_error(request: Request, exc: Exception) -> Response:
        status = 404 if isinstance(exc, FeedNotFoundError) else 400
        return ctx.render(
            request,
            "error.html",
            title="Error",
            message=str(exc),
            status=status,
            status_code=status,
        )

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("error serving %s", request.url.path, exc_info=exc)
        if request.url.path.startswith(ctx.public_prefixes):
            message = "internal error: the server could not answer"
            return JSONResponse({"error": {"status": 500, "message": message}}, status_code=500)
        return ctx.render(
            request,
            "error.html",
            title="Something went wrong",
            message="Newsdesk could not show this page. The error has been logged.",
            status=500,
            status_code=500,
        )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            jobs = ctx.extras.get("jobs")
            if jobs is not None:
                jobs.wait(timeout=5)
            if own_desk:
                desk.close()

    app = Starlette(
        routes=routes,
        # Slashes collapsed before anything looks at the path; BodyLimits next (bounds what
        # anyone reads of a body); ApiCors inside the guard (its Host check still applies);
        # ServerErrorPages inside the guard, so a 500 carries the security headers too.
        middleware=[
            Middleware(CollapseSlashes),
            Middleware(
                BodyLimits,
                body_timeout=settings.web_body_timeout,
                login_max=settings.login_max_body,
            ),
            Middleware(GuardMiddleware, ctx=ctx),
            Middleware(ApiCors, origins=settings.api_cors_origins),
            Middleware(ServerErrorPages, page=server_error),
        ],
        exception_handlers={
            404: not_found,
            HTTPException: http_error,
            NewsdeskError: user_error,
        },
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    return app

"""``create_app``: the reading room as a Starlette application.

It gathers the routes of our own modules (auth, pages, management, outgoing feeds) and of the
packages in ``ROUTE_MODULES`` (the APIs and the intelligence pages), puts every request
through ``BodyLimits`` (body deadline, small bodies before login) and ``GuardMiddleware`` (Host
check, security headers, session, CSRF) and turns errors into pages (``web.errors.ErrorPages``):
unknown ids are 404s, bad input a clear message, never a traceback.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from newsdesk.desk import Desk
from newsdesk.settings import Settings
from newsdesk.web import (
    account,
    admin,
    api,
    auth,
    filters,
    habits,
    icons,
    intel,
    manage,
    pages,
    republish,
    rows,
    rules,
)
from newsdesk.web.context import FeedSecret, WebContext
from newsdesk.web.edge import ApiCors, CollapseSlashes
from newsdesk.web.errors import ErrorPages, ServerErrorPages
from newsdesk.web.guard import GuardMiddleware
from newsdesk.web.icon_links import IconLinks
from newsdesk.web.jobs import RefreshJobs
from newsdesk.web.lanes import Lanes
from newsdesk.web.limiter import LoginLimiter
from newsdesk.web.suggestions import Suggestions
from newsdesk.web.transport import BodyLimits

ROUTE_MODULES = (api, intel)  # each gives routes(ctx) and may list PUBLIC_PREFIXES
# Our own modules' routes, then those of ROUTE_MODULES, in this order (Starlette tries routes
# in order).
OWN_MODULES = (auth, pages, manage, republish, account, admin, icons, rules, habits)
HERE = Path(__file__).parent
# Allocations between two collections of the youngest generation while the app serves
# (``quiet_collector``; Python's default is 700).
GC_THRESHOLD = 5_000
log = logging.getLogger(__name__)


def create_app(
    settings: Settings, *, desk: Desk | None = None, no_auth: bool = False, warm: bool = False
) -> Starlette:
    """The web app. Pass ``desk`` to share one (tests); otherwise one is opened and closed with
    the app. ``no_auth`` turns off login (the CLI allows it only on loopback). ``warm``
    compiles every template now (0.2 s), not on the first page that needs each (what
    `newsdesk serve` and `newsdesk run` do: the first visitors' pages are not the slow ones)."""
    own_desk = desk is None
    desk = desk or Desk(settings)
    ctx = make_context(settings, desk, no_auth=no_auth)
    errors = ErrorPages(ctx)
    app = Starlette(
        routes=app_routes(ctx),
        middleware=middleware(ctx, errors),
        exception_handlers=errors.handlers(),
        lifespan=lifespan(ctx, own_desk=own_desk),
    )
    app.state.ctx = ctx
    if warm:
        compile_templates(ctx.templates)
    return app


def make_templates() -> Jinja2Templates:
    """The pages' templates (``web/templates``), autoescaped, with our filters and globals."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.autoescape = True
    # The templates are the package's own files: compiled once, never looked at again (with
    # auto_reload every render, and every card a river includes, checked the file's time).
    templates.env.auto_reload = False
    filters.install(templates.env)
    rows.install(templates.env)
    templates.env.globals.update(
        csrf_token=lambda request: getattr(request.state, "csrf_token", ""),
        current_user=lambda request: getattr(request.state, "user", None),
    )
    return templates


def compile_templates(templates: Jinja2Templates) -> None:
    """Compile every template (after the route modules installed their filters)."""
    env = templates.env
    for name in env.list_templates():
        env.get_template(name)


def make_context(settings: Settings, desk: Desk, *, no_auth: bool) -> WebContext:
    """The state every route shares, its parts made once: the secrets (read from the store),
    the refresh runner, the login limiter and the icon links."""
    public: list[str] = []
    for module in (icons, *ROUTE_MODULES):
        public.extend(getattr(module, "PUBLIC_PREFIXES", ()))
    users = desk.store.users
    lanes = Lanes()
    ctx = WebContext(
        settings=settings,
        desk=desk,
        templates=make_templates(),
        csrf_secret=users.server_secret("csrf"),
        feed_secret=FeedSecret(users.server_secret(pages.FEED_SECRET)),
        jobs=RefreshJobs(desk),
        login_limiter=LoginLimiter(desk.store.throttle, settings.login_attempts, lanes),
        icon_links=IconLinks(desk.store),
        suggestions=Suggestions(),
        no_auth=no_auth,
        public_prefixes=tuple(public),
        lanes=lanes,
    )
    ctx.templates.env.globals["feed_query"] = pages.FeedQuery(ctx)  # read at render: keys rotate
    return ctx


async def healthz(_request: Request) -> Response:
    return PlainTextResponse("ok")


def app_routes(ctx: WebContext) -> list[BaseRoute]:
    """/healthz, the static files, then every module's ``routes(ctx)``."""
    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    for module in (*OWN_MODULES, *ROUTE_MODULES):
        make_routes = getattr(module, "routes", None)
        if make_routes is None:
            log.warning("%s has no routes(ctx); skipped", module.__name__)
            continue
        routes.extend(make_routes(ctx))
    return routes


def middleware(ctx: WebContext, errors: ErrorPages) -> list[Middleware]:
    """Slashes collapsed before anything looks at the path; BodyLimits next (bounds what anyone
    reads of a body); ApiCors inside the guard (its Host check still applies); ServerErrorPages
    inside the guard, so a 500 carries the security headers too."""
    settings = ctx.settings
    return [
        Middleware(CollapseSlashes),
        Middleware(
            BodyLimits,
            body_timeout=settings.web_body_timeout,
            login_max=settings.login_max_body,
        ),
        Middleware(GuardMiddleware, ctx=ctx),
        Middleware(ApiCors, origins=settings.api_cors_origins),
        Middleware(ServerErrorPages, page=errors.server_error),
    ]


def lifespan(
    ctx: WebContext, *, own_desk: bool
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """At start-up: the collector tuned for serving (``quiet_collector``). At shutdown: give a
    running refresh a moment to end, and close the Desk if it is the app's own."""

    @asynccontextmanager
    async def span(_app: Starlette) -> AsyncIterator[None]:
        try:
            with quiet_collector():
                yield
        finally:
            await ctx.lanes.drain(timeout=5)  # the writes pages started and did not wait for
            ctx.jobs.close(timeout=5)
            if own_desk:
                ctx.desk.close()

    return span


@contextmanager
def quiet_collector() -> Iterator[None]:
    """Python's cyclic garbage collector, tuned while the app serves: a page allocates tens of
    thousands of short-lived objects (rows, dataclasses, markup), which ran the youngest
    generation's collection every 700 of them, a few times a page, and each older collection
    walked every object the app made at start-up (its modules, tables, templates): 3-5 ms of
    a page's 20-40 ms. The start-up objects are set aside (``gc.freeze``: they live as long as
    the process) and the youngest generation is collected every GC_THRESHOLD allocations:
    0.2-0.4 ms. Both undone when the app stops."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()

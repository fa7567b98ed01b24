"""The reading room's intelligence pages: stories, entities, their timelines and watchlists.

``web/app.py`` loads this package through ``ROUTE_MODULES`` and calls ``routes(ctx)``. The
river's one-card-per-story grouping lives in ``river`` (called by ``web/pages.py``); charts are
server-rendered SVG from ``svg`` (no script: the CSP forbids inline script).

The page modules are imported in ``routes`` rather than here: ``web/pages.py`` imports
``river`` from this package, and the page modules import ``web/pages.py``."""

from __future__ import annotations

from starlette.routing import BaseRoute

from newsdesk.web.context import WebContext


def routes(ctx: WebContext) -> list[BaseRoute]:
    from newsdesk.web.intel import entity_pages, story_pages, watch_pages
    from newsdesk.web.intel.format import install

    install(ctx)
    return [*story_pages.routes(ctx), *entity_pages.routes(ctx), *watch_pages.routes(ctx)]

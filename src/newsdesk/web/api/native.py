"""Newsdesk's own REST API under ``/api/``: subscriptions, categories, entries with every
filter the desk knows, entry state in bulk, related entries (``web.api.native_reading``);
digests, OPML, refresh jobs with progress and API keys (``web.api.native_desk``); stories,
entities, timelines and watchlists (``web.api.intel``). Described by the OpenAPI document at
``/api/openapi.json``, generated from the declarations next to the handlers (see
``web.api.openapi``), and browsable at ``/api/docs``.

Authentication: an API key as ``Authorization: Bearer KEY`` or ``X-Auth-Token: KEY`` (or HTTP
Basic with the reading room's user name and password). Errors are
``{"error": {"status": N, "message": "…"}}``.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from newsdesk.web.api.openapi import TABLES
from newsdesk.web.api.state import ApiState


def routes(api: ApiState) -> list[BaseRoute]:
    """Every native route with ``api`` bound: the documents, then the reading, desk and
    intelligence routes, one list so that the /api/ fallback and the OpenAPI check see one
    set (the document is built from the same tables)."""
    return [route for table in TABLES for route in table.routes(api)]

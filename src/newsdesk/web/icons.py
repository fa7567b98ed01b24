"""Site icons served from our own origin: ``GET /icon/{id}-{key}``.

The address is public but unguessable: ``key`` is an HMAC of the icon's id and content hash
under a server secret (``web_secrets``), so the route needs no cookie and no API key. That
lets the reading room's ``<img>`` tags and reader apps (Google Reader ``iconUrl``, which clients
fetch without their token) use the same URL, while nobody can list which sites this desk
follows by counting ids. A new icon has a new hash, hence a new URL: answers are cached for a
year (``immutable``) and carry the hash as ETag.

SVG is served as ``image/svg+xml`` under ``Content-Security-Policy: default-src 'none'`` with
``sandbox``, so an SVG opened on its own runs no script and loads nothing; pages only ever show
icons through ``<img>``, never inline.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute

from newsdesk.store.icons import Icon
from newsdesk.web.context import WebContext
from newsdesk.web.routing import RouteTable

PUBLIC_PREFIXES = ("/icon/",)
CACHE_CONTROL = "public, max-age=31536000, immutable"
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def icon_response(icon: Icon, request: Request) -> Response:
    etag = f'"{icon.hash}"'
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag}
    if icon.mime_type == "image/svg+xml":
        headers["Content-Security-Policy"] = SVG_POLICY
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(icon.data, media_type=icon.mime_type, headers=headers)


TABLE = RouteTable[WebContext]()


@TABLE.route("/icon/{key}", "GET", "HEAD")
async def icon(request: Request, ctx: WebContext) -> Response:
    links = ctx.icon_links
    parsed = links.parse(str(request.path_params.get("key", "")))
    found = await ctx.run(ctx.store.icons.get_icon, parsed[0]) if parsed else None
    if parsed is None or found is None:
        return PlainTextResponse("no such icon", status_code=404)
    if not hmac.compare_digest(parsed[1], links.key(found.id, found.hash)):
        return PlainTextResponse("no such icon", status_code=404)
    return icon_response(found, request)


def routes(ctx: WebContext) -> list[BaseRoute]:
    """The icon route; the templates' ``icon_src`` and ``feed_icon`` come from the app's
    ``IconLinks`` (``ctx.icon_links``)."""
    ctx.templates.env.globals["icon_src"] = ctx.icon_links.src
    ctx.templates.env.globals["feed_icon"] = ctx.icon_links.img
    return TABLE.routes(ctx)

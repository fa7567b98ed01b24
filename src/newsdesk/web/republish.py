"""Republished feeds: everything, each category, feed, tag, entity, story and saved search as
Atom 1.0, RSS 2.0 and JSON Feed 1.1, under ``/syndicate/…``. Feed readers have no session, so
these URLs also accept the reader key the pages put in their autodiscovery links."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from newsdesk.errors import FeedNotFoundError, NewsdeskError
from newsdesk.model import StoredEntry
from newsdesk.publish.feeds import CONTENT_TYPES, FEED_FORMATS, FeedMeta, render_feed
from newsdesk.store import EntryQuery
from newsdesk.web.context import WebContext
from newsdesk.web.pages import key_person
from newsdesk.web.routing import RouteTable

FEED_SIZE = 50


TABLE = RouteTable[WebContext]()


def routes(ctx: WebContext) -> list[BaseRoute]:
    return TABLE.routes(ctx)


def reader_context(request: Request, ctx: WebContext) -> WebContext | None:
    """The context of the person whose feeds these are: the one logged in (or, with no login
    at all, the first admin), else the owner of the reader key of the pages' feed links; None
    when neither."""
    if ctx.no_auth or ctx.current_user(request) is not None:
        return ctx
    person = key_person(ctx, request.query_params.get("key", ""))
    if person is None:
        return None
    return replace(ctx, desk=ctx.system_desk.as_person(person), base_desk=ctx.system_desk)


def _simple_view(
    ctx: WebContext, kind: str, value: str, query: EntryQuery
) -> tuple[str, str, list[StoredEntry]] | None:
    """Everything, a category, feed or tag: (title, home page, entries), or None."""
    if kind == "all" and not value:
        return "Newsdesk: all entries", "/", ctx.desk.entries(query)
    if kind == "category" and value:
        query.category = value
        found = ctx.desk.entries(query)
        if not found and value not in {t for _i, t, _n in ctx.desk.store.categories()}:
            raise HTTPException(404, f"There is no category named {value!r}.")
        return f"Newsdesk: {value}", f"/category/{quote(value, safe='')}", found
    if kind == "feed" and value.isdigit():
        try:
            feed = ctx.desk.store.get_feed(int(value))
        except FeedNotFoundError:
            raise HTTPException(404, "There is no such feed.") from None
        query.feed_id = feed.id
        return f"Newsdesk: {feed.display_title}", f"/feed/{feed.id}", ctx.desk.entries(query)
    if kind == "tag" and value:
        query.tag = value
        return f"Newsdesk: #{value}", f"/tag/{quote(value, safe='')}", ctx.desk.entries(query)
    return None


def _intel_view(
    ctx: WebContext, kind: str, value: str, query: EntryQuery
) -> tuple[str, str, list[StoredEntry]]:
    """An entity, a story or a saved search: (title, home page, entries); else a 404."""
    if kind == "entity" and value.isdigit():
        entity = ctx.desk.store.entities.get_entity(int(value))
        if entity is None:
            raise HTTPException(404, "There is no such entity.")
        query.entity_id = entity.id
        return f"Newsdesk: {entity.name}", f"/entity/{entity.id}", ctx.desk.entries(query)
    if kind == "story" and value.isdigit():
        story = ctx.desk.store.stories.get_story(int(value))
        if story is None:
            raise HTTPException(404, "There is no such story.")
        query.story_id = story.id
        title = f"Newsdesk story: {story.title or story.id}"
        return title, f"/story/{story.id}", ctx.desk.entries(query)
    if kind == "search" and value.isdigit():
        saved = ctx.store.saved_searches.get_saved_search(int(value))
        if saved is None:
            raise HTTPException(404, "There is no such saved search.")
        _apply_filters(ctx, query, saved.filters)
        found = ctx.desk.search(saved.query, query)
        found.sort(key=lambda e: (e.published, e.id), reverse=True)
        home = "/search?" + f"q={quote(saved.query)}"
        return f"Newsdesk search: {saved.name}", home, found
    raise HTTPException(404, "There is no such feed.")


def _load(ctx: WebContext, kind: str, value: str) -> tuple[str, str, list[StoredEntry]]:
    query = EntryQuery(limit=FEED_SIZE)
    return _simple_view(ctx, kind, value, query) or _intel_view(ctx, kind, value, query)


@TABLE.get("/syndicate/{rest:path}")
async def syndicate(request: Request, ctx: WebContext) -> Response:
    reader = await ctx.run(reader_context, request, ctx)
    if reader is None:
        raise HTTPException(401, "This feed needs the key from the reading room's feed link.")
    ctx = reader
    rest: str = request.path_params["rest"]
    stem, dot, fmt = rest.rpartition(".")
    if not dot or fmt not in FEED_FORMATS:
        raise HTTPException(404, "Feeds end in .atom, .rss or .json.")
    kind, _, value = stem.partition("/")
    base = str(request.base_url).rstrip("/")
    title, home, found = await ctx.run(_load, ctx, kind, value)
    meta = FeedMeta(
        title=title,
        id=f"{base}/syndicate/{stem}",
        self_url=str(request.url),
        home_url=home,
        base_url=base + "/",
    )
    body = render_feed(fmt, meta, found)
    return Response(body, media_type=CONTENT_TYPES[fmt])


def _apply_filters(ctx: WebContext, query: EntryQuery, filters: dict[str, object]) -> None:
    from newsdesk.desk import parse_since

    category = filters.get("category")
    if isinstance(category, str) and category:
        query.category = category
    feed = filters.get("feed")
    if isinstance(feed, str) and feed.isdigit():
        query.feed_id = int(feed)
    kind = filters.get("kind")
    if kind in ("post", "article"):
        query.kind = str(kind)
    entity = filters.get("entity")
    if isinstance(entity, str) and entity:
        try:
            query.entity_id = ctx.desk.resolve_entity(entity).id
        except NewsdeskError:
            query.entity_id = 0  # an entity no longer there: no entry matches, none is shown
    for name in ("since", "until"):
        value = filters.get(name)
        if isinstance(value, str) and value:
            with contextlib.suppress(NewsdeskError):
                setattr(query, name, parse_since(value))

"""Story pages: the list of stories, one story (every member in time order, its timeline, the
entities in it) and its timeline with JSON and CSV downloads."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from newsdesk.store import EntryQuery
from newsdesk.store.entities import Entity
from newsdesk.store.stories import StorySummary
from newsdesk.web.context import WebContext
from newsdesk.web.intel.format import page_number, timeline_download
from newsdesk.web.pages import feed_links, sidebar, with_shared
from newsdesk.web.routing import RouteTable

MAX_MEMBERS = 300
STORIES_PAGE = 40
TIMELINE_PREVIEW = 30
MAX_EVENTS = 5000  # a timeline page or file longer than this is cut


TABLE = RouteTable[WebContext]()


def tally_entities(found: dict[int, list[Entity]]) -> list[tuple[Entity, int]]:
    """Entities over a set of entries with how many of them mention each, most first."""
    counts: Counter[int] = Counter()
    by_id: dict[int, Entity] = {}
    for listed in found.values():
        for entity in listed:
            counts[entity.id] += 1
            by_id[entity.id] = entity
    return sorted(
        ((by_id[i], n) for i, n in counts.items()), key=lambda p: (-p[1], p[0].name, p[0].id)
    )


def _story_or_404(ctx: WebContext, story_id: int) -> StorySummary:
    story = ctx.desk.store.stories.get_story(story_id)
    if story is None:
        raise HTTPException(404, f"There is no story {story_id}.")
    return story


@TABLE.get("/stories")
async def stories_page(request: Request, ctx: WebContext) -> Response:
    page = page_number(request)
    raw = request.query_params.get("min_size", "2")
    min_size = max(1, min(int(raw), 1000)) if raw.isdigit() else 2

    def load() -> list[StorySummary]:
        return ctx.desk.store.stories.list_stories(
            limit=STORIES_PAGE + 1, offset=(page - 1) * STORIES_PAGE, min_size=min_size
        )

    found = await ctx.run(load)
    more = len(found) > STORIES_PAGE
    next_url = "/stories?" + urlencode({"min_size": min_size, "page": page + 1})
    return ctx.render(
        request,
        "intel_stories.html",
        title="Stories",
        stories=found[:STORIES_PAGE],
        next_url=next_url if more else None,
        prev_url=(
            "/stories?" + urlencode({"min_size": min_size, "page": page - 1}) if page > 1 else None
        ),
        grouping=ctx.settings.stories,
        **await sidebar(ctx),
    )


def _story_data(ctx: WebContext, story_id: int) -> dict[str, Any]:
    """A story's page: its members (the first MAX_MEMBERS), timeline preview and entities."""
    store = ctx.desk.store
    story = _story_or_404(ctx, story_id)
    ids = store.stories.story_member_ids(story_id)
    shown = ids[:MAX_MEMBERS]
    members = (
        ctx.desk.entries(EntryQuery(ids=shown, limit=len(shown), oldest_first=True))
        if shown
        else []
    )
    events = store.events.story_timeline(story_id, limit=MAX_EVENTS)
    return {
        "story": story,
        "items": with_shared(ctx, members),
        "hidden": len(ids) - len(shown),
        "events": events[:TIMELINE_PREVIEW],
        "event_count": len(events),
        "entities": tally_entities(store.entities.entities_for_entries(shown)),
    }


@TABLE.get("/story/{story_id:int}")
async def story_page(request: Request, ctx: WebContext) -> Response:
    story_id = request.path_params["story_id"]
    data = await ctx.run(_story_data, ctx, story_id)
    return ctx.render(
        request,
        "intel_story.html",
        title=data["story"].title or f"Story {story_id}",
        feed_links=feed_links(ctx, f"/syndicate/story/{story_id}", "Story"),
        **data,
        **await sidebar(ctx),
    )


@TABLE.get("/story/{story_id:int}/timeline")
async def story_timeline_page(request: Request, ctx: WebContext) -> Response:
    story_id = request.path_params["story_id"]

    def load() -> dict[str, Any]:
        return {
            "story": _story_or_404(ctx, story_id),
            "events": ctx.desk.store.events.story_timeline(story_id, limit=MAX_EVENTS),
        }

    data = await ctx.run(load)
    story = data["story"]
    return ctx.render(
        request,
        "intel_timeline.html",
        title=f"Timeline: {story.title or 'story ' + str(story_id)}",
        subject=story.title or f"Story {story_id}",
        subject_url=f"/story/{story_id}",
        download=f"/story/{story_id}/timeline",
        events=data["events"],
        **await sidebar(ctx),
    )


@TABLE.get("/story/{story_id:int}/timeline.{fmt}")
async def story_timeline_file(request: Request, ctx: WebContext) -> Response:
    story_id = request.path_params["story_id"]
    fmt = request.path_params["fmt"]
    if fmt not in ("json", "csv"):
        raise HTTPException(404, "Timelines download as .json or .csv.")

    def load() -> Any:
        _story_or_404(ctx, story_id)
        return ctx.desk.store.events.story_timeline(story_id, limit=MAX_EVENTS)

    return timeline_download(await ctx.run(load), fmt, f"story-{story_id}")


def routes(ctx: WebContext) -> list[BaseRoute]:
    return TABLE.routes(ctx)

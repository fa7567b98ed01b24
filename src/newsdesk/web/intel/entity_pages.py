"""Entity pages: the index of people, organisations and places, one entity (mentions over
time, the stories it is in, the entities mentioned with it as a graph, its timeline, recent
entries) and its timeline with JSON and CSV downloads."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from newsdesk.store import EntryQuery
from newsdesk.store.entities import Entity
from newsdesk.web.context import WebContext
from newsdesk.web.intel.format import KIND_LABELS, page_number, timeline_download
from newsdesk.web.intel.svg import BUCKETS, Node, bar_chart, choose_bucket, co_mention_svg
from newsdesk.web.pages import feed_links, sidebar, with_shared
from newsdesk.web.routing import RouteTable

ENTITIES_PAGE = 60
RECENT = 15
TIMELINE_PREVIEW = 30
MAX_EVENTS = 5000  # a timeline page or file longer than this is cut
GRAPH_SIZE = 12


TABLE = RouteTable[WebContext]()


def entity_node(entity: Entity) -> Node:
    return Node(entity.id, entity.name, entity.kind, f"/entity/{entity.id}")


def graph_for(entity: Entity, nodes: list[Entity], edges: list[tuple[int, int, int]]) -> Any:
    """The co-mention graph, the strongest ties to the entity first round the circle."""
    weight = {
        (b if a == entity.id else a): w for a, b, w in edges if entity.id in (a, b) and a != b
    }
    others = sorted(
        (n for n in nodes if n.id != entity.id),
        key=lambda n: (-weight.get(n.id, 0), n.name.casefold(), n.id),
    )
    return co_mention_svg(entity_node(entity), [entity_node(n) for n in others], edges)


def _entity_or_404(ctx: WebContext, entity_id: int) -> Entity:
    entity = ctx.desk.store.entities.get_entity(entity_id)
    if entity is None:
        raise HTTPException(404, f"There is no entity {entity_id}.")
    return entity


def _entities(ctx: WebContext, text: str, kind: str, page: int) -> list[Entity]:
    """The entities matching ``text``, or a page of the index (one more to tell there is a
    next page)."""
    entities = ctx.desk.store.entities
    if text:
        found = entities.find_entities(text, limit=ENTITIES_PAGE)
        return [e for e in found if not kind or e.kind == kind]
    return entities.list_entities(
        kind=kind or None, limit=ENTITIES_PAGE + 1, offset=(page - 1) * ENTITIES_PAGE
    )


@TABLE.get("/entities")
async def entities_page(request: Request, ctx: WebContext) -> Response:
    params = request.query_params
    kind = params.get("kind", "")
    kind = kind if kind in KIND_LABELS else ""
    text = params.get("q", "").strip()[:200]
    page = page_number(request)
    found = await ctx.run(_entities, ctx, text, kind, page)
    more = not text and len(found) > ENTITIES_PAGE
    base = {k: v for k, v in (("kind", kind), ("q", text)) if v}
    return ctx.render(
        request,
        "intel_entities.html",
        title="Entities",
        entities=found[:ENTITIES_PAGE],
        kind=kind,
        q_entities=text,
        next_url="/entities?" + urlencode({**base, "page": page + 1}) if more else None,
        prev_url="/entities?" + urlencode({**base, "page": page - 1}) if page > 1 else None,
        **await sidebar(ctx),
    )


def _entity_data(ctx: WebContext, entity_id: int, asked: str) -> dict[str, Any]:
    """An entity's page: mentions over time, co-mentions, stories, timeline, recent entries."""
    store = ctx.desk.store
    entity = _entity_or_404(ctx, entity_id)
    first = entity.first_seen.date() if entity.first_seen else None
    last = entity.last_seen.date() if entity.last_seen else None
    bucket = asked if asked in BUCKETS else choose_bucket(first, last)
    series = store.entities.mentions_over_time(entity_id, bucket=bucket)
    nodes, edges = store.entities.co_mention_graph(entity_id, limit=GRAPH_SIZE)
    story_ids = store.entities.entity_story_ids(entity_id, limit=20)
    found = store.stories.story_summaries(story_ids)
    events = store.events.entity_timeline(entity_id, limit=MAX_EVENTS)
    recent = ctx.desk.entries(EntryQuery(entity_id=entity_id, limit=RECENT))
    return {
        "entity": entity,
        "bucket": bucket,
        "chart": bar_chart(series, bucket=bucket, subject=entity.name),
        "series": series,
        "graph": graph_for(entity, nodes, edges),
        "co": store.entities.co_mentions(entity_id, limit=15),
        "entity_stories": [found[i] for i in story_ids if i in found],
        "events": events[:TIMELINE_PREVIEW],
        "event_count": len(events),
        "items": with_shared(ctx, recent),
    }


@TABLE.get("/entity/{entity_id:int}")
async def entity_page(request: Request, ctx: WebContext) -> Response:
    entity_id = request.path_params["entity_id"]
    asked = request.query_params.get("bucket", "")
    data = await ctx.run(_entity_data, ctx, entity_id, asked)
    entity = data["entity"]
    return ctx.render(
        request,
        "intel_entity.html",
        title=entity.name,
        buckets=BUCKETS,
        feed_links=feed_links(ctx, f"/syndicate/entity/{entity_id}", entity.name),
        **data,
        **await sidebar(ctx),
    )


def _timeline(ctx: WebContext, entity_id: int) -> tuple[Entity, Any]:
    entity = _entity_or_404(ctx, entity_id)
    return entity, ctx.desk.store.events.entity_timeline(entity_id, limit=MAX_EVENTS)


@TABLE.get("/entity/{entity_id:int}/timeline")
async def entity_timeline_page(request: Request, ctx: WebContext) -> Response:
    entity_id = request.path_params["entity_id"]
    entity, events = await ctx.run(_timeline, ctx, entity_id)
    return ctx.render(
        request,
        "intel_timeline.html",
        title=f"Timeline: {entity.name}",
        subject=entity.name,
        subject_url=f"/entity/{entity_id}",
        download=f"/entity/{entity_id}/timeline",
        events=events,
        **await sidebar(ctx),
    )


@TABLE.get("/entity/{entity_id:int}/timeline.{fmt}")
async def entity_timeline_file(request: Request, ctx: WebContext) -> Response:
    entity_id = request.path_params["entity_id"]
    fmt = request.path_params["fmt"]
    if fmt not in ("json", "csv"):
        raise HTTPException(404, "Timelines download as .json or .csv.")
    _entity, events = await ctx.run(_timeline, ctx, entity_id)
    return timeline_download(events, fmt, f"entity-{entity_id}")


def routes(ctx: WebContext) -> list[BaseRoute]:
    return TABLE.routes(ctx)

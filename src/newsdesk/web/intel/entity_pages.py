"""Entity pages: the index of people, organisations and places, one entity (mentions over
time, the stories it is in, the entities mentioned with it as a graph, its timeline, recent
entries) and its timeline with JSON and CSV downloads."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from newsdesk.store import EntryQuery
from newsdesk.store.entities import (
    Entity,
    co_mention_graph,
    co_mentions,
    entity_story_ids,
    find_entities,
    get_entity,
    list_entities,
    mentions_over_time,
)
from newsdesk.store.events import entity_timeline
from newsdesk.store.stories import story_summaries
from newsdesk.web.context import WebContext
from newsdesk.web.intel.format import KIND_LABELS, page_number, timeline_download
from newsdesk.web.intel.svg import BUCKETS, Node, bar_chart, choose_bucket, co_mention_svg
from newsdesk.web.pages import feed_links, sidebar, with_shared

ENTITIES_PAGE = 60
RECENT = 15
TIMELINE_PREVIEW = 30
MAX_EVENTS = 5000  # a timeline page or file longer than this is cut
GRAPH_SIZE = 12


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


def routes(ctx: WebContext) -> list[BaseRoute]:
    def entity_or_404(entity_id: int) -> Entity:
        entity = get_entity(ctx.engine, entity_id)
        if entity is None:
            raise HTTPException(404, f"There is no entity {entity_id}.")
        return entity

    async def entities_page(request: Request) -> Response:
        params = request.query_params
        kind = params.get("kind", "")
        kind = kind if kind in KIND_LABELS else ""
        text = params.get("q", "").strip()[:200]
        page = page_number(request)

        def load() -> list[Entity]:
            if text:
                found = find_entities(ctx.engine, text, limit=ENTITIES_PAGE)
                return [e for e in found if not kind or e.kind == kind]
            return list_entities(
                ctx.engine,
                kind=kind or None,
                limit=ENTITIES_PAGE + 1,
                offset=(page - 1) * ENTITIES_PAGE,
            )

        found = await ctx.run(load)
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

    async def entity_page(request: Request) -> Response:
        entity_id = request.path_params["entity_id"]
        asked = request.query_params.get("bucket", "")

        def load() -> dict[str, Any]:
            entity = entity_or_404(entity_id)
            first = entity.first_seen.date() if entity.first_seen else None
            last = entity.last_seen.date() if entity.last_seen else None
            bucket = asked if asked in BUCKETS else choose_bucket(first, last)
            series = mentions_over_time(ctx.engine, entity_id, bucket=bucket)
            nodes, edges = co_mention_graph(ctx.engine, entity_id, limit=GRAPH_SIZE)
            story_ids = entity_story_ids(ctx.engine, entity_id, limit=20)
            found = story_summaries(ctx.engine, story_ids)
            events = entity_timeline(ctx.engine, entity_id, limit=MAX_EVENTS)
            recent = ctx.desk.entries(EntryQuery(entity_id=entity_id, limit=RECENT))
            return {
                "entity": entity,
                "bucket": bucket,
                "chart": bar_chart(series, bucket=bucket, subject=entity.name),
                "series": series,
                "graph": graph_for(entity, nodes, edges),
                "co": co_mentions(ctx.engine, entity_id, limit=15),
                "entity_stories": [found[i] for i in story_ids if i in found],
                "events": events[:TIMELINE_PREVIEW],
                "event_count": len(events),
                "items": with_shared(ctx, recent),
            }

        data = await ctx.run(load)
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

    async def entity_timeline_page(request: Request) -> Response:
        entity_id = request.path_params["entity_id"]

        def load() -> tuple[Entity, Any]:
            return entity_or_404(entity_id), entity_timeline(
                ctx.engine, entity_id, limit=MAX_EVENTS
            )

        entity, events = await ctx.run(load)
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

    async def entity_timeline_file(request: Request) -> Response:
        entity_id = request.path_params["entity_id"]
        fmt = request.path_params["fmt"]
        if fmt not in ("json", "csv"):
            raise HTTPException(404, "Timelines download as .json or .csv.")

        def load() -> Any:
            entity_or_404(entity_id)
            return entity_timeline(ctx.engine, entity_id, limit=MAX_EVENTS)

        return timeline_download(await ctx.run(load), fmt, f"entity-{entity_id}")

    return [
        Route("/entities", entities_page),
        Route("/entity/{entity_id:int}", entity_page),
        Route("/entity/{entity_id:int}/timeline", entity_timeline_page),
        Route("/entity/{entity_id:int}/timeline.{fmt}", entity_timeline_file),
    ]

"""The native API's view of what the intelligence stage builds: stories (entries about one event
across sources), entities (people, organisations, places) with their mentions over time and
co-mentions, timelines of dated events per story and per entity (JSON or CSV), and watchlists
with the alerts they raised. Module-level handlers declared on ``TABLE`` with their OpenAPI
operations; ``web.api.native`` lists them after the rest of the native API.

Same authentication, error shape and paging as ``/api/entries`` (``web.api.native_reading``);
the store functions are blocking and run through ``api.run``. Watchlists never leave with their
secrets: ``Watchlist.as_dict`` masks them, and a PATCH that sends a masked (or no) secret
back keeps the stored one, so a client can edit what it read and send it back
(``web.api.watch_input``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from newsdesk.store.entities import Entity
from newsdesk.store.events import TimelineEvent
from newsdesk.store.stories import StorySummary
from newsdesk.store.watchlists import Watchlist
from newsdesk.timeline.export import events_to_csv, events_to_json
from newsdesk.web.api.access import require_user
from newsdesk.web.api.errors import BadRequest, NotFound, endpoint, json_error
from newsdesk.web.api.inputs import query_int, read_json_object
from newsdesk.web.api.native_common import MAX_LIMIT, entry_page, entry_query, path_id
from newsdesk.web.api.openapi_schemas import (
    BAD,
    ENTRY_FILTERS,
    MISSING,
    PAGE,
    STORY_FILTER,
    TIMELINE_ANSWER,
    TIMELINE_FORMAT,
    array,
    error_answer,
    json_answer,
    json_body,
    path_param,
    query_param,
    ref,
)
from newsdesk.web.api.state import ApiState
from newsdesk.web.api.watch_input import MAX_TEXT, has_nul, name_free, watch_changes
from newsdesk.web.routing import Doc, RouteTable

TABLE = RouteTable[ApiState](endpoint(json_error))

ENTITY_KINDS = ("person", "org", "place")
BUCKETS = ("day", "week", "month")
TIMELINE_FORMATS = ("json", "csv")
ALERT_STATUSES = ("pending", "sending", "sent", "failed")
# A story's members shown with it; a larger story's others are reached through
# GET /api/entries?story_id=.
MAX_MEMBERS = 500

STORY_ID = path_param("story_id", "story id")
ENTITY_ID = path_param("entity_id", "entity id")
WATCHLIST_ID = path_param("watchlist_id", "watchlist id")


def _limit_offset(request: Request, default: int = 50) -> tuple[int, int]:
    limit = query_int(request, "limit", default, minimum=1, maximum=MAX_LIMIT) or default
    offset = query_int(request, "offset", 0, maximum=10**9) or 0
    return limit, offset


def _choice(request: Request, name: str, choices: tuple[str, ...], default: str | None) -> Any:
    raw = request.query_params.get(name) or default
    if raw is not None and raw not in choices:
        raise BadRequest(f"{name} must be one of {', '.join(choices)}")
    return raw


def timeline_response(events: list[TimelineEvent], fmt: str, stem: str) -> Response:
    """A timeline as the API answers it: JSON (the export's document) or CSV, a download named
    after its subject."""
    if fmt == "csv":
        return Response(
            events_to_csv(events),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{stem}.csv"'},
        )
    return Response(events_to_json(events), media_type="application/json")


# -- stories ----------------------------------------------------------------------------------


async def story_of(api: ApiState, story_id: int) -> StorySummary:
    found = await api.run(api.store.stories.get_story, story_id)
    if found is None:
        raise NotFound(f"no story with id {story_id}")
    return found


@TABLE.get(
    "/api/stories",
    doc=Doc(
        "Stories (entries about one event across sources), latest activity first",
        {"200": json_answer("a page of stories", ref("StoryPage")), "400": BAD},
        tag="stories",
        parameters=[
            query_param(
                "min_size",
                {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 2},
                "only stories of at least this many entries (1: every entry's story)",
            ),
            *PAGE,
        ],
    ),
)
async def stories(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    limit, offset = _limit_offset(request)
    min_size = query_int(request, "min_size", 2, minimum=1, maximum=10**6) or 2
    found = await api.run(
        api.store.stories.list_stories, limit=limit, offset=offset, min_size=min_size
    )
    return JSONResponse(
        {
            "limit": limit,
            "offset": offset,
            "min_size": min_size,
            "stories": [s.as_dict() for s in found],
        }
    )


def story_json(api: ApiState, summary: StorySummary) -> dict[str, Any]:
    """A story with its members and the entities they mention (most members first). Blocking."""
    ids = api.store.stories.story_member_ids(summary.id)[:MAX_MEMBERS]
    members = api.store.sync.entries_by_ids(ids)
    counts: dict[int, tuple[Entity, int]] = {}
    for found in api.store.entities.entities_for_entries(ids).values():
        for entity in found:
            _, n = counts.get(entity.id, (entity, 0))
            counts[entity.id] = (entity, n + 1)
    ranked = sorted(counts.values(), key=lambda pair: (-pair[1], pair[0].name))
    return {
        **summary.as_dict(),
        "entries": [e.as_dict() for e in members],
        "entities": [{"entity": e.as_dict(), "entries": n} for e, n in ranked[:50]],
    }


@TABLE.get(
    "/api/stories/{story_id}",
    doc=Doc(
        "A story: its summary, its entries in time order and the entities they mention",
        {"200": json_answer("the story", ref("StoryDetail")), "404": MISSING},
        tag="stories",
        parameters=[STORY_ID],
    ),
)
async def story(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    summary = await story_of(api, path_id(request, "story_id"))
    return JSONResponse(await api.run(story_json, api, summary))


@TABLE.get(
    "/api/stories/{story_id}/timeline",
    doc=Doc(
        "The dated events of a story's entries",
        {"200": TIMELINE_ANSWER, "400": BAD, "404": MISSING},
        tag="stories",
        parameters=[STORY_ID, TIMELINE_FORMAT],
    ),
)
async def story_events(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    fmt = _choice(request, "format", TIMELINE_FORMATS, "json")
    summary = await story_of(api, path_id(request, "story_id"))
    events = await api.run(api.store.events.story_timeline, summary.id)
    return timeline_response(events, fmt, f"story-{summary.id}-timeline")


async def mark_story(request: Request, api: ApiState, read: bool) -> Response:
    await require_user(api, request)
    summary = await story_of(api, path_id(request, "story_id"))
    changed = await api.run(api.desk.mark_story, summary.id, read)
    return JSONResponse({"story_id": summary.id, "read": read, "changed": changed})


@TABLE.post(
    "/api/stories/{story_id}/read",
    doc=Doc(
        "Mark every entry of a story read",
        {"200": json_answer("how many entries changed", ref("StoryMarked")), "404": MISSING},
        tag="stories",
        parameters=[STORY_ID],
    ),
)
async def story_read(request: Request, api: ApiState) -> Response:
    return await mark_story(request, api, True)


@TABLE.post(
    "/api/stories/{story_id}/unread",
    doc=Doc(
        "Mark every entry of a story unread",
        {"200": json_answer("how many entries changed", ref("StoryMarked")), "404": MISSING},
        tag="stories",
        parameters=[STORY_ID],
    ),
)
async def story_unread(request: Request, api: ApiState) -> Response:
    return await mark_story(request, api, False)


# -- entities ---------------------------------------------------------------------------------


async def entity_of(api: ApiState, entity_id: int) -> Entity:
    found = await api.run(api.store.entities.get_entity, entity_id)
    if found is None:
        raise NotFound(f"no entity with id {entity_id}")
    return found


def entity_page(
    api: ApiState, words: str, kind: str | None, limit: int, offset: int
) -> list[Entity]:
    """A page of entities (of ``kind``), in most entries first, or found by ``words``. Blocking."""
    if not words:
        return api.store.entities.list_entities(kind=kind, limit=limit, offset=offset)
    # find_entities ranks and does not page: ask for enough to cut the page from.
    found = api.store.entities.find_entities(words, limit=offset + limit + (200 if kind else 0))
    if kind:
        found = [e for e in found if e.kind == kind]
    return found[offset : offset + limit]


@TABLE.get(
    "/api/entities",
    doc=Doc(
        "People, organisations and places, in most entries first; or found by name",
        {"200": json_answer("a page of entities", ref("EntityPage")), "400": BAD},
        tag="entities",
        parameters=[
            query_param(
                "kind", {"type": "string", "enum": ["person", "org", "place"]}, "only this kind"
            ),
            query_param(
                "q",
                {"type": "string", "maxLength": 300},
                "name, alias or key to look for (exact matches first)",
            ),
            query_param(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                "page size",
            ),
            PAGE[1],
        ],
    ),
)
async def entities(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    kind = _choice(request, "kind", ENTITY_KINDS, None)
    limit, offset = _limit_offset(request, 100)
    words = (request.query_params.get("q") or "").strip()
    if len(words) > MAX_TEXT:
        raise BadRequest(f"q is longer than {MAX_TEXT} characters")
    if has_nul(words):
        raise BadRequest("q must not contain NUL characters")
    found = await api.run(entity_page, api, words, kind, limit, offset)
    return JSONResponse(
        {"limit": limit, "offset": offset, "entities": [e.as_dict() for e in found]}
    )


def entity_json(api: ApiState, found: Entity, bucket: str) -> dict[str, Any]:
    """An entity with its mentions over time, co-mentioned entities and stories. Blocking."""
    story_ids = api.store.entities.entity_story_ids(found.id)
    summaries = api.store.stories.story_summaries(story_ids)
    return {
        **found.as_dict(),
        "bucket": bucket,
        "mentions": [
            {"date": date, "entries": n}
            for date, n in api.store.entities.mentions_over_time(found.id, bucket=bucket)
        ],
        "co_mentions": [
            {"entity": other.as_dict(), "entries": n}
            for other, n in api.store.entities.co_mentions(found.id)
        ],
        "stories": [summaries[i].as_dict() for i in story_ids if i in summaries],
    }


@TABLE.get(
    "/api/entities/{entity_id}",
    doc=Doc(
        "An entity with its mentions over time, co-mentioned entities and stories",
        {"200": json_answer("the entity", ref("EntityDetail")), "400": BAD, "404": MISSING},
        tag="entities",
        parameters=[
            ENTITY_ID,
            query_param(
                "bucket",
                {"type": "string", "enum": ["day", "week", "month"], "default": "day"},
                "period of the mentions-over-time counts",
            ),
        ],
    ),
)
async def entity(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    bucket = _choice(request, "bucket", BUCKETS, "day")
    found = await entity_of(api, path_id(request, "entity_id"))
    return JSONResponse(await api.run(entity_json, api, found, bucket))


@TABLE.get(
    "/api/entities/{entity_id}/entries",
    doc=Doc(
        "Entries that mention an entity (the filters of /api/entries apply)",
        {"200": json_answer("a page of entries", ref("EntryPage")), "400": BAD, "404": MISSING},
        tag="entities",
        parameters=[ENTITY_ID, *ENTRY_FILTERS, STORY_FILTER],
    ),
)
async def entity_entries(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    found = await entity_of(api, path_id(request, "entity_id"))
    query, search = entry_query(request)
    query.entity_id = found.id
    return JSONResponse(await api.run(entry_page, api, query, search))


@TABLE.get(
    "/api/entities/{entity_id}/timeline",
    doc=Doc(
        "The dated events that name an entity",
        {"200": TIMELINE_ANSWER, "400": BAD, "404": MISSING},
        tag="entities",
        parameters=[ENTITY_ID, TIMELINE_FORMAT],
    ),
)
async def entity_events(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    fmt = _choice(request, "format", TIMELINE_FORMATS, "json")
    found = await entity_of(api, path_id(request, "entity_id"))
    events = await api.run(api.store.events.entity_timeline, found.id)
    return timeline_response(events, fmt, f"entity-{found.id}-timeline")


# -- watchlists -------------------------------------------------------------------------------


async def watchlist_of(api: ApiState, watchlist_id: int) -> Watchlist:
    found = await api.run(api.store.watchlists.get_watchlist, watchlist_id)
    if found is None:
        raise NotFound(f"no watchlist with id {watchlist_id}")
    return found


@TABLE.get(
    "/api/watchlists",
    doc=Doc(
        "Watchlists (saved queries that raise alerts), secrets masked",
        {"200": json_answer("watchlists", array(ref("Watchlist")))},
        tag="watchlists",
    ),
)
async def watchlists(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    found = await api.run(api.store.watchlists.list_watchlists)
    return JSONResponse([w.as_dict() for w in found])


def create_watchlist(api: ApiState, changes: dict[str, Any]) -> Watchlist:
    """Blocking: the name checked free and the watchlist made in one worker call."""
    name_free(api, changes["name"], None)
    return api.store.watchlists.create_watchlist(**changes)


@TABLE.post(
    "/api/watchlists",
    doc=Doc(
        "Make a watchlist",
        {
            "201": json_answer("the new watchlist", ref("Watchlist")),
            "400": BAD,
            "409": error_answer("a watchlist has this name already"),
        },
        tag="watchlists",
        body=json_body(ref("NewWatchlist")),
    ),
)
async def new_watchlist(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    changes = watch_changes(await read_json_object(request), None)
    created = await api.run(create_watchlist, api, changes)
    # A webhook secret Newsdesk generated is shown once, here: the caller needs it to check
    # signatures. One the caller gave is never echoed.
    hook = (changes.get("channels") or {}).get("webhook")
    generated = isinstance(hook, dict) and not hook.get("secret")
    return JSONResponse(
        created.as_dict(reveal_secrets=generated),
        status_code=201,
        headers={"location": f"/api/watchlists/{created.id}"},
    )


@TABLE.get(
    "/api/watchlists/{watchlist_id}",
    doc=Doc(
        "One watchlist",
        {"200": json_answer("the watchlist", ref("Watchlist")), "404": MISSING},
        tag="watchlists",
        parameters=[WATCHLIST_ID],
    ),
)
async def watchlist(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    return JSONResponse((await watchlist_of(api, path_id(request, "watchlist_id"))).as_dict())


def update_watchlist(api: ApiState, stored: Watchlist, changes: dict[str, Any]) -> Watchlist:
    """Blocking: a new name checked free and the changes saved in one worker call."""
    if "name" in changes:
        name_free(api, changes["name"], stored.id)
    if not changes:
        return stored
    return api.store.watchlists.update_watchlist(stored.id, **changes)


@TABLE.route(
    "/api/watchlists/{watchlist_id}",
    "PATCH",
    doc=Doc(
        "Change a watchlist (fields not sent stay as they are)",
        {
            "200": json_answer("the watchlist", ref("Watchlist")),
            "400": BAD,
            "404": MISSING,
            "409": error_answer("another watchlist has this name"),
        },
        tag="watchlists",
        parameters=[WATCHLIST_ID],
        body=json_body(ref("WatchlistChanges")),
        description="`channels`, when sent, replaces every channel; a secret or token "
        "left out or sent back masked (as GET shows it) keeps the stored one; an empty "
        "webhook secret gets a new random one.",
    ),
)
async def patch_watchlist(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    stored = await watchlist_of(api, path_id(request, "watchlist_id"))
    changes = watch_changes(await read_json_object(request), stored)
    return JSONResponse((await api.run(update_watchlist, api, stored, changes)).as_dict())


@TABLE.route(
    "/api/watchlists/{watchlist_id}",
    "DELETE",
    doc=Doc(
        "Delete a watchlist and its alerts",
        {"204": {"description": "gone"}, "404": MISSING},
        tag="watchlists",
        parameters=[WATCHLIST_ID],
    ),
)
async def remove_watchlist(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    stored = await watchlist_of(api, path_id(request, "watchlist_id"))
    await api.run(api.store.watchlists.delete_watchlist, stored.id)
    return Response(status_code=204)


@TABLE.get(
    "/api/watchlists/{watchlist_id}/alerts",
    doc=Doc(
        "The alerts a watchlist raised, newest first",
        {"200": json_answer("alerts", array(ref("Alert"))), "400": BAD, "404": MISSING},
        tag="watchlists",
        parameters=[
            WATCHLIST_ID,
            query_param(
                "status",
                {"type": "string", "enum": ["pending", "sending", "sent", "failed"]},
                "only alerts in this state",
            ),
            query_param(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                "most alerts",
            ),
        ],
    ),
)
async def watchlist_alerts(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    status = _choice(request, "status", ALERT_STATUSES, None)
    limit = query_int(request, "limit", 100, minimum=1, maximum=MAX_LIMIT) or 100
    stored = await watchlist_of(api, path_id(request, "watchlist_id"))
    found = await api.run(
        api.store.watchlists.list_alerts, watchlist_id=stored.id, status=status, limit=limit
    )
    return JSONResponse([a.as_dict() for a in found])

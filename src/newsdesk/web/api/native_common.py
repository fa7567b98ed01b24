"""What the native API's handler modules share (``web.api.native_feeds``, ``web.api.intel``):
the limits of its ids and pages, path ids, short text parameters, and the filters and pages of
entries that ``GET /api/entries`` and an entity's entries both answer with."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from newsdesk.desk import parse_since
from newsdesk.errors import NewsdeskError
from newsdesk.publish.digest import group_dict
from newsdesk.store import EntryQuery
from newsdesk.store.sync import SyncQuery
from newsdesk.web.api.errors import BadRequest, NotFound
from newsdesk.web.api.inputs import path_id as any_path_id
from newsdesk.web.api.inputs import query_bool, query_int
from newsdesk.web.api.state import ApiState

MAX_LIMIT = 500
# Ids are 32-bit integers in the store (PostgreSQL refuses to compare a larger number with one).
MAX_ID = 2**31 - 1


def path_id(request: Request, name: str) -> int:
    """A store id from the URL path; anything else, a number too large for the store included,
    is a 404 (PostgreSQL would refuse to compare it with a 32-bit id column)."""
    value = any_path_id(request, name)
    if value > MAX_ID:
        raise NotFound()
    return value


def text_param(value: str | None, name: str, limit: int = 300) -> str | None:
    """``value`` unless it is longer than ``limit`` (a 400 naming ``name``)."""
    if value is None:
        return None
    if len(value) > limit:
        raise BadRequest(f"{name} is longer than {limit} characters")
    return value


def refuse_unknown(data: dict[str, Any], allowed: set[str]) -> None:
    """A 400 naming the fields of a JSON body that are not ``allowed``."""
    unknown = set(data) - allowed
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(sorted(unknown))[:200]}")


def entry_query(request: Request) -> tuple[EntryQuery, str | None]:
    """The filters of ``GET /api/entries`` (and the digest) as an ``EntryQuery`` and the search
    words, or a 400 naming the bad parameter."""
    params = request.query_params
    query = EntryQuery(
        category=text_param(params.get("category") or None, "category"),
        tag=text_param(params.get("tag") or None, "tag", 100),
        limit=query_int(request, "limit", 50, minimum=1, maximum=MAX_LIMIT) or 50,
        offset=query_int(request, "offset", 0, maximum=10**9) or 0,
    )
    query.feed_id = query_int(request, "feed", None, minimum=1, maximum=MAX_ID)
    query.story_id = query_int(request, "story_id", None, minimum=1, maximum=MAX_ID)
    query.entity_id = query_int(request, "entity_id", None, minimum=1, maximum=MAX_ID)
    kind = params.get("kind") or None
    if kind is not None and kind not in {"post", "article"}:
        raise BadRequest("kind must be post or article")
    query.kind = kind
    status = params.get("status") or "all"
    if status not in {"read", "unread", "all"}:
        raise BadRequest("status must be read, unread or all")
    query.read = None if status == "all" else status == "read"
    query.starred = query_bool(request, "starred")
    order = params.get("order") or "newest"
    if order not in {"newest", "oldest"}:
        raise BadRequest("order must be newest or oldest")
    query.oldest_first = order == "oldest"
    try:
        if since := params.get("since"):
            query.since = parse_since(since[:100])
        if before := params.get("before"):
            query.until = parse_since(before[:100])
    except NewsdeskError as exc:
        raise BadRequest(str(exc)) from None
    search = (params.get("search") or "").strip() or None
    return query, text_param(search, "search", 500)


def entry_page(
    api: ApiState, query: EntryQuery, search: str | None, group_stories: bool = False
) -> dict[str, Any]:
    """One page of entries matching ``query`` (and the search words): the body of
    ``GET /api/entries`` and of the other lists of entries (an entity's). With
    ``group_stories``, a story's other entries on the page come in ``story_entries`` of its
    first. Blocking: run it through ``api.run``."""
    if search:
        found = api.desk.search(search, query)
        total = api.desk.count_search(search, query)
    else:
        found = api.desk.entries(query)
        total = api.store.sync.count_entries(SyncQuery(base=query))
    return {
        "total": total,
        "limit": query.limit,
        "offset": query.offset,
        "entries": (
            [group_dict(g, True) for g in api.desk.story_groups(found, lead_first=False)]
            if group_stories
            else [e.as_dict() for e in found]
        ),
    }

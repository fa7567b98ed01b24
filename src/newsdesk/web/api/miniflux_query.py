"""The filters of the Miniflux-compatible API's entry lists (``GET /v1/entries`` and its feed,
category and ids forms), read as Miniflux's ``findEntries`` and ``configureFilters`` read them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request

from newsdesk.store import EntryQuery
from newsdesk.store import sync as sync_store
from newsdesk.web.api.errors import BadRequest
from newsdesk.web.api.inputs import query_bool, query_int
from newsdesk.web.api.state import ApiState

ORDERS = {
    "id": "id",
    "status": "status",
    "published_at": "published",
    "category_title": "category_title",
    "category_id": "category_id",
    "created_at": "first_seen",
    "changed_at": "changed_at",
}
MAX_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class EntriesRequest:
    query: sync_store.SyncQuery
    limit: int
    offset: int


def _known_categories(api: ApiState) -> set[int]:
    return {cid for cid, _title, _count in api.store.categories()}


async def entries_request(
    api: ApiState, request: Request, feed_id: int | None, category_id: int | None
) -> EntriesRequest | None:
    """The filters of GET /v1/entries (and its feed, category and ids forms), as Miniflux's
    ``findEntries`` and ``configureFilters`` read them; None when only removed entries are
    asked for (Newsdesk removes none)."""
    params = request.query_params
    statuses = set(params.getlist("status"))
    if statuses - {"read", "unread", "removed"}:
        raise BadRequest("invalid entry status: use read, unread or removed")
    order = params.get("order") or "published_at"
    if order not in ORDERS:
        raise BadRequest(f"invalid entry order {order[:50]!r}: use {', '.join(ORDERS)}")
    direction = params.get("direction") or "asc"
    if direction not in {"asc", "desc"}:
        raise BadRequest("invalid direction: use asc or desc")
    limit = min(query_int(request, "limit", 100) or MAX_LIMIT, MAX_LIMIT)
    offset = query_int(request, "offset", 0) or 0
    query_category = query_int(request, "category_id", None, minimum=0)
    if query_category:
        if query_category not in await api.run(_known_categories, api):
            raise BadRequest("invalid category ID")
        category_id = query_category
    query_feed = query_int(request, "feed_id", None, minimum=0)
    if query_feed:
        if not await api.run(api.store.list_feeds, [query_feed]):
            raise BadRequest("invalid feed ID")
        feed_id = query_feed
    base = EntryQuery(feed_id=feed_id, starred=query_bool(request, "starred"))
    if statuses and "removed" not in statuses and len(statuses) == 1:
        base.read = "read" in statuses
    if statuses == {"removed"}:
        return None
    before = query_int(request, "published_before") or query_int(request, "before")
    after = query_int(request, "published_after") or query_int(request, "after")
    base.until = _from_unix(before)
    base.since = _from_unix(after + 1) if after else None
    if tag := params.get("tags"):
        base.tag = tag
    q = sync_store.SyncQuery(
        base=base,
        category_id=category_id,
        after_id=query_int(request, "after_entry_id") or None,
        before_id=query_int(request, "before_entry_id") or None,
        search=params.get("search") or None,
        changed_after=_from_unix(query_int(request, "changed_after")),
        changed_before=_from_unix(query_int(request, "changed_before")),
        sort=ORDERS[order],
        descending=direction == "desc",
    )
    return EntriesRequest(q, limit, offset)


def _from_unix(value: int | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadRequest("timestamp out of range") from None

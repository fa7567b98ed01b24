"""The native API's subscriptions, categories and entries (``/api/subscriptions``,
``/api/categories``, ``/api/entries``): module-level handlers declared on ``TABLE`` with their
OpenAPI operations. Marking entries goes through the Desk (``Desk.mark``,
``Desk.mark_matching``), as does subscribing."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from newsdesk.desk import parse_since
from newsdesk.errors import AlreadySubscribedError
from newsdesk.model import Feed, StoredEntry
from newsdesk.process.urls import is_web_url
from newsdesk.store import EntryQuery
from newsdesk.store.sync import SyncQuery
from newsdesk.web.api.access import require_user
from newsdesk.web.api.errors import ApiError, BadRequest, NotFound, endpoint, json_error
from newsdesk.web.api.inputs import bool_field, id_list, int_field, read_json_object, str_field
from newsdesk.web.api.native_common import (
    entry_page,
    entry_query,
    path_id,
    refuse_unknown,
    text_param,
)
from newsdesk.web.api.native_retention import feed_retention, policy_body, set_feed_retention
from newsdesk.web.api.openapi_schemas import (
    BAD,
    ENTITY_FILTER,
    ENTRY_FILTERS,
    GROUP,
    MISSING,
    STORY_FILTER,
    array,
    error_answer,
    json_answer,
    json_body,
    path_param,
    ref,
)
from newsdesk.web.api.state import ApiState
from newsdesk.web.routing import Doc, RouteTable

TABLE = RouteTable[ApiState](endpoint(json_error))

FEED_ID = path_param("feed_id", "subscription id")
ENTRY_ID = path_param("entry_id", "entry id")


def feed_json(
    feed: Feed, unread: int = 0, total: int = 0, retention: dict[str, Any] | None = None
) -> dict[str, Any]:
    data = feed.as_dict()
    data.update(
        category_id=feed.category_id,
        custom_title=feed.custom_title,
        check_interval=feed.check_interval,
        entries_per_day=feed.entries_per_day,
        unread=unread,
        entries=total,
        retention=retention or None,  # the person's own keys for it (issue 16); null: default
    )
    return data


def feeds_with_counts(api: ApiState, ids: list[int] | None = None) -> list[dict[str, Any]]:
    """The subscriptions (those with ``ids``, or all) with their unread and total entries.
    Blocking: run it through ``api.run``."""
    counts = api.store.sync.feed_counts()
    kept = feed_retention(api)
    out = []
    for feed in api.store.list_feeds(ids):
        count = counts.get(feed.id)
        unread, total = (count.unread, count.read + count.unread) if count else (0, 0)
        out.append(feed_json(feed, unread, total, kept.get(feed.id)))
    return out


async def feed_of(api: ApiState, feed_id: int) -> Feed:
    found = await api.run(api.store.list_feeds, [feed_id])
    if not found:
        raise NotFound(f"no subscription with id {feed_id}")
    return found[0]


async def entry_of(api: ApiState, entry_id: int) -> StoredEntry:
    found = await api.run(api.store.sync.entries_by_ids, [entry_id])
    if not found:
        raise NotFound(f"no entry with id {entry_id}")
    return found[0]


# -- subscriptions ----------------------------------------------------------------------------


@TABLE.get(
    "/api/subscriptions",
    doc=Doc(
        "List subscriptions with their fetch state and entry counts",
        {"200": json_answer("subscriptions", array(ref("Feed")))},
        tag="subscriptions",
    ),
)
async def subscriptions(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    return JSONResponse(await api.run(feeds_with_counts, api))


@TABLE.post(
    "/api/subscriptions",
    doc=Doc(
        "Subscribe to a feed (or to the feed a page links to)",
        {
            "201": json_answer("the new subscription", ref("Feed")),
            "400": BAD,
            "409": error_answer("already subscribed"),
        },
        tag="subscriptions",
        body=json_body(ref("NewFeed")),
    ),
)
async def subscribe(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    data = await read_json_object(request)
    url = (str_field(data, "url", required=True) or "").strip()
    if not is_web_url(url):
        raise BadRequest("url must be an http(s) URL")
    title = text_param(str_field(data, "title"), "title", 1000)
    category = text_param(str_field(data, "category"), "category")
    check = bool_field(data, "check")
    options = option_field(data)
    try:
        feed = await api.desk.subscribe(
            url,
            title=title or None,
            category=category or None,
            check=check is not False,
            options=options,
        )
    except AlreadySubscribedError as exc:
        raise ApiError(409, str(exc)) from None
    return JSONResponse(feed_json(feed), status_code=201)


@TABLE.get(
    "/api/subscriptions/{feed_id}",
    doc=Doc(
        "One subscription",
        {"200": json_answer("the subscription", ref("Feed")), "404": MISSING},
        tag="subscriptions",
        parameters=[FEED_ID],
    ),
)
async def subscription(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    feed_id = path_id(request, "feed_id")
    found = await api.run(feeds_with_counts, api, [feed_id])
    if not found:
        raise NotFound(f"no subscription with id {feed_id}")
    return JSONResponse(found[0])


def feed_changes(data: dict[str, Any]) -> dict[str, Any]:
    """The changes a PATCH of a subscription asks for, as ``update_feed`` keywords (the
    interval is an option: ``feed_options``)."""
    refuse_unknown(data, {"title", "category", "paused", "check_interval", "options", "retention"})
    changes: dict[str, Any] = {}
    if "title" in data:
        changes["custom_title"] = text_param(str_field(data, "title"), "title", 1000) or None
    if "category" in data:
        changes["category"] = text_param(str_field(data, "category"), "category") or None
    paused = bool_field(data, "paused")
    if paused is not None:
        changes["paused"] = paused
        changes["paused_reason"] = "paused through the API" if paused else None
        if not paused:
            changes.update(error_count=0, error_since=None, next_check=None)
    return changes


def interval_option(data: dict[str, Any], options: dict[str, Any] | None) -> dict[str, Any] | None:
    """``check_interval`` folded into the options (``options.interval``), so that it goes
    through the same check: an admin or the feed's only follower may change a shared feed's
    fetching (issue 16)."""
    if "check_interval" not in data:
        return options
    interval = int_field(data, "check_interval")
    if interval is not None and not 60 <= interval <= 30 * 86400:
        raise BadRequest("check_interval is seconds, from 60 to 2592000 (or null)")
    if options and "interval" in options:
        raise BadRequest("give check_interval or options.interval, not both")
    return {**(options or {}), "interval": interval}


@TABLE.route(
    "/api/subscriptions/{feed_id}",
    "PATCH",
    doc=Doc(
        "Rename, recategorise, pause or resume a subscription, set its interval, how it is "
        "fetched or your retention for it",
        {"200": json_answer("the subscription", ref("Feed")), "400": BAD, "404": MISSING},
        tag="subscriptions",
        parameters=[FEED_ID],
        body=json_body(ref("FeedChanges")),
    ),
)
async def update_subscription(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    feed_id = path_id(request, "feed_id")
    await feed_of(api, feed_id)
    data = await read_json_object(request)
    changes = feed_changes(data)
    options = interval_option(data, option_field(data))
    retention: dict[str, Any] | None = None
    if "retention" in data and data["retention"] is not None:  # checked before any change
        retention = policy_body(data["retention"], "retention")
    if options:  # first: refused for a shared feed; another id when a secret made a copy
        feed_id = (await api.run(api.desk.set_feed_options, feed_id, options)).id
    if "retention" in data:
        await api.run(set_feed_retention, api, feed_id, retention)
    if changes:
        target = feed_id
        await api.run(lambda: api.store.update_feed(target, **changes))
    found = await api.run(feeds_with_counts, api, [feed_id])
    if not found:
        raise NotFound(f"no subscription with id {feed_id}")
    return JSONResponse(found[0])


def option_field(data: dict[str, Any]) -> dict[str, Any] | None:
    """The ``options`` object of a body (issue 16: how the feed is fetched), checked."""
    from newsdesk.store.feed_options import check_changes

    options = data.get("options")
    if options is None:
        return None
    if not isinstance(options, dict):
        raise BadRequest("options must be an object")
    return check_changes(options)


@TABLE.route(
    "/api/subscriptions/{feed_id}",
    "DELETE",
    doc=Doc(
        "Unsubscribe (the feed's entries are deleted)",
        {"204": {"description": "gone"}, "404": MISSING},
        tag="subscriptions",
        parameters=[FEED_ID],
    ),
)
async def unsubscribe(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    feed_id = path_id(request, "feed_id")
    await feed_of(api, feed_id)
    await api.run(api.store.remove_feed, feed_id)
    return Response(status_code=204)


# -- categories -------------------------------------------------------------------------------


def category_counts(api: ApiState) -> list[dict[str, Any]]:
    """Every category with its feeds and unread entries. Blocking: run it through ``api.run``."""
    counts = api.store.sync.feed_counts()
    unread: dict[int, int] = {}
    for feed in api.store.list_feeds():
        if feed.category_id is not None and feed.id in counts:
            unread[feed.category_id] = unread.get(feed.category_id, 0) + counts[feed.id].unread
    return [
        {"id": cid, "title": title, "feeds": n, "unread": unread.get(cid, 0)}
        for cid, title, n in api.store.categories()
    ]


@TABLE.get(
    "/api/categories",
    doc=Doc(
        "Categories with their feed and unread counts",
        {"200": json_answer("categories", array(ref("Category")))},
        tag="categories",
    ),
)
async def categories(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    return JSONResponse(await api.run(category_counts, api))


# -- entries ----------------------------------------------------------------------------------


@TABLE.get(
    "/api/entries",
    doc=Doc(
        "Entries, newest first, filtered; with search, best matches first",
        {"200": json_answer("a page of entries", ref("EntryPage")), "400": BAD},
        tag="entries",
        parameters=[*ENTRY_FILTERS, STORY_FILTER, ENTITY_FILTER, GROUP],
    ),
)
async def entries(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    query, search = entry_query(request)
    group = request.query_params.get("group") or None
    if group not in (None, "story"):
        raise BadRequest("group must be story")
    return JSONResponse(await api.run(entry_page, api, query, search, group == "story"))


def _flags(data: dict[str, Any]) -> tuple[bool | None, bool | None]:
    read, starred = bool_field(data, "read"), bool_field(data, "starred")
    if read is None and starred is None:
        raise BadRequest("send read and/or starred (true or false)")
    return read, starred


@TABLE.post(
    "/api/entries/state",
    doc=Doc(
        "Mark many entries read/unread/starred at once",
        {"200": json_answer("how many entries changed", ref("Updated")), "400": BAD},
        tag="entries",
        body=json_body(ref("BulkState")),
        description="Either `ids` (with `read` and/or `starred`), or `feed`, "
        "`category` and/or `before` with `read` to mark everything they match.",
    ),
)
async def entries_state(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    data = await read_json_object(request)
    refuse_unknown(data, {"ids", "read", "starred", "feed", "category", "before"})
    read, starred = _flags(data)
    if "ids" in data:
        if {"feed", "category", "before"} & set(data):
            raise BadRequest("give either ids or feed/category/before, not both")
        ids = id_list(data, "ids")
        changed = await api.run(api.desk.mark, ids, read=read, starred=starred)
        return JSONResponse({"updated": changed})
    if starred is not None:
        raise BadRequest("starred needs ids; feed/category/before mark entries read only")
    assert read is not None
    base = EntryQuery(feed_id=int_field(data, "feed"))
    base.category = text_param(str_field(data, "category"), "category")
    before = str_field(data, "before")
    if before:
        base.until = parse_since(before[:100])
    changed = await api.run(api.desk.mark_matching, SyncQuery(base=base), read)
    return JSONResponse({"updated": changed})


@TABLE.get(
    "/api/entries/{entry_id}",
    doc=Doc(
        "One entry",
        {"200": json_answer("the entry", ref("Entry")), "404": MISSING},
        tag="entries",
        parameters=[ENTRY_ID],
    ),
)
async def entry(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    return JSONResponse((await entry_of(api, path_id(request, "entry_id"))).as_dict())


@TABLE.route(
    "/api/entries/{entry_id}",
    "PATCH",
    doc=Doc(
        "Mark one entry read/unread, starred/not starred",
        {"200": json_answer("the entry", ref("Entry")), "400": BAD, "404": MISSING},
        tag="entries",
        parameters=[ENTRY_ID],
        body=json_body(ref("EntryFlags")),
    ),
)
async def update_entry(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    entry_id = path_id(request, "entry_id")
    await entry_of(api, entry_id)
    data = await read_json_object(request)
    refuse_unknown(data, {"read", "starred"})
    read, starred = _flags(data)
    await api.run(api.desk.mark, [entry_id], read=read, starred=starred)
    return JSONResponse((await entry_of(api, entry_id)).as_dict())


def related_json(api: ApiState, found: StoredEntry) -> dict[str, Any]:
    """Entries about the same link and the articles a post shares. Blocking."""
    others = api.store.sync.entries_by_ids(list(found.related))
    shared = api.desk.shared_articles(found)
    return {
        "entries": [e.as_dict() for e in others],
        "shared": [{"title": s.title, "url": s.url} for s in shared],
    }


@TABLE.get(
    "/api/entries/{entry_id}/related",
    doc=Doc(
        "Entries about the same link, and the articles a post shares",
        {"200": json_answer("related entries", ref("Related")), "404": MISSING},
        tag="entries",
        parameters=[ENTRY_ID],
    ),
)
async def related(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    found = await entry_of(api, path_id(request, "entry_id"))
    return JSONResponse(await api.run(related_json, api, found))

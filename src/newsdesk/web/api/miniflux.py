"""The Miniflux-compatible API under ``/v1``: the JSON shapes, parameters and status codes of
Miniflux's REST API (https://miniflux.app/docs/api.html), so Miniflux clients (newsboat,
Fluent Reader, Miniflux apps, scripts) work against Newsdesk unchanged.

Where Newsdesk differs: feeds without a category carry category id 0; an unknown id in the URL
path is a 404 (Miniflux sometimes answers 400); ``POST /v1/entries/{id}/save`` stars the entry
(Newsdesk has no third-party "save" services), answering 202 as Miniflux does.

Every route is declared on ``TABLE``, in the order Starlette tries them (a literal path such as
``/v1/feeds/counters`` before ``/v1/feeds/{feed_id}``); the editing half's handlers live in
``miniflux_edit`` and are declared last. The JSON shapes are in ``miniflux_json``, the entry
list filters in ``miniflux_query``.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from newsdesk import __version__
from newsdesk.errors import AlreadySubscribedError, NewsdeskError, ParseError
from newsdesk.model import Feed, StoredEntry
from newsdesk.process.urls import is_web_url
from newsdesk.store import EntryQuery
from newsdesk.store import sync as sync_store
from newsdesk.store.users import User
from newsdesk.web.api import miniflux_edit, miniflux_users
from newsdesk.web.api.access import require_user
from newsdesk.web.api.errors import ApiError, BadRequest, NotFound, endpoint
from newsdesk.web.api.inputs import (
    id_list,
    int_field,
    path_id,
    query_bool,
    read_body,
    read_json_object,
    str_field,
)
from newsdesk.web.api.miniflux_json import (
    READING_SPEED,
    category_json,
    entry_json,
    feed_json,
    feed_options_of,
    icon_json,
)
from newsdesk.web.api.miniflux_query import entries_request
from newsdesk.web.api.state import ApiState
from newsdesk.web.routing import RouteTable


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error_message": message}, status_code=status, headers=headers)


def no_content() -> Response:
    return Response(status_code=204, media_type="application/json")


TABLE = RouteTable[ApiState](endpoint(error))


# -- lookups the handlers share ---------------------------------------------------------------


def _categories_by_id(api: ApiState) -> dict[int, tuple[str, int]]:
    return {cid: (title, count) for cid, title, count in api.store.categories()}


async def category_title(api: ApiState, category_id: int) -> str | None:
    found = (await api.run(_categories_by_id, api)).get(category_id)
    return found[0] if found else None


async def category_of(api: ApiState, category_id: int) -> str:
    """The category's title; 404 when there is none with this id."""
    title = await category_title(api, category_id)
    if title is None:
        raise NotFound()
    return title


async def feed_of(api: ApiState, feed_id: int) -> Feed:
    found = await api.run(api.store.list_feeds, [feed_id])
    if not found:
        raise NotFound()
    return found[0]


def _entries_page(
    api: ApiState, user: User, q: sync_store.SyncQuery, limit: int, offset: int
) -> dict[str, Any]:
    found = api.store.sync.list_entries(q, limit, offset)
    total = api.store.sync.count_entries(q)
    feeds = {f.id: feed_json(f, user.id) for f in api.store.list_feeds({e.feed_id for e in found})}
    return {
        "total": total,
        "entries": [entry_json(e, feeds.get(e.feed_id), user.id) for e in found],
    }


async def find_entries(
    request: Request, api: ApiState, feed_id: int | None = None, category_id: int | None = None
) -> Response:
    user = await require_user(api, request)
    found = await entries_request(api, request, feed_id, category_id)
    if found is None:
        return JSONResponse({"total": 0, "entries": []})
    return JSONResponse(
        await api.run(_entries_page, api, user, found.query, found.limit, found.offset)
    )


async def one_entry(
    request: Request, api: ApiState, feed_id: int | None = None, category_id: int | None = None
) -> Response:
    user = await require_user(api, request)
    entry_id = path_id(request, "entry_id")
    q = sync_store.SyncQuery(
        base=EntryQuery(ids=[entry_id], feed_id=feed_id), category_id=category_id
    )
    found = await api.run(api.store.sync.list_entries, q, 1)
    if not found:
        raise NotFound()
    feed = await feed_of(api, found[0].feed_id)
    return JSONResponse(entry_json(found[0], feed_json(feed, user.id), user.id))


async def existing_entry(request: Request, api: ApiState) -> StoredEntry:
    entry_id = path_id(request, "entry_id")
    found = await api.run(api.store.sync.entries_by_ids, [entry_id])
    if not found:
        raise NotFound()
    return found[0]


# -- the user and the server ------------------------------------------------------------------


TABLE.get("/v1/me")(miniflux_users.me)
TABLE.get("/v1/users")(miniflux_users.users)
TABLE.post("/v1/users")(miniflux_users.create_user)


@TABLE.route("/v1/users/{user_id}/mark-all-as-read", "PUT")
async def user_mark_read(request: Request, api: ApiState) -> Response:
    user = await require_user(api, request)
    if path_id(request, "user_id") != user.id:
        raise ApiError(403, "Access Forbidden")  # as Miniflux: another user's entries
    await api.run(api.desk.mark_matching, sync_store.SyncQuery())
    return no_content()


TABLE.get("/v1/users/{identifier}")(miniflux_users.user)
TABLE.route("/v1/users/{user_id}", "PUT")(miniflux_users.update_user)
TABLE.route("/v1/users/{user_id}", "DELETE")(miniflux_users.remove_user)


@TABLE.get("/v1/integrations/status")
async def integrations_status(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    return JSONResponse({"has_integrations": False})  # "save" stars the entry instead


@TABLE.get("/v1/version")
async def version(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    return JSONResponse(
        {
            "version": __version__,
            "commit": "",
            "build_date": "",
            "go_version": "",
            "compiler": "newsdesk",
            "arch": "",
            "os": "",
        }
    )


# -- categories -------------------------------------------------------------------------------


def _categories(api: ApiState, user: User, counts: bool) -> list[dict[str, Any]]:
    unread: dict[int, int] = {}
    if counts:
        per_feed = api.store.sync.feed_counts()
        for feed in api.store.list_feeds():
            if feed.category_id is not None and feed.id in per_feed:
                unread[feed.category_id] = (
                    unread.get(feed.category_id, 0) + per_feed[feed.id].unread
                )
    out = []
    for cid, title, feed_count in api.store.categories():
        item = category_json(cid, title, user.id)
        if counts:
            item.update(feed_count=feed_count, total_unread=unread.get(cid, 0))
        out.append(item)
    return out


@TABLE.get("/v1/categories")
async def categories(request: Request, api: ApiState) -> Response:
    user = await require_user(api, request)
    counts = query_bool(request, "counts")
    return JSONResponse(await api.run(_categories, api, user, bool(counts)))


@TABLE.get("/v1/categories/{category_id}/feeds")
async def category_feeds(request: Request, api: ApiState) -> Response:
    user = await require_user(api, request)
    category_id = path_id(request, "category_id")
    await category_of(api, category_id)
    feeds = await api.run(api.store.list_feeds)
    return JSONResponse([feed_json(f, user.id) for f in feeds if f.category_id == category_id])


@TABLE.get("/v1/categories/{category_id}/entries")
async def category_entries(request: Request, api: ApiState) -> Response:
    category_id = path_id(request, "category_id")
    await require_user(api, request)
    await category_of(api, category_id)
    return await find_entries(request, api, category_id=category_id)


@TABLE.get("/v1/categories/{category_id}/entries/{entry_id}")
async def category_entry(request: Request, api: ApiState) -> Response:
    return await one_entry(request, api, category_id=path_id(request, "category_id"))


@TABLE.route("/v1/categories/{category_id}/mark-all-as-read", "PUT")
async def category_mark_read(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    category_id = path_id(request, "category_id")
    await category_of(api, category_id)
    await api.run(api.desk.mark_matching, sync_store.SyncQuery(category_id=category_id))
    return no_content()


@TABLE.route("/v1/categories/{category_id}/refresh", "PUT")
async def category_refresh(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    category_id = path_id(request, "category_id")
    await category_of(api, category_id)
    feeds = await api.run(api.store.list_feeds)
    ids = [f.id for f in feeds if f.category_id == category_id]
    if ids:
        await api.start_refresh(ids)
    return no_content()


# -- feeds ------------------------------------------------------------------------------------


@TABLE.post("/v1/discover")
async def discover(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    data = await read_json_object(request)
    url = (str_field(data, "url", required=True) or "").strip()
    if not is_web_url(url):
        raise BadRequest("url must be an http(s) URL")
    try:
        feed_url, title = await api.desk.find_feed_url(url)
    except NewsdeskError as exc:
        raise ApiError(404, f"no feed found: {exc}") from None
    return JSONResponse([{"url": feed_url, "title": title or feed_url, "type": "rss"}])


@TABLE.get("/v1/feeds")
async def feeds(request: Request, api: ApiState) -> Response:
    user = await require_user(api, request)
    found = await api.run(api.store.list_feeds)
    return JSONResponse([feed_json(f, user.id) for f in found])


@TABLE.post("/v1/feeds")
async def create_feed(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    data = await read_json_object(request)
    url = (str_field(data, "feed_url", required=True) or "").strip()
    if not is_web_url(url):
        raise BadRequest("feed_url must be an http(s) URL")
    category_id = int_field(data, "category_id")
    category = None
    if category_id:
        category = await category_title(api, category_id)
        if category is None:
            raise BadRequest("invalid category ID")
    try:
        created = await api.desk.subscribe(
            url, category=category, options=feed_options_of(data) or None
        )
    except AlreadySubscribedError:
        raise BadRequest("this feed already exists") from None
    await api.start_refresh([created.id])
    return JSONResponse({"feed_id": created.id}, status_code=201)


@TABLE.get("/v1/feeds/counters")
async def counters(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    counts = await api.run(api.store.sync.feed_counts)
    return JSONResponse(
        {
            "reads": {str(k): v.read for k, v in counts.items()},
            "unreads": {str(k): v.unread for k, v in counts.items()},
        }
    )


@TABLE.route("/v1/feeds/refresh", "PUT")
async def refresh_all(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    await api.start_refresh()  # the caller's feeds
    return no_content()


@TABLE.get("/v1/feeds/{feed_id}")
async def feed(request: Request, api: ApiState) -> Response:
    user = await require_user(api, request)
    return JSONResponse(feed_json(await feed_of(api, path_id(request, "feed_id")), user.id))


async def _feed_changes(api: ApiState, feed_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """What a ``PUT /v1/feeds/{id}`` body changes, checked (400 for a bad field)."""
    changes: dict[str, Any] = {}
    if (title := str_field(data, "title")) is not None and title.strip():
        changes["custom_title"] = title.strip()[:1000]
    if (site_url := str_field(data, "site_url")) is not None and site_url.strip():
        if not is_web_url(site_url.strip()):
            raise BadRequest("site_url must be an http(s) URL")
        changes["site_url"] = site_url.strip()
    if (feed_url := str_field(data, "feed_url")) is not None and feed_url.strip():
        if not is_web_url(feed_url.strip()):
            raise BadRequest("feed_url must be an http(s) URL")
        others = await api.run(api.store.list_feeds)
        if any(f.url == feed_url.strip() and f.id != feed_id for f in others):
            raise BadRequest("another feed already has this feed_url")
        changes["url"] = feed_url.strip()
    category_id = int_field(data, "category_id")
    if category_id:
        category = await category_title(api, category_id)
        if category is None:
            raise BadRequest("invalid category ID")
        changes["category"] = category
    disabled = data.get("disabled")
    if disabled is not None:
        if not isinstance(disabled, bool):
            raise BadRequest("disabled must be true or false")
        changes["paused"] = disabled
        changes["paused_reason"] = "disabled through the API" if disabled else None
    return changes


@TABLE.route("/v1/feeds/{feed_id}", "PUT")
async def update_feed(request: Request, api: ApiState) -> Response:
    user = await require_user(api, request)
    feed_id = path_id(request, "feed_id")
    current = await feed_of(api, feed_id)
    data = await read_json_object(request)
    changes = await _feed_changes(api, feed_id, data)
    updated = await api.run(api.store.update_feed, feed_id, **changes)
    if options := feed_options_of(data, current.options):  # another id for a private copy
        updated = await api.run(api.desk.set_feed_options, feed_id, options)
    return JSONResponse(feed_json(updated, user.id), status_code=201)


@TABLE.route("/v1/feeds/{feed_id}", "DELETE")
async def remove_feed(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    feed_id = path_id(request, "feed_id")
    await feed_of(api, feed_id)
    await api.run(api.store.remove_feed, feed_id)
    return no_content()


@TABLE.route("/v1/feeds/{feed_id}/refresh", "PUT")
async def refresh_feed(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    feed_id = path_id(request, "feed_id")
    await feed_of(api, feed_id)
    await api.start_refresh([feed_id])
    return no_content()


@TABLE.route("/v1/feeds/{feed_id}/mark-all-as-read", "PUT")
async def feed_mark_read(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    feed_id = path_id(request, "feed_id")
    await feed_of(api, feed_id)
    q = sync_store.SyncQuery(base=EntryQuery(feed_id=feed_id))
    await api.run(api.desk.mark_matching, q)
    return no_content()


@TABLE.get("/v1/feeds/{feed_id}/icon")
async def feed_icon(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    feed_id = path_id(request, "feed_id")
    await feed_of(api, feed_id)  # another person's feed: 404, as no feed
    found = await api.run(api.store.icons.feed_icon, feed_id)
    if found is None:
        raise NotFound()  # no such feed, or no icon fetched for its site yet
    return JSONResponse(icon_json(found))


@TABLE.get("/v1/icons/{icon_id}")
async def icon(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    icon_id = path_id(request, "icon_id")
    mine = {f.icon_id for f in await api.run(api.store.list_feeds)}
    found = await api.run(api.store.icons.get_icon, icon_id) if icon_id in mine else None
    if found is None:
        raise NotFound()
    return JSONResponse(icon_json(found))


@TABLE.get("/v1/feeds/{feed_id}/entries")
async def feed_entries(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    feed_id = path_id(request, "feed_id")
    await feed_of(api, feed_id)
    return await find_entries(request, api, feed_id=feed_id)


@TABLE.get("/v1/feeds/{feed_id}/entries/{entry_id}")
async def feed_entry(request: Request, api: ApiState) -> Response:
    return await one_entry(request, api, feed_id=path_id(request, "feed_id"))


# -- entries ----------------------------------------------------------------------------------


@TABLE.get("/v1/entries")
async def entries(request: Request, api: ApiState) -> Response:
    return await find_entries(request, api)


@TABLE.route("/v1/entries", "PUT")
async def set_status(request: Request, api: ApiState) -> Response:
    """Miniflux ≥ 2.3 takes ``status``, ``starred`` or both (at least one)."""
    await require_user(api, request)
    data = await read_json_object(request)
    ids = id_list(data, "entry_ids")
    status = str_field(data, "status")
    starred = data.get("starred")
    if starred is not None and not isinstance(starred, bool):
        raise BadRequest("starred must be true or false")
    if not status and starred is None:
        raise BadRequest("the status or starred field must be specified")
    if status and status not in {"read", "unread"}:
        raise BadRequest("invalid entry status: use read or unread")
    read = status == "read" if status else None
    await api.run(api.desk.mark, ids, read=read, starred=starred)
    return no_content()


def _entry_ids(api: ApiState, q: sync_store.SyncQuery, limit: int, offset: int) -> dict[str, Any]:
    ids = api.store.sync.entry_ids(q, limit, offset)
    return {"total": api.store.sync.count_entries(q), "entry_ids": ids}


@TABLE.get("/v1/entries/ids")
async def entry_ids(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    found = await entries_request(api, request, None, None)
    if found is None:
        return JSONResponse({"total": 0, "entry_ids": []})
    return JSONResponse(await api.run(_entry_ids, api, found.query, found.limit, found.offset))


@TABLE.get("/v1/entries/{entry_id}")
async def entry(request: Request, api: ApiState) -> Response:
    return await one_entry(request, api)


# Miniflux 2.3 named it "star"; both toggle. (Decorators apply from the bottom up.)
@TABLE.route("/v1/entries/{entry_id}/star", "PUT")
@TABLE.route("/v1/entries/{entry_id}/bookmark", "PUT")
async def toggle_bookmark(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    found = await existing_entry(request, api)
    await api.run(api.desk.mark, [found.id], starred=not found.starred)
    return no_content()


@TABLE.post("/v1/entries/{entry_id}/save")
async def save_entry(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    found = await existing_entry(request, api)
    await api.run(api.desk.mark, [found.id], starred=True)
    return Response(status_code=202, media_type="application/json")


@TABLE.get("/v1/entries/{entry_id}/fetch-content")
async def fetch_content(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    found = await existing_entry(request, api)
    words = len(found.content_text.split())
    return JSONResponse(
        {
            "content": found.content_html,
            "reading_time": math.ceil(words / READING_SPEED) if words else 0,
        }
    )


# -- OPML -------------------------------------------------------------------------------------


@TABLE.get("/v1/export")
async def export(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    body = await api.run(api.desk.export_opml)
    return Response(body, media_type="text/xml; charset=utf-8")


@TABLE.post("/v1/import")
async def import_opml(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    body = await read_body(request, limit=20 * 1024 * 1024)
    if not body.strip():
        raise BadRequest("the request body is empty: send an OPML document")
    try:
        await api.run(api.desk.import_opml, body)
    except ParseError as exc:
        raise BadRequest(str(exc)) from None
    return JSONResponse({"message": "Feeds imported successfully"}, status_code=201)


# -- the editing half (miniflux_edit), declared last as it always was --------------------------

TABLE.post("/v1/categories")(miniflux_edit.create_category)
TABLE.route("/v1/categories/{category_id}", "PUT")(miniflux_edit.update_category)
TABLE.route("/v1/categories/{category_id}", "DELETE")(miniflux_edit.remove_category)
TABLE.route("/v1/entries/{entry_id}", "PUT")(miniflux_edit.update_entry)
TABLE.route("/v1/flush-history", "PUT", "DELETE")(miniflux_edit.flush_history)


def routes(api: ApiState) -> list[BaseRoute]:
    return TABLE.routes(api)

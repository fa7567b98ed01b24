"""The Miniflux-compatible API under ``/v1``: the JSON shapes, parameters and status codes of
Miniflux's REST API (https://miniflux.app/docs/api.html), so Miniflux clients (newsboat,
Fluent Reader, Miniflux apps, scripts) work against Newsdesk unchanged.

Where Newsdesk differs: feeds without a category carry category id 0; an unknown id in the URL
path is a 404 (Miniflux sometimes answers 400); ``POST /v1/entries/{id}/save`` stars the entry
(Newsdesk has no third-party "save" services), answering 202 as Miniflux does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from newsdesk import __version__
from newsdesk.errors import AlreadySubscribedError, NewsdeskError, ParseError
from newsdesk.model import Feed, StoredEntry
from newsdesk.process.urls import is_web_url
from newsdesk.store import EntryQuery
from newsdesk.store import sync as sync_store
from newsdesk.store.users import User
from newsdesk.web.api import miniflux_edit
from newsdesk.web.api.access import require_user
from newsdesk.web.api.errors import ApiError, BadRequest, NotFound, endpoint
from newsdesk.web.api.inputs import (
    id_list,
    int_field,
    path_id,
    query_bool,
    query_int,
    read_body,
    read_json_object,
    str_field,
)
from newsdesk.web.api.miniflux_json import (
    READING_SPEED,
    category_json,
    entry_json,
    feed_json,
    icon_json,
    user_json,
)
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


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error_message": message}, status_code=status, headers=headers)


def no_content() -> Response:
    return Response(status_code=204, media_type="application/json")


def routes(api: ApiState) -> list[BaseRoute]:
    handle = endpoint(error)

    async def user_of(request: Request) -> User:
        return await require_user(api, request)

    def categories_by_id() -> dict[int, tuple[str, int]]:
        return {cid: (title, count) for cid, title, count in api.store.categories()}

    async def category_of(category_id: int) -> str:
        found = (await api.run(categories_by_id)).get(category_id)
        if found is None:
            raise NotFound()
        return found[0]

    async def feed_of(feed_id: int) -> Feed:
        found = await api.run(api.store.list_feeds, [feed_id])
        if not found:
            raise NotFound()
        return found[0]

    def entries_page(
        user: User, q: sync_store.SyncQuery, limit: int, offset: int
    ) -> dict[str, Any]:
        found = api.store.sync.list_entries(q, limit, offset)
        total = api.store.sync.count_entries(q)
        feeds = {
            f.id: feed_json(f, user.id) for f in api.store.list_feeds({e.feed_id for e in found})
        }
        return {
            "total": total,
            "entries": [entry_json(e, feeds.get(e.feed_id), user.id) for e in found],
        }

    async def find_entries(
        request: Request, feed_id: int | None = None, category_id: int | None = None
    ) -> Response:
        user = await user_of(request)
        found = await entries_request(api, request, feed_id, category_id)
        if found is None:
            return JSONResponse({"total": 0, "entries": []})
        return JSONResponse(
            await api.run(entries_page, user, found.query, found.limit, found.offset)
        )

    @handle
    async def entry_ids(request: Request) -> Response:
        await user_of(request)
        found = await entries_request(api, request, None, None)
        if found is None:
            return JSONResponse({"total": 0, "entry_ids": []})

        def build(q: sync_store.SyncQuery) -> dict[str, Any]:
            ids = api.store.sync.entry_ids(q, found.limit, found.offset)
            return {"total": api.store.sync.count_entries(q), "entry_ids": ids}

        return JSONResponse(await api.run(build, found.query))

    @handle
    async def me(request: Request) -> Response:
        return JSONResponse(user_json(await user_of(request)))

    @handle
    async def version(request: Request) -> Response:
        await user_of(request)
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

    @handle
    async def categories(request: Request) -> Response:
        user = await user_of(request)
        counts = query_bool(request, "counts")

        def build() -> list[dict[str, Any]]:
            rows = api.store.categories()
            unread: dict[int, int] = {}
            if counts:
                per_feed = api.store.sync.feed_counts()
                for feed in api.store.list_feeds():
                    if feed.category_id is not None and feed.id in per_feed:
                        unread[feed.category_id] = (
                            unread.get(feed.category_id, 0) + per_feed[feed.id].unread
                        )
            out = []
            for cid, title, feed_count in rows:
                item = category_json(cid, title, user.id)
                if counts:
                    item.update(feed_count=feed_count, total_unread=unread.get(cid, 0))
                out.append(item)
            return out

        return JSONResponse(await api.run(build))

    @handle
    async def category_feeds(request: Request) -> Response:
        user = await user_of(request)
        category_id = path_id(request, "category_id")
        await category_of(category_id)
        feeds = await api.run(api.store.list_feeds)
        return JSONResponse([feed_json(f, user.id) for f in feeds if f.category_id == category_id])

    @handle
    async def category_entries(request: Request) -> Response:
        category_id = path_id(request, "category_id")
        await user_of(request)
        await category_of(category_id)
        return await find_entries(request, category_id=category_id)

    @handle
    async def category_mark_read(request: Request) -> Response:
        await user_of(request)
        category_id = path_id(request, "category_id")
        await category_of(category_id)
        q = sync_store.SyncQuery(category_id=category_id)
        await api.run(api.store.sync.mark_read, q)
        return no_content()

    @handle
    async def category_refresh(request: Request) -> Response:
        await user_of(request)
        category_id = path_id(request, "category_id")
        await category_of(category_id)
        feeds = await api.run(api.store.list_feeds)
        ids = [f.id for f in feeds if f.category_id == category_id]
        if ids:
            api.jobs.start(ids)
        return no_content()

    @handle
    async def feeds(request: Request) -> Response:
        user = await user_of(request)
        found = await api.run(api.store.list_feeds)
        return JSONResponse([feed_json(f, user.id) for f in found])

    @handle
    async def feed(request: Request) -> Response:
        user = await user_of(request)
        return JSONResponse(feed_json(await feed_of(path_id(request, "feed_id")), user.id))

    @handle
    async def create_feed(request: Request) -> Response:
        await user_of(request)
        data = await read_json_object(request)
        url = (str_field(data, "feed_url", required=True) or "").strip()
        if not is_web_url(url):
            raise BadRequest("feed_url must be an http(s) URL")
        category_id = int_field(data, "category_id")
        category = None
        if category_id:
            found = (await api.run(categories_by_id)).get(category_id)
            if found is None:
                raise BadRequest("invalid category ID")
            category = found[0]
        try:
            created = await api.desk.subscribe(url, category=category)
        except AlreadySubscribedError:
            raise BadRequest("this feed already exists") from None
        api.jobs.start([created.id])
        return JSONResponse({"feed_id": created.id}, status_code=201)

    @handle
    async def update_feed(request: Request) -> Response:
        user = await user_of(request)
        feed_id = path_id(request, "feed_id")
        await feed_of(feed_id)
        data = await read_json_object(request)
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
            found = (await api.run(categories_by_id)).get(category_id)
            if found is None:
                raise BadRequest("invalid category ID")
            changes["category"] = found[0]
        disabled = data.get("disabled")
        if disabled is not None:
            if not isinstance(disabled, bool):
                raise BadRequest("disabled must be true or false")
            changes["paused"] = disabled
            changes["paused_reason"] = "disabled through the API" if disabled else None
        updated = await api.run(api.store.update_feed, feed_id, **changes)
        return JSONResponse(feed_json(updated, user.id), status_code=201)

    @handle
    async def remove_feed(request: Request) -> Response:
        await user_of(request)
        feed_id = path_id(request, "feed_id")
        await feed_of(feed_id)
        await api.run(api.store.remove_feed, feed_id)
        return no_content()

    @handle
    async def refresh_feed(request: Request) -> Response:
        await user_of(request)
        feed_id = path_id(request, "feed_id")
        await feed_of(feed_id)
        api.jobs.start([feed_id])
        return no_content()

    @handle
    async def refresh_all(request: Request) -> Response:
        await user_of(request)
        api.jobs.start(None)
        return no_content()

    @handle
    async def feed_mark_read(request: Request) -> Response:
        await user_of(request)
        feed_id = path_id(request, "feed_id")
        await feed_of(feed_id)
        q = sync_store.SyncQuery(base=EntryQuery(feed_id=feed_id))
        await api.run(api.store.sync.mark_read, q)
        return no_content()

    @handle
    async def user_mark_read(request: Request) -> Response:
        user = await user_of(request)
        if path_id(request, "user_id") != user.id:
            raise ApiError(403, "Access Forbidden")  # as Miniflux: another user's entries
        await api.run(api.store.sync.mark_read, sync_store.SyncQuery())
        return no_content()

    @handle
    async def integrations_status(request: Request) -> Response:
        await user_of(request)
        return JSONResponse({"has_integrations": False})  # "save" stars the entry instead

    @handle
    async def feed_icon(request: Request) -> Response:
        await user_of(request)
        found = await api.run(api.store.icons.feed_icon, path_id(request, "feed_id"))
        if found is None:
            raise NotFound()  # no such feed, or no icon fetched for its site yet
        return JSONResponse(icon_json(found))

    @handle
    async def icon(request: Request) -> Response:
        await user_of(request)
        found = await api.run(api.store.icons.get_icon, path_id(request, "icon_id"))
        if found is None:
            raise NotFound()
        return JSONResponse(icon_json(found))

    @handle
    async def feed_entries(request: Request) -> Response:
        await user_of(request)
        feed_id = path_id(request, "feed_id")
        await feed_of(feed_id)
        return await find_entries(request, feed_id=feed_id)

    @handle
    async def counters(request: Request) -> Response:
        await user_of(request)
        counts = await api.run(api.store.sync.feed_counts)
        return JSONResponse(
            {
                "reads": {str(k): v.read for k, v in counts.items()},
                "unreads": {str(k): v.unread for k, v in counts.items()},
            }
        )

    @handle
    async def entries(request: Request) -> Response:
        return await find_entries(request)

    async def one_entry(
        request: Request, feed_id: int | None = None, category_id: int | None = None
    ) -> Response:
        user = await user_of(request)
        entry_id = path_id(request, "entry_id")
        q = sync_store.SyncQuery(
            base=EntryQuery(ids=[entry_id], feed_id=feed_id), category_id=category_id
        )
        found = await api.run(api.store.sync.list_entries, q, 1)
        if not found:
            raise NotFound()
        feed = await feed_of(found[0].feed_id)
        return JSONResponse(entry_json(found[0], feed_json(feed, user.id), user.id))

    @handle
    async def entry(request: Request) -> Response:
        return await one_entry(request)

    @handle
    async def feed_entry(request: Request) -> Response:
        return await one_entry(request, feed_id=path_id(request, "feed_id"))

    @handle
    async def category_entry(request: Request) -> Response:
        return await one_entry(request, category_id=path_id(request, "category_id"))

    @handle
    async def set_status(request: Request) -> Response:
        """Miniflux ≥ 2.3 takes ``status``, ``starred`` or both (at least one)."""
        await user_of(request)
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
        await api.run(api.store.set_flags, ids, read=read, starred=starred)
        return no_content()

    async def existing_entry(request: Request) -> StoredEntry:
        entry_id = path_id(request, "entry_id")
        found = await api.run(api.store.sync.entries_by_ids, [entry_id])
        if not found:
            raise NotFound()
        return found[0]

    @handle
    async def toggle_bookmark(request: Request) -> Response:
        await user_of(request)
        found = await existing_entry(request)
        await api.run(api.store.set_flags, [found.id], starred=not found.starred)
        return no_content()

    @handle
    async def save_entry(request: Request) -> Response:
        await user_of(request)
        found = await existing_entry(request)
        await api.run(api.store.set_flags, [found.id], starred=True)
        return Response(status_code=202, media_type="application/json")

    @handle
    async def fetch_content(request: Request) -> Response:
        await user_of(request)
        found = await existing_entry(request)
        words = len(found.content_text.split())
        return JSONResponse(
            {
                "content": found.content_html,
                "reading_time": math.ceil(words / READING_SPEED) if words else 0,
            }
        )

    @handle
    async def export(request: Request) -> Response:
        await user_of(request)
        body = await api.run(api.desk.export_opml)
        return Response(body, media_type="text/xml; charset=utf-8")

    @handle
    async def import_opml(request: Request) -> Response:
        await user_of(request)
        body = await read_body(request, limit=20 * 1024 * 1024)
        if not body.strip():
            raise BadRequest("the request body is empty: send an OPML document")
        try:
            await api.run(api.desk.import_opml, body)
        except ParseError as exc:
            raise BadRequest(str(exc)) from None
        return JSONResponse({"message": "Feeds imported successfully"}, status_code=201)

    @handle
    async def discover(request: Request) -> Response:
        await user_of(request)
        data = await read_json_object(request)
        url = (str_field(data, "url", required=True) or "").strip()
        if not is_web_url(url):
            raise BadRequest("url must be an http(s) URL")
        try:
            feed_url, title = await api.desk.find_feed_url(url)
        except NewsdeskError as exc:
            raise ApiError(404, f"no feed found: {exc}") from None
        return JSONResponse([{"url": feed_url, "title": title or feed_url, "type": "rss"}])

    return [
        Route("/v1/me", me, methods=["GET"]),
        Route("/v1/users/{user_id}/mark-all-as-read", user_mark_read, methods=["PUT"]),
        Route("/v1/integrations/status", integrations_status, methods=["GET"]),
        Route("/v1/version", version, methods=["GET"]),
        Route("/v1/categories", categories, methods=["GET"]),
        Route("/v1/categories/{category_id}/feeds", category_feeds, methods=["GET"]),
        Route("/v1/categories/{category_id}/entries", category_entries, methods=["GET"]),
        Route("/v1/categories/{category_id}/entries/{entry_id}", category_entry, methods=["GET"]),
        Route("/v1/categories/{category_id}/mark-all-as-read", category_mark_read, methods=["PUT"]),
        Route("/v1/categories/{category_id}/refresh", category_refresh, methods=["PUT"]),
        Route("/v1/discover", discover, methods=["POST"]),
        Route("/v1/feeds", feeds, methods=["GET"]),
        Route("/v1/feeds", create_feed, methods=["POST"]),
        Route("/v1/feeds/counters", counters, methods=["GET"]),
        Route("/v1/feeds/refresh", refresh_all, methods=["PUT"]),
        Route("/v1/feeds/{feed_id}", feed, methods=["GET"]),
        Route("/v1/feeds/{feed_id}", update_feed, methods=["PUT"]),
        Route("/v1/feeds/{feed_id}", remove_feed, methods=["DELETE"]),
        Route("/v1/feeds/{feed_id}/refresh", refresh_feed, methods=["PUT"]),
        Route("/v1/feeds/{feed_id}/mark-all-as-read", feed_mark_read, methods=["PUT"]),
        Route("/v1/feeds/{feed_id}/icon", feed_icon, methods=["GET"]),
        Route("/v1/icons/{icon_id}", icon, methods=["GET"]),
        Route("/v1/feeds/{feed_id}/entries", feed_entries, methods=["GET"]),
        Route("/v1/feeds/{feed_id}/entries/{entry_id}", feed_entry, methods=["GET"]),
        Route("/v1/entries", entries, methods=["GET"]),
        Route("/v1/entries", set_status, methods=["PUT"]),
        Route("/v1/entries/ids", entry_ids, methods=["GET"]),
        Route("/v1/entries/{entry_id}", entry, methods=["GET"]),
        Route("/v1/entries/{entry_id}/bookmark", toggle_bookmark, methods=["PUT"]),
        # Miniflux 2.3 named it "star"; both toggle
        Route("/v1/entries/{entry_id}/star", toggle_bookmark, methods=["PUT"]),
        Route("/v1/entries/{entry_id}/save", save_entry, methods=["POST"]),
        Route("/v1/entries/{entry_id}/fetch-content", fetch_content, methods=["GET"]),
        Route("/v1/export", export, methods=["GET"]),
        Route("/v1/import", import_opml, methods=["POST"]),
        *miniflux_edit.routes(api, handle, user_of),
    ]


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

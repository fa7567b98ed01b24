"""The Fever API at ``/fever/`` (Reeder, ReadKit, Unread, Fiery Feeds …), answering only users
who turned Fever on (``newsdesk user fever on``, or the Account page): ``api_key`` is the md5 of
``username:password`` as Fever defines it, checked against a keyed verifier; groups are Newsdesk
categories; items come 50 at a time by id (``since_id``, ``max_id``, ``with_ids``).

Every answer carries ``api_version`` 3 and ``auth`` (1, or 0 when the key is wrong, with HTTP
status 401 so that plain HTTP tools see the failure too). Several requests may be combined in
one call (``?api&groups&feeds``), as Fever allows.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import MultiDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from newsdesk.model import Feed, StoredEntry
from newsdesk.store import EntryQuery
from newsdesk.store import icons as icon_store
from newsdesk.store import sync as sync_store
from newsdesk.web.api.access import fever_user
from newsdesk.web.api.errors import BadRequest, endpoint
from newsdesk.web.api.inputs import read_params
from newsdesk.web.api.state import ApiState

API_VERSION = 3
ITEMS_PER_CALL = 50


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"api_version": API_VERSION, "auth": 0 if status == 401 else 1}
    if status != 401:
        body["error"] = message
    return JSONResponse(body, status_code=status, headers=headers)


def _ts(value: datetime | None) -> int:
    return int(value.timestamp()) if value else 0


def item_json(entry: StoredEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "feed_id": entry.feed_id,
        "title": entry.title or "",
        "author": entry.author or "",
        "html": entry.content_html,
        "url": entry.url or "",
        "is_saved": int(entry.starred),
        "is_read": int(entry.read),
        "created_on_time": _ts(entry.published),
    }


def feed_json(feed: Feed) -> dict[str, Any]:
    return {
        "id": feed.id,
        "favicon_id": feed.icon_id or 0,
        "title": feed.display_title,
        "url": feed.url,
        "site_url": feed.site_url or feed.url,
        "is_spark": 0,
        "last_updated_on_time": _ts(feed.last_success or feed.last_fetched),
    }


# Ids are 32-bit on PostgreSQL (``integer``); ``before`` is a Unix time, at most year 9999.
MAX_ID = 2**31 - 1
MAX_TIME = 253402300799


def _id(
    params: MultiDict, name: str, *, allow_negative: bool = False, limit: int = MAX_ID
) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None
    if (value < 0 and not allow_negative) or abs(value) > limit:
        raise BadRequest(f"{name} is out of range")
    return value


def _ids(raw: str) -> list[int]:
    ids: list[int] = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or len(part) > 18 or int(part) > MAX_ID:
            raise BadRequest("with_ids must be comma-separated item ids")
        ids.append(int(part))
    return ids[:ITEMS_PER_CALL]


def routes(api: ApiState) -> list[BaseRoute]:
    handle = endpoint(error)

    def feeds_groups(feeds: list[Feed]) -> list[dict[str, Any]]:
        by_group: dict[int, list[int]] = {}
        for feed in feeds:
            if feed.category_id is not None:
                by_group.setdefault(feed.category_id, []).append(feed.id)
        return [
            {"group_id": gid, "feed_ids": ",".join(str(i) for i in ids)}
            for gid, ids in sorted(by_group.items())
        ]

    def items(params: MultiDict) -> dict[str, Any]:
        with_ids = params.get("with_ids")
        since_id = _id(params, "since_id")
        max_id = _id(params, "max_id")
        if with_ids is not None:
            found = sync_store.entries_by_ids(api.store, _ids(with_ids))
        elif max_id is not None:
            q = sync_store.SyncQuery(before_id=max_id or None, sort="id", descending=True)
            found = sync_store.list_entries(api.store, q, ITEMS_PER_CALL)
        else:
            q = sync_store.SyncQuery(after_id=since_id or None, sort="id", descending=False)
            found = sync_store.list_entries(api.store, q, ITEMS_PER_CALL)
        return {
            "items": [item_json(e) for e in found],
            "total_items": sync_store.count_entries(api.store, sync_store.SyncQuery()),
        }

    def id_string(q: sync_store.SyncQuery) -> str:
        return ",".join(str(i) for i in sync_store.entry_ids(api.store, q))

    def mark(params: MultiDict) -> None:
        kind = params.get("mark")
        action = params.get("as")
        target = _id(params, "id", allow_negative=True)
        if target is None:
            raise BadRequest("id is required with mark")
        before = _id(params, "before", limit=MAX_TIME)
        until = datetime.fromtimestamp(before, UTC) if before else None
        if kind == "item":
            flags: dict[str, bool] = {
                "read": {"read": True},
                "unread": {"read": False},
                "saved": {"starred": True},
                "unsaved": {"starred": False},
            }.get(action or "", {})
            if not flags:
                raise BadRequest("as must be read, unread, saved or unsaved")
            if target > 0:
                api.store.set_flags([target], **flags)
        elif kind in {"feed", "group"}:
            if action != "read":
                raise BadRequest(f"a {kind} can only be marked read")
            q = sync_store.SyncQuery(base=EntryQuery(until=until))
            if kind == "feed":
                q.base.feed_id = target
            elif target > 0:
                q.category_id = target
            elif target < 0:
                return  # group -1 is Fever's "Sparks": Newsdesk has none
            sync_store.mark_read(api.store, q)
        else:
            raise BadRequest("mark must be item, feed or group")

    def favicons() -> list[dict[str, Any]]:
        # Fever's shape: "data" is the MIME type, ";base64," and the bytes, without "data:".
        return [
            {"id": i.id, "data": f"{i.mime_type};base64,{base64.b64encode(i.data).decode()}"}
            for i in icon_store.linked_icons(api.engine)
        ]

    def answer(params: MultiDict) -> dict[str, Any]:
        feeds = api.store.list_feeds()
        refreshed = max((f.last_fetched for f in feeds if f.last_fetched), default=None)
        body: dict[str, Any] = {
            "api_version": API_VERSION,
            "auth": 1,
            "last_refreshed_on_time": _ts(refreshed),
        }
        if "mark" in params:
            mark(params)
        if "groups" in params:
            body["groups"] = [{"id": cid, "title": t} for cid, t, _ in api.store.categories()]
            body["feeds_groups"] = feeds_groups(feeds)
        if "feeds" in params:
            body["feeds"] = [feed_json(f) for f in feeds]
            body["feeds_groups"] = feeds_groups(feeds)
        if "favicons" in params:
            body["favicons"] = favicons()
        if "items" in params:
            body.update(items(params))
        if "links" in params:
            body["links"] = []
        if "unread_item_ids" in params:
            body["unread_item_ids"] = id_string(
                sync_store.SyncQuery(base=EntryQuery(read=False), sort="id", descending=False)
            )
        if "saved_item_ids" in params:
            body["saved_item_ids"] = id_string(
                sync_store.SyncQuery(base=EntryQuery(starred=True), sort="id", descending=False)
            )
        return body

    @handle
    async def fever(request: Request) -> Response:
        params = await read_params(request)
        key = (params.get("api_key") or "").strip()
        user = await fever_user(api, request, key) if key else None
        if user is None:
            return error(401, "unauthorized")
        return JSONResponse(await api.run(answer, params))

    return [Route("/fever/", fever, methods=["GET", "POST"])]

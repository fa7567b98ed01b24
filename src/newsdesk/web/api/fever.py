"""The Fever API at ``/fever/`` (Reeder, ReadKit, Unread, Fiery Feeds …), answering only users
who turned Fever on (``newsdesk user fever on``, or the Account page): ``api_key`` is the md5 of
``username:password`` as Fever defines it, checked against a keyed verifier; groups are Newsdesk
categories; items come 50 at a time by id (``since_id``, ``max_id``, ``with_ids``). Each
person has their own key (issue 15): groups, feeds, favicons, items and the saved and unread
lists are that person's, and marking changes only their state.

Every answer carries ``api_version`` 3 and ``auth``: 1, or 0 when the key is wrong, with HTTP
status 200 as Fever and FreshRSS answer it (clients read ``auth``, and take any other status for
a server fault). A caller whose failed-login budget is spent gets 429 with ``Retry-After`` and
``auth`` 0: the key was not checked, and a client that took that for a wrong key would ask its
user for a password that is right. Several requests may be combined in one call
(``?api&groups&feeds``), as Fever allows; ``mark`` answers with the unread (as=read/unread) or
saved (as=saved/unsaved) id list, as FreshRSS does. ``items`` takes ``feed_ids`` and
``group_ids`` (comma-separated; items of any of them), then ``max_id`` (the 50 items below it,
newest first, so 0 gives none), else ``with_ids``, else ``since_id``.

One handler, ``fever``, declared on ``TABLE`` at ``/fever/`` and ``/fever``.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import MultiDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from newsdesk.model import Feed, StoredEntry
from newsdesk.store import EntryQuery
from newsdesk.store import sync as sync_store
from newsdesk.web.api.access import fever_user
from newsdesk.web.api.errors import BadRequest, endpoint
from newsdesk.web.api.inputs import read_params
from newsdesk.web.api.state import ApiState
from newsdesk.web.api.titles import entry_title
from newsdesk.web.routing import RouteTable

API_VERSION = 3
ITEMS_PER_CALL = 50


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    if status == 401:
        return JSONResponse({"api_version": API_VERSION, "auth": 0}, headers=headers)
    body: dict[str, Any] = {"api_version": API_VERSION, "auth": 0 if status == 429 else 1}
    body["error"] = message
    return JSONResponse(body, status_code=status, headers=headers)


def _ts(value: datetime | None) -> int:
    return int(value.timestamp()) if value else 0


def item_json(entry: StoredEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "feed_id": entry.feed_id,
        "title": entry_title(entry),
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


def _ids(raw: str, name: str = "with_ids", limit: int | None = ITEMS_PER_CALL) -> list[int]:
    ids: list[int] = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or len(part) > 18 or int(part) > MAX_ID:
            raise BadRequest(f"{name} must be comma-separated ids")
        ids.append(int(part))
    return ids[:limit]


def _feeds_groups(feeds: list[Feed]) -> list[dict[str, Any]]:
    by_group: dict[int, list[int]] = {}
    for feed in feeds:
        if feed.category_id is not None:
            by_group.setdefault(feed.category_id, []).append(feed.id)
    return [
        {"group_id": gid, "feed_ids": ",".join(str(i) for i in ids)}
        for gid, ids in sorted(by_group.items())
    ]


def _feed_filter(params: MultiDict, feeds: list[Feed]) -> list[int] | None:
    """The feeds ``feed_ids`` and ``group_ids`` name (items of any of them), or None."""
    raw_feeds, raw_groups = params.get("feed_ids"), params.get("group_ids")
    if raw_feeds is None and raw_groups is None:
        return None
    wanted = set(_ids(raw_feeds or "", "feed_ids", None))
    groups = set(_ids(raw_groups or "", "group_ids", None))
    wanted.update(f.id for f in feeds if f.category_id is not None and f.category_id in groups)
    return sorted(wanted)


def _items(api: ApiState, params: MultiDict, feeds: list[Feed]) -> dict[str, Any]:
    with_ids = params.get("with_ids")
    since_id = _id(params, "since_id")
    max_id = _id(params, "max_id")
    q = sync_store.SyncQuery(sort="id", feed_ids=_feed_filter(params, feeds))
    if max_id is not None:
        # Items below max_id, as FreshRSS reads it: max_id=0 asks for none.
        q.before_id, q.descending = max_id, True
    elif with_ids is not None:
        q.base.ids = _ids(with_ids)
        q.descending = False
    else:
        q.after_id, q.descending = since_id or None, False
    found = api.store.sync.list_entries(q, ITEMS_PER_CALL)
    return {
        "items": [item_json(e) for e in found],
        "total_items": api.store.sync.count_entries(sync_store.SyncQuery()),
    }


def _id_string(api: ApiState, base: EntryQuery) -> str:
    q = sync_store.SyncQuery(base=base, sort="id", descending=False)
    return ",".join(str(i) for i in api.store.sync.entry_ids(q))


def _unread_ids(api: ApiState) -> str:
    return _id_string(api, EntryQuery(read=False))


def _saved_ids(api: ApiState) -> str:
    return _id_string(api, EntryQuery(starred=True))


_ITEM_FLAGS: dict[str, dict[str, bool]] = {
    "read": {"read": True},
    "unread": {"read": False},
    "saved": {"starred": True},
    "unsaved": {"starred": False},
}


def _mark(api: ApiState, params: MultiDict) -> None:
    kind = params.get("mark")
    action = params.get("as")
    target = _id(params, "id", allow_negative=True)
    if target is None:
        raise BadRequest("id is required with mark")
    before = _id(params, "before", limit=MAX_TIME)
    until = datetime.fromtimestamp(before, UTC) if before else None
    if kind == "item":
        flags = _ITEM_FLAGS.get(action or "", {})
        if not flags:
            raise BadRequest("as must be read, unread, saved or unsaved")
        if target > 0:
            api.desk.mark([target], **flags)
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
        api.desk.mark_matching(q)
    else:
        raise BadRequest("mark must be item, feed or group")


def _favicons(api: ApiState, feeds: list[Feed]) -> list[dict[str, Any]]:
    """The icons of the caller's feeds. Fever's shape: "data" is the MIME type, ";base64," and
    the bytes, without "data:"."""
    mine = {f.icon_id for f in feeds if f.icon_id}
    return [
        {"id": i.id, "data": f"{i.mime_type};base64,{base64.b64encode(i.data).decode()}"}
        for i in api.store.icons.linked_icons()
        if i.id in mine
    ]


def answer(api: ApiState, params: MultiDict) -> dict[str, Any]:
    """The answer to one authenticated call: every request it combines, ``mark`` first."""
    feeds = api.store.list_feeds()
    refreshed = max((f.last_fetched for f in feeds if f.last_fetched), default=None)
    body: dict[str, Any] = {
        "api_version": API_VERSION,
        "auth": 1,
        "last_refreshed_on_time": _ts(refreshed),
    }
    if "mark" in params:
        _mark(api, params)
        # The list the change concerns, for the client to check its state against.
        if params.get("as") in {"read", "unread"}:
            body["unread_item_ids"] = _unread_ids(api)
        elif params.get("as") in {"saved", "unsaved"}:
            body["saved_item_ids"] = _saved_ids(api)
    if "groups" in params:
        body["groups"] = [{"id": cid, "title": t} for cid, t, _ in api.store.categories()]
        body["feeds_groups"] = _feeds_groups(feeds)
    if "feeds" in params:
        body["feeds"] = [feed_json(f) for f in feeds]
        body["feeds_groups"] = _feeds_groups(feeds)
    if "favicons" in params:
        body["favicons"] = _favicons(api, feeds)
    if "items" in params:
        body.update(_items(api, params, feeds))
    if "links" in params:
        body["links"] = []
    if "unread_item_ids" in params:
        body["unread_item_ids"] = _unread_ids(api)
    if "saved_item_ids" in params:
        body["saved_item_ids"] = _saved_ids(api)
    return body


TABLE = RouteTable[ApiState](endpoint(error))


# Clients are configured with ".../fever" or ".../fever/": both answer (no redirect, which
# would turn a POST into a GET and lose the key). Decorators apply from the bottom up.
@TABLE.route("/fever", "GET", "POST")
@TABLE.route("/fever/", "GET", "POST")
async def fever(request: Request, api: ApiState) -> Response:
    params = await read_params(request)
    key = (params.get("api_key") or "").strip()
    user = await fever_user(api, request, key) if key else None
    if user is None:
        return error(401, "unauthorized")
    return JSONResponse(await api.run(answer, api, params))


def routes(api: ApiState) -> list[BaseRoute]:
    return TABLE.routes(api)

"""The editing half of the Miniflux-compatible API: categories created, renamed and removed
(``POST /v1/categories``, ``PUT`` and ``DELETE /v1/categories/{id}``), an entry's title and
content rewritten (``PUT /v1/entries/{id}``) and ``/v1/flush-history``, with Miniflux's
shapes and status codes (internal/api/category_handlers.go, entry_handlers.go).

Where Newsdesk differs: removing a category keeps its feeds (without a category; Miniflux
removes them with it); ``flush-history`` is accepted (202) and removes nothing, since Newsdesk
has no "removed" state and a deleted entry would come back with the next fetch.

The handlers are declared on ``miniflux.TABLE``, after the rest of the API.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from newsdesk.web.api.access import require_user
from newsdesk.web.api.errors import BadRequest, NotFound
from newsdesk.web.api.inputs import path_id, read_json_object, str_field
from newsdesk.web.api.miniflux_json import category_json, entry_json, feed_json
from newsdesk.web.api.state import ApiState


async def _existing_category(api: ApiState, category_id: int) -> None:
    known = {cid for cid, _t, _n in await api.run(api.store.categories)}
    if category_id not in known:
        raise NotFound()


def _title_of(data: dict[str, Any]) -> str:
    title = str_field(data, "title")
    if title is None or not title.strip():
        raise BadRequest("the category title is required")
    return title


async def create_category(request: Request, api: ApiState) -> Response:
    user = await require_user(api, request)
    title = _title_of(await read_json_object(request))
    category_id, stored = await api.run(api.store.editing.create_category, title)
    return JSONResponse(category_json(category_id, stored, user.id), status_code=201)


async def update_category(request: Request, api: ApiState) -> Response:
    user = await require_user(api, request)
    category_id = path_id(request, "category_id")
    await _existing_category(api, category_id)
    title = _title_of(await read_json_object(request))
    stored = await api.run(api.store.editing.rename_category, category_id, title)
    return JSONResponse(category_json(category_id, stored, user.id), status_code=201)


async def remove_category(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    category_id = path_id(request, "category_id")
    await _existing_category(api, category_id)
    await api.run(api.store.editing.remove_category, category_id)
    return Response(status_code=204, media_type="application/json")


async def update_entry(request: Request, api: ApiState) -> Response:
    user = await require_user(api, request)
    entry_id = path_id(request, "entry_id")
    data = await read_json_object(request)
    title = str_field(data, "title")
    content = str_field(data, "content")
    if title is not None and not title.strip():
        raise BadRequest("the entry title cannot be empty")
    if content is not None and not content.strip():
        raise BadRequest("the entry content cannot be empty")
    if not await api.run(api.store.sync.entries_by_ids, [entry_id]):
        raise NotFound()
    await api.run(api.store.editing.edit_entry, entry_id, title=title, content_html=content)
    entry = (await api.run(api.store.sync.entries_by_ids, [entry_id]))[0]
    feeds = await api.run(api.store.list_feeds, [entry.feed_id])
    feed = feed_json(feeds[0], user.id) if feeds else None
    return JSONResponse(entry_json(entry, feed, user.id), status_code=201)


async def flush_history(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    return Response(status_code=202, media_type="application/json")

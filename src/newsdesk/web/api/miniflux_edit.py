"""The editing half of the Miniflux-compatible API: categories created, renamed and removed
(``POST /v1/categories``, ``PUT`` and ``DELETE /v1/categories/{id}``), an entry's title and
content rewritten (``PUT /v1/entries/{id}``) and ``/v1/flush-history``, with Miniflux's
shapes and status codes (internal/api/category_handlers.go, entry_handlers.go).

Where Newsdesk differs: removing a category keeps its feeds (without a category; Miniflux
removes them with it); ``flush-history`` is accepted (202) and removes nothing, since Newsdesk
has no "removed" state and a deleted entry would come back with the next fetch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from newsdesk.store.users import User
from newsdesk.web.api.errors import BadRequest, NotFound
from newsdesk.web.api.inputs import path_id, read_json_object, str_field
from newsdesk.web.api.miniflux_json import category_json, entry_json, feed_json
from newsdesk.web.api.state import ApiState

Handler = Callable[[Request], Awaitable[Response]]


def routes(
    api: ApiState,
    handle: Callable[[Handler], Handler],
    user_of: Callable[[Request], Awaitable[User]],
) -> list[BaseRoute]:
    async def existing_category(category_id: int) -> None:
        known = {cid for cid, _t, _n in await api.run(api.store.categories)}
        if category_id not in known:
            raise NotFound()

    def title_of(data: dict[str, Any]) -> str:
        title = str_field(data, "title")
        if title is None or not title.strip():
            raise BadRequest("the category title is required")
        return title

    @handle
    async def create_category(request: Request) -> Response:
        user = await user_of(request)
        title = title_of(await read_json_object(request))
        category_id, stored = await api.run(api.store.editing.create_category, title)
        return JSONResponse(category_json(category_id, stored, user.id), status_code=201)

    @handle
    async def update_category(request: Request) -> Response:
        user = await user_of(request)
        category_id = path_id(request, "category_id")
        await existing_category(category_id)
        title = title_of(await read_json_object(request))
        stored = await api.run(api.store.editing.rename_category, category_id, title)
        return JSONResponse(category_json(category_id, stored, user.id), status_code=201)

    @handle
    async def remove_category(request: Request) -> Response:
        await user_of(request)
        category_id = path_id(request, "category_id")
        await existing_category(category_id)
        await api.run(api.store.editing.remove_category, category_id)
        return Response(status_code=204, media_type="application/json")

    @handle
    async def update_entry(request: Request) -> Response:
        user = await user_of(request)
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

    @handle
    async def flush_history(request: Request) -> Response:
        await user_of(request)
        return Response(status_code=202, media_type="application/json")

    return [
        Route("/v1/categories", create_category, methods=["POST"]),
        Route("/v1/categories/{category_id}", update_category, methods=["PUT"]),
        Route("/v1/categories/{category_id}", remove_category, methods=["DELETE"]),
        Route("/v1/entries/{entry_id}", update_entry, methods=["PUT"]),
        Route("/v1/flush-history", flush_history, methods=["PUT", "DELETE"]),
    ]

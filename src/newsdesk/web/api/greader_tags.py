"""Google Reader's tags: ``tag/list``, ``edit-tag`` (read, starred, kept-unread and the
reader's own labels on items), ``rename-tag`` and ``disable-tag``, answered as FreshRSS does.
The handlers are declared on ``greader.TABLE``, first, as they always came.

A ``user/-/label/NAME`` is a category when one has that name (a folder of feeds), else a user
label on items (``store.labels``). ``rename-tag`` renames either; ``disable-tag`` removes
either, a category's feeds going to the default category.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MultiDict
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from newsdesk.store import labels
from newsdesk.web.api.access import google_user
from newsdesk.web.api.errors import BadRequest
from newsdesk.web.api.greader_common import (
    LABEL_PREFIX,
    MAX_IDS,
    STATE_KEPT_UNREAD,
    STATE_READ,
    STATE_STARRED,
    item_ids,
    label_name,
    normalize_stream,
)
from newsdesk.web.api.inputs import read_params
from newsdesk.web.api.state import ApiState


def _states(added: list[str], removed: list[str]) -> tuple[bool | None, bool | None]:
    """The read and starred flags an edit-tag sets (None: left alone)."""
    read: bool | None = None
    starred: bool | None = None
    for tag in added:
        if tag == STATE_READ:
            read = True
        elif tag == STATE_KEPT_UNREAD:
            read = False
        elif tag == STATE_STARRED:
            starred = True
    for tag in removed:
        if tag == STATE_READ and read is None:
            read = False
        elif tag == STATE_KEPT_UNREAD and read is None:
            read = True
        elif tag == STATE_STARRED:
            starred = False
    return read, starred


def _tags(api: ApiState) -> list[dict[str, Any]]:
    folders = [title for _, title, _ in api.store.categories()]
    tags: list[dict[str, Any]] = [{"id": STATE_STARRED}]
    tags.extend({"id": LABEL_PREFIX + title, "type": "folder"} for title in folders)
    tags.extend(
        {"id": LABEL_PREFIX + c.name, "type": "tag", "unread_count": c.unread}
        for c in api.store.labels.label_counts()
        if c.name not in folders
    )
    return tags


async def tag_list(request: Request, api: ApiState) -> Response:
    await google_user(api, request)
    return JSONResponse({"tags": await api.run(_tags, api)})


async def edit_tag(request: Request, api: ApiState) -> Response:
    await google_user(api, request)
    params = await read_params(request)
    ids = item_ids(params.getlist("i"), MAX_IDS)
    added = [normalize_stream(t) for t in params.getlist("a")]
    removed = [normalize_stream(t) for t in params.getlist("r")]
    add_labels = [n for n in map(label_name, added) if n]
    remove_labels = [n for n in map(label_name, removed) if n]
    for name in add_labels + remove_labels:
        labels.clean_label(name)  # a bad name is a 400 before anything changes
    read, starred = _states(added, removed)

    def apply() -> None:
        if read is not None or starred is not None:
            api.desk.mark(ids, read=read, starred=starred)
        for name in add_labels:
            api.store.labels.add_label(ids, name)
        for name in remove_labels:
            api.store.labels.remove_label(ids, name)

    await api.run(apply)
    return PlainTextResponse("OK")


def _named(params: MultiDict, field: str) -> str:
    name = label_name(params.get(field) or "")
    if name is None:
        raise BadRequest(f"{field} must be a label: user/-/label/NAME")
    return name


async def rename_tag(request: Request, api: ApiState) -> Response:
    await google_user(api, request)
    params = await read_params(request)
    old, new = _named(params, "s"), _named(params, "dest")
    if not await api.run(api.store.labels.rename, old, new):
        raise BadRequest(f"no category or label is named {old[:100]!r}")
    return PlainTextResponse("OK")


async def disable_tag(request: Request, api: ApiState) -> Response:
    await google_user(api, request)
    params = await read_params(request)
    name = _named(params, "s")
    if not await api.run(api.store.labels.remove, name):
        raise BadRequest(f"no category or label is named {name[:100]!r}")
    return PlainTextResponse("OK")

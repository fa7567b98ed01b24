"""The Google Reader API as FreshRSS and Miniflux serve it (``/accounts/ClientLogin`` and
``/reader/api/0/…``), for Reeder, NetNewsWire, FeedMe, Read You, newsboat and others, plus
Google Reader's Atom stream ``/reader/atom/STREAM`` (as FeedHQ served it; ``greader_atom``).

Streams: ``feed/ID`` (or ``feed/URL``), ``user/-/state/com.google/reading-list``, ``…/starred``,
``…/read``, ``…/kept-unread``, ``user/-/label/NAME`` (a category, else a user label or a feed
tag; labels and tags are in ``greader_tags``). Continuations are keyset positions. Item ids
are accepted in the long form ``tag:google.com,2005:reader/item/<16 hex>``, as 16 hex digits,
and in the decimal short form; answers use the long form (and decimal in ``itemRefs``).
Authentication is the ``Authorization: GoogleLogin auth=…`` header (a ClientLogin token or an
API key); the ``T`` action token is handed out for clients that send it, and not required, since
header authentication cannot be forged by another web page.

Every route is declared on ``TABLE`` (the tag handlers of ``greader_tags`` first); the ids,
stream names and the error answer both modules use are in ``greader_common``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.datastructures import MultiDict
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute

from newsdesk.errors import AlreadySubscribedError, NewsdeskError
from newsdesk.model import Feed, StoredEntry
from newsdesk.process.urls import is_web_url
from newsdesk.store import EntryQuery
from newsdesk.store import sync as sync_store
from newsdesk.web.api import greader_tags
from newsdesk.web.api.access import google_mac, google_token, google_user, password_user
from newsdesk.web.api.errors import ApiError, BadRequest, NotFound, endpoint
from newsdesk.web.api.greader_atom import render_atom
from newsdesk.web.api.greader_common import (
    LABEL_PREFIX,
    MAX_CONTENTS,
    MAX_IDS,
    PREFIX,
    READING_LIST,
    STATE_KEPT_UNREAD,
    STATE_READ,
    STATE_STARRED,
    error,
    item_ids,
    label_name,
    long_id,
    normalize_stream,
    parse_item_id,
)
from newsdesk.web.api.greader_json import item_json, subscription_json, unread_counts
from newsdesk.web.api.inputs import read_body, read_params
from newsdesk.web.api.state import ApiState
from newsdesk.web.routing import RouteTable

__all__ = ["TABLE", "error", "long_id", "parse_item_id", "routes"]

TABLE = RouteTable[ApiState](endpoint(error))
BOTH = ("GET", "POST")

# The tags (greader_tags) came first, and still do.
TABLE.route(f"{PREFIX}/tag/list", *BOTH)(greader_tags.tag_list)
TABLE.post(f"{PREFIX}/edit-tag")(greader_tags.edit_tag)
TABLE.post(f"{PREFIX}/rename-tag")(greader_tags.rename_tag)
TABLE.post(f"{PREFIX}/disable-tag")(greader_tags.disable_tag)


# Continuation tokens are keyset positions: the last item's publication time (µs since year 1)
# and id, as one decimal number (clients treat the token as opaque; FreshRSS's are digits too).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_YEAR_ONE_USEC = 62_135_596_800 * 1_000_000
_ID_SPAN = 10**19  # above every id (ids are below 2**63)


def position_token(published: datetime, entry_id: int) -> str:
    usec = (published - _EPOCH) // timedelta(microseconds=1) + _YEAR_ONE_USEC
    return str(usec * _ID_SPAN + entry_id)


def parse_position(raw: str) -> tuple[datetime, int]:
    """A continuation token this server gave; 400 for anything else."""
    value = int(raw) if raw.isdigit() and len(raw) <= 40 else 0
    usec, entry_id = divmod(value, _ID_SPAN)
    try:
        if entry_id <= 0 or usec <= 0:
            raise ValueError(raw)
        return _EPOCH + timedelta(microseconds=usec - _YEAR_ONE_USEC), entry_id
    except (OverflowError, ValueError):
        raise BadRequest("c is not a continuation this server gave") from None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a stream: its entries, their feeds and user labels, the next page's token."""

    entries: list[StoredEntry]
    feeds: dict[int, Feed]
    labels: dict[int, list[str]]
    continuation: str | None


def _int_param(params: MultiDict, name: str, default: int | None, maximum: int) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None
    if value < 0:
        raise BadRequest(f"{name} must not be negative")
    return min(value, maximum)


def _time_param(params: MultiDict, name: str) -> datetime | None:
    value = _int_param(params, name, None, 2**62)
    if not value:
        return None
    if value > 10**11:  # microseconds or milliseconds, as some clients send
        value = value // 1_000_000 if value > 10**14 else value // 1000
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadRequest(f"{name} is out of range") from None


# -- streams: what a stream id names, one page of it ----------------------------------------------


def _lookups(api: ApiState) -> tuple[dict[int, Feed], dict[str, int]]:
    feeds = {f.id: f for f in api.store.list_feeds()}
    categories = {title: cid for cid, title, _ in api.store.categories()}
    return feeds, categories


async def stream_query(api: ApiState, stream: str, params: MultiDict) -> sync_store.SyncQuery:
    """The entries a stream id names, with the ot/nt/xt/it filters applied."""
    stream = normalize_stream(stream)
    base = EntryQuery()
    q = sync_store.SyncQuery(base=base, descending=params.get("r") != "o")
    if stream.startswith("feed/"):
        ref = stream[len("feed/") :]
        feeds, _ = await api.run(_lookups, api)
        if ref.isdigit() and int(ref) in feeds:
            base.feed_id = int(ref)
        else:
            match = [f.id for f in feeds.values() if ref in (f.url, f.moved_from)]
            if not match:
                raise NotFound(f"no such stream: {stream[:200]}")
            base.feed_id = match[0]
    elif stream == READING_LIST or stream == "":
        pass
    elif stream == STATE_STARRED:
        base.starred = True
    elif stream == STATE_READ:
        base.read = True
    elif stream == STATE_KEPT_UNREAD:
        base.read = False
    elif stream.startswith(LABEL_PREFIX):
        label = stream[len(LABEL_PREFIX) :]
        _, categories = await api.run(_lookups, api)
        if label in categories:
            q.category_id = categories[label]
        else:
            q.label = label  # a user label (edit-tag), or a feed's own tag
    else:
        raise NotFound(f"no such stream: {stream[:200]}")
    for target in params.getlist("xt"):
        target = normalize_stream(target)
        if target == STATE_READ:
            base.read = False
        elif target == STATE_STARRED:
            base.starred = False
    for target in params.getlist("it"):
        target = normalize_stream(target)
        if target == STATE_READ:
            base.read = True
        elif target == STATE_STARRED:
            base.starred = True
    base.since = _time_param(params, "ot")
    base.until = _time_param(params, "nt")
    return q


def positions(
    api: ApiState, q: sync_store.SyncQuery, params: MultiDict, count: int
) -> tuple[list[int], str | None]:
    """Up to ``count`` ids after the continuation ``c``, and the token of the next page."""
    raw = params.get("c")
    if raw:
        q.after = parse_position(raw)
    found = api.store.sync.entry_positions(q, count + 1)
    if len(found) <= count:
        return [i for i, _ in found], None
    last_id, last_published = found[count - 1]
    return [i for i, _ in found[:count]], position_token(last_published, last_id)


def _page_of(api: ApiState, ids: list[int], token: str | None) -> Page:
    found = api.store.sync.entries_by_ids(ids)
    feeds = {f.id: f for f in api.store.list_feeds({e.feed_id for e in found})}
    return Page(found, feeds, api.store.labels.labels_of(ids), token)


def page(api: ApiState, q: sync_store.SyncQuery, params: MultiDict, count: int) -> Page:
    return _page_of(api, *positions(api, q, params, count))


def stream_answer(stream: str, found: Page) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "direction": "ltr",
        "id": stream,
        "title": stream,
        "updated": int(datetime.now(UTC).timestamp()),
        "items": [
            item_json(e, found.feeds.get(e.feed_id), found.labels.get(e.id, []))
            for e in found.entries
        ],
    }
    if found.continuation:
        answer["continuation"] = found.continuation
    return answer


# -- login ------------------------------------------------------------------------------------


@TABLE.route("/accounts/ClientLogin", *BOTH)
async def client_login(request: Request, api: ApiState) -> Response:
    params = await read_params(request)
    email = (params.get("Email") or "").strip()
    password = params.get("Passwd") or ""
    user = await password_user(api, request, email, password) if email or password else None
    if user is None:
        return PlainTextResponse("Error=BadAuthentication\n", status_code=401)
    token = await api.run(google_token, api, user)
    if params.get("output") == "json":
        return JSONResponse({"SID": token, "LSID": "null", "Auth": token})
    return PlainTextResponse(f"SID={token}\nLSID=null\nAuth={token}\n")


@TABLE.route(f"{PREFIX}/token", *BOTH)
async def action_token(request: Request, api: ApiState) -> Response:
    user = await google_user(api, request)
    mac = await api.run(google_mac, api, user, "google-reader-action")
    return PlainTextResponse(mac[:57])


@TABLE.route(f"{PREFIX}/user-info", *BOTH)
async def user_info(request: Request, api: ApiState) -> Response:
    user = await google_user(api, request)
    return JSONResponse(
        {
            "userId": str(user.id),
            "userName": user.username,
            "userProfileId": str(user.id),
            "userEmail": "",
            "isBloggerUser": False,
            "signupTimeSec": int(user.created_at.timestamp()),
            "isMultiLoginEnabled": False,
        }
    )


# -- subscriptions ----------------------------------------------------------------------------


@TABLE.route(f"{PREFIX}/subscription/list", *BOTH)
async def subscription_list(request: Request, api: ApiState) -> Response:
    await google_user(api, request)
    feeds = await api.run(api.store.list_feeds)
    # Our own /icon/ route, public but unguessable: clients fetch iconUrl without a token.
    links = api.icon_links
    refs = await api.run(api.store.icons.feed_icon_refs)
    base = str(request.base_url).rstrip("/")

    def icon_url(feed: Feed) -> str:
        ref = refs.get(feed.id)
        return base + links.path(ref) if ref is not None else ""

    return JSONResponse({"subscriptions": [subscription_json(f, icon_url(f)) for f in feeds]})


async def subscribe(
    api: ApiState, url: str, title: str | None, category: str | None
) -> tuple[Feed, str]:
    """The feed subscribed to (or already subscribed), and its name: the title the feed
    gives, read while finding it (the new feed's first refresh runs in the background)."""
    if not is_web_url(url):
        raise BadRequest("subscribe to an http(s) URL: feed/https://…")
    try:
        feed = await api.desk.subscribe(url, title=title, category=category)
    except AlreadySubscribedError as exc:
        if exc.feed is None:
            raise
        return exc.feed, exc.feed.display_title
    await api.start_refresh([feed.id])
    return feed, feed.display_title


async def feed_for_stream(api: ApiState, stream: str) -> Feed:
    ref = stream[len("feed/") :] if stream.startswith("feed/") else ""
    feeds = await api.run(api.store.list_feeds)
    for feed in feeds:
        if (ref.isdigit() and feed.id == int(ref)) or ref in (feed.url, feed.moved_from):
            return feed
    raise NotFound(f"no such subscription: {stream[:200]}")


def _first_label(values: list[str]) -> str | None:
    return next((name for name in map(label_name, values) if name), None)


@TABLE.post(f"{PREFIX}/subscription/edit")
async def subscription_edit(request: Request, api: ApiState) -> Response:
    await google_user(api, request)
    params = await read_params(request)
    action = params.get("ac") or "edit"
    streams = params.getlist("s")
    if not streams:
        raise BadRequest("s (the feed/… stream id) is required")
    title = (params.get("t") or "").strip() or None
    add_label = _first_label(params.getlist("a"))
    remove_label = _first_label(params.getlist("r"))
    for stream in streams:
        if action == "subscribe":
            url = stream[len("feed/") :] if stream.startswith("feed/") else stream
            await subscribe(api, url, title, add_label)
        elif action == "unsubscribe":
            feed = await feed_for_stream(api, stream)
            await api.run(api.store.remove_feed, feed.id)
        elif action == "edit":
            feed = await feed_for_stream(api, stream)
            changes: dict[str, Any] = {}
            if title:
                changes["custom_title"] = title[:1000]
            if add_label:
                changes["category"] = add_label
            elif remove_label and feed.category == remove_label:
                changes["category"] = None
            if changes:
                await api.run(api.store.update_feed, feed.id, **changes)
        else:
            raise BadRequest("ac must be subscribe, unsubscribe or edit")
    return PlainTextResponse("OK")


@TABLE.post(f"{PREFIX}/subscription/quickadd")
async def quickadd(request: Request, api: ApiState) -> Response:
    await google_user(api, request)
    params = await read_params(request)
    url = (params.get("quickadd") or "").strip()
    if url.startswith("feed/"):
        url = url[len("feed/") :]
    try:
        if not url:
            raise BadRequest("quickadd (the URL to subscribe to) is required")
        feed, name = await subscribe(api, url, None, None)
    except ApiError as exc:
        # Clients read a failed quickadd from the body, as FreshRSS answers it.
        return JSONResponse({"numResults": 0, "error": exc.message})
    except NewsdeskError as exc:
        return JSONResponse({"numResults": 0, "error": str(exc)})
    return JSONResponse(
        {"numResults": 1, "query": feed.url, "streamId": f"feed/{feed.id}", "streamName": name}
    )


@TABLE.get(f"{PREFIX}/subscription/export")
async def subscription_export(request: Request, api: ApiState) -> Response:
    await google_user(api, request)
    body = await api.run(api.desk.export_opml)
    return Response(body, media_type="text/xml; charset=utf-8")


@TABLE.post(f"{PREFIX}/subscription/import")
async def subscription_import(request: Request, api: ApiState) -> Response:
    await google_user(api, request)
    body = await read_body(request, 20 * 1024 * 1024)
    try:
        report = await api.run(api.desk.import_opml, body)
    except NewsdeskError as exc:
        raise BadRequest(str(exc)) from None
    return PlainTextResponse(f"OK: {len(report.added)} feeds imported")


def _all_unread_counts(api: ApiState) -> dict[str, Any]:
    return unread_counts(
        api.store.list_feeds(), api.store.sync.feed_counts(), api.store.labels.label_counts()
    )


@TABLE.route(f"{PREFIX}/unread-count", *BOTH)
async def unread_count(request: Request, api: ApiState) -> Response:
    await google_user(api, request)
    return JSONResponse(await api.run(_all_unread_counts, api))


# -- items ------------------------------------------------------------------------------------


# Decorators apply from the bottom up: /stream/contents is declared first, as it always was.
@TABLE.route(f"{PREFIX}/stream/contents/{{stream:path}}", *BOTH)
@TABLE.route(f"{PREFIX}/stream/contents", *BOTH)
async def stream_contents(request: Request, api: ApiState) -> Response:
    await google_user(api, request)
    params = await read_params(request)
    stream = str(request.path_params.get("stream") or params.get("s") or READING_LIST)
    q = await stream_query(api, stream, params)
    count = _int_param(params, "n", 20, MAX_CONTENTS) or 20
    found = await api.run(page, api, q, params, count)
    return JSONResponse(stream_answer(stream, found))


@TABLE.route(f"{PREFIX}/stream/items/ids", *BOTH)
async def stream_ids(request: Request, api: ApiState) -> Response:
    await google_user(api, request)
    params = await read_params(request)
    stream = params.get("s") or READING_LIST
    q = await stream_query(api, stream, params)
    count = _int_param(params, "n", 20, MAX_IDS) or 20
    ids, token = await api.run(positions, api, q, params, count)
    answer: dict[str, Any] = {"itemRefs": [{"id": str(i), "directStreamIds": []} for i in ids]}
    if token:
        answer["continuation"] = token
    return JSONResponse(answer)


@TABLE.get("/reader/atom/{stream:path}")
async def stream_atom(request: Request, api: ApiState) -> Response:
    await google_user(api, request)
    params = await read_params(request)
    stream = str(request.path_params.get("stream") or READING_LIST)
    q = await stream_query(api, stream, params)
    count = _int_param(params, "n", 20, MAX_CONTENTS) or 20
    found = await api.run(page, api, q, params, count)
    title, site = stream, None
    if q.base.feed_id is not None:
        feed = (
            found.feeds.get(q.base.feed_id)
            or (await api.run(api.store.list_feeds, [q.base.feed_id]))[0]
        )
        title, site = feed.display_title, feed.site_url or feed.url
    body = render_atom(
        normalize_stream(stream),
        title,
        [(e, long_id(e.id)) for e in found.entries],
        found.feeds,
        found.continuation,
        site,
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@TABLE.route(f"{PREFIX}/stream/items/contents", *BOTH)
async def items_contents(request: Request, api: ApiState) -> Response:
    await google_user(api, request)
    params = await read_params(request)
    ids = item_ids(params.getlist("i"), MAX_CONTENTS)
    found = await api.run(_page_of, api, ids, None)
    return JSONResponse(stream_answer(READING_LIST, found))


@TABLE.post(f"{PREFIX}/mark-all-as-read")
async def mark_all_read(request: Request, api: ApiState) -> Response:
    await google_user(api, request)
    params = await read_params(request)
    stream = params.get("s")
    if not stream:
        raise BadRequest("s (the stream to mark read) is required")
    q = await stream_query(api, stream, MultiDict())
    q.base.until = _time_param(params, "ts")
    await api.run(api.desk.mark_matching, q)
    return PlainTextResponse("OK")


def routes(api: ApiState) -> list[BaseRoute]:
    return TABLE.routes(api)

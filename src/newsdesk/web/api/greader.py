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
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.datastructures import MultiDict
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from newsdesk.errors import AlreadySubscribedError, NewsdeskError
from newsdesk.model import Feed, StoredEntry
from newsdesk.process.urls import is_web_url
from newsdesk.store import EntryQuery, labels
from newsdesk.store import sync as sync_store
from newsdesk.store.users import User
from newsdesk.web.api.access import google_mac, google_token, google_user, password_user
from newsdesk.web.api.errors import ApiError, BadRequest, NotFound, endpoint
from newsdesk.web.api.greader_atom import render_atom
from newsdesk.web.api.inputs import read_body, read_params
from newsdesk.web.api.state import ApiState
from newsdesk.web.api.titles import entry_title

LONG_PREFIX = "tag:google.com,2005:reader/item/"
READING_LIST = "user/-/state/com.google/reading-list"
STATE_READ = "user/-/state/com.google/read"
STATE_STARRED = "user/-/state/com.google/starred"
STATE_KEPT_UNREAD = "user/-/state/com.google/kept-unread"
LABEL_PREFIX = "user/-/label/"
_USER_STREAM = re.compile(r"^user/[^/]*/(state/com\.google|label)/(.+)$")
_HEX16 = re.compile(r"^[0-9a-fA-F]{16}$")
MAX_CONTENTS = 1000
MAX_IDS = 10_000


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    if status == 401:
        # As Google did and FreshRSS does: clients read this header as "log in again".
        message = "Unauthorized"
        headers = {**(headers or {}), "Google-Bad-Token": "true"}
    return PlainTextResponse(message, status_code=status, headers=headers)


def long_id(entry_id: int) -> str:
    return f"{LONG_PREFIX}{entry_id:016x}"


def parse_item_id(raw: str) -> int:
    """An item id in any of the forms clients send; 400 for anything else."""
    value = raw.strip()
    if value.startswith(LONG_PREFIX):
        hex_part = value[len(LONG_PREFIX) :]
        if not _HEX16.match(hex_part) and not re.fullmatch(r"[0-9a-fA-F]{1,16}", hex_part):
            raise BadRequest(f"not an item id: {raw[:80]!r}")
        number = int(hex_part, 16)
    elif value.isdigit() and len(value) <= 19:
        number = int(value)
    elif _HEX16.match(value):
        number = int(value, 16)
    elif value.startswith("-") and value[1:].isdigit() and len(value) <= 20:
        # Java clients send ids above 2^63 as negative numbers.
        number = int(value) + 2**64
    else:
        raise BadRequest(f"not an item id: {raw[:80]!r}")
    if not 0 < number < 2**63:
        raise BadRequest(f"not an item id: {raw[:80]!r}")
    return number


def normalize_stream(stream: str) -> str:
    """``user/1/state/…`` and ``user/-/state/…`` are the same stream."""
    match = _USER_STREAM.match(stream.strip())
    if match:
        kind, name = match.groups()
        return f"user/-/{kind}/{name}"
    return stream.strip()


def _usec(value: datetime) -> str:
    return str(int(value.timestamp() * 1_000_000))


def item_json(entry: StoredEntry, feed: Feed | None, labels: Sequence[str] = ()) -> dict[str, Any]:
    categories = [READING_LIST]
    if entry.read:
        categories.append(STATE_READ)
    if entry.starred:
        categories.append(STATE_STARRED)
    if entry.category:
        categories.append(LABEL_PREFIX + entry.category)
    categories.extend(LABEL_PREFIX + label for label in labels)
    content = {"direction": "ltr", "content": entry.content_html}
    links = [{"href": entry.url}] if entry.url else []
    return {
        "id": long_id(entry.id),
        "crawlTimeMsec": str(int(entry.first_seen.timestamp() * 1000)),
        "timestampUsec": _usec(entry.published),
        "published": int(entry.published.timestamp()),
        "updated": int((entry.updated or entry.published).timestamp()),
        "title": entry_title(entry),
        "author": entry.author or "",
        "canonical": links,
        "alternate": [{"href": entry.url, "type": "text/html"}] if entry.url else [],
        "categories": categories,
        "origin": {
            "streamId": f"feed/{entry.feed_id}",
            "title": feed.display_title if feed else (entry.feed_title or ""),
            "htmlUrl": (feed.site_url or feed.url) if feed else "",
        },
        "summary": content,
        "content": content,
        "enclosure": [
            {"href": e.url, "type": e.type or "", **({"length": e.length} if e.length else {})}
            for e in entry.enclosures
        ],
    }


def subscription_json(feed: Feed, icon_url: str = "") -> dict[str, Any]:
    categories = (
        [{"id": LABEL_PREFIX + feed.category, "label": feed.category}] if feed.category else []
    )
    return {
        "id": f"feed/{feed.id}",
        "title": feed.display_title,
        "categories": categories,
        "url": feed.url,
        "htmlUrl": feed.site_url or feed.url,
        "iconUrl": icon_url,
        "sortid": f"{feed.id:08X}",
        "firstitemmsec": str(int(feed.created_at.timestamp() * 1000)) if feed.created_at else "0",
    }


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


def _newest(*values: datetime | None) -> datetime | None:
    return max((v for v in values if v is not None), default=None)


def _count(stream: str, count: int, newest: datetime | None) -> dict[str, Any]:
    return {
        "id": stream,
        "count": count,
        "newestItemTimestampUsec": _usec(newest) if newest else "0",
    }


def unread_counts(
    feeds: list[Feed],
    counts: dict[int, sync_store.FeedCount],
    label_counts: Sequence[labels.LabelCount] = (),
) -> dict[str, Any]:
    """``unread-count``: every feed (one without entries too, at 0), every category, every
    user label, then the reading list."""
    out: list[dict[str, Any]] = []
    folders: dict[str, tuple[int, datetime | None]] = {}
    total, newest_all = 0, None
    for feed in feeds:
        found = counts.get(feed.id)
        unread, newest = (found.unread, found.newest) if found else (0, None)
        out.append(_count(f"feed/{feed.id}", unread, newest))
        total += unread
        newest_all = _newest(newest_all, newest)
        if feed.category:
            seen, latest = folders.get(feed.category, (0, None))
            folders[feed.category] = (seen + unread, _newest(latest, newest))
    out.extend(_count(LABEL_PREFIX + name, n, t) for name, (n, t) in folders.items())
    out.extend(
        _count(LABEL_PREFIX + c.name, c.unread, c.newest)
        for c in label_counts
        if c.name not in folders
    )
    out.append(_count(READING_LIST, total, newest_all))
    return {"max": total, "unreadcounts": out}


def routes(api: ApiState) -> list[BaseRoute]:
    from newsdesk.web.api import greader_tags

    handle = endpoint(error)

    def lookups() -> tuple[dict[int, Feed], dict[str, int]]:
        feeds = {f.id: f for f in api.store.list_feeds()}
        labels = {title: cid for cid, title, _ in api.store.categories()}
        return feeds, labels

    async def stream_query(stream: str, params: MultiDict) -> sync_store.SyncQuery:
        """The entries a stream id names, with the ot/nt/xt/it filters applied."""
        stream = normalize_stream(stream)
        base = EntryQuery()
        q = sync_store.SyncQuery(base=base, descending=params.get("r") != "o")
        if stream.startswith("feed/"):
            ref = stream[len("feed/") :]
            feeds, _ = await api.run(lookups)
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
            _, labels = await api.run(lookups)
            if label in labels:
                q.category_id = labels[label]
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
        q: sync_store.SyncQuery, params: MultiDict, count: int
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

    def page(q: sync_store.SyncQuery, params: MultiDict, count: int) -> Page:
        ids, token = positions(q, params, count)
        found = api.store.sync.entries_by_ids(ids)
        feeds = {f.id: f for f in api.store.list_feeds({e.feed_id for e in found})}
        return Page(found, feeds, api.store.labels.labels_of(ids), token)

    # -- login --------------------------------------------------------------------------------

    @handle
    async def client_login(request: Request) -> Response:
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

    async def user_of(request: Request) -> User:
        return await google_user(api, request)

    @handle
    async def action_token(request: Request) -> Response:
        user = await user_of(request)
        mac = await api.run(google_mac, api, user, "google-reader-action")
        return PlainTextResponse(mac[:57])

    @handle
    async def user_info(request: Request) -> Response:
        user = await user_of(request)
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

    # -- subscriptions and tags ---------------------------------------------------------------

    @handle
    async def subscription_list(request: Request) -> Response:
        await user_of(request)
        feeds = await api.run(api.store.list_feeds)
        # Our own /icon/ route, public but unguessable: clients fetch iconUrl without a token.
        links = api.icon_links
        refs = await api.run(api.store.icons.feed_icon_refs)
        base = str(request.base_url).rstrip("/")

        def icon_url(feed: Feed) -> str:
            ref = refs.get(feed.id)
            return base + links.path(ref) if ref is not None else ""

        return JSONResponse({"subscriptions": [subscription_json(f, icon_url(f)) for f in feeds]})

    async def subscribe(url: str, title: str | None, category: str | None) -> tuple[Feed, str]:
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
        api.jobs.start([feed.id])
        return feed, feed.display_title

    async def feed_for_stream(stream: str) -> Feed:
        ref = stream[len("feed/") :] if stream.startswith("feed/") else ""
        feeds = await api.run(api.store.list_feeds)
        for feed in feeds:
            if (ref.isdigit() and feed.id == int(ref)) or ref in (feed.url, feed.moved_from):
                return feed
        raise NotFound(f"no such subscription: {stream[:200]}")

    def label_of(values: list[str]) -> str | None:
        for value in values:
            value = normalize_stream(value)
            if value.startswith(LABEL_PREFIX) and value[len(LABEL_PREFIX) :].strip():
                return value[len(LABEL_PREFIX) :].strip()
        return None

    @handle
    async def subscription_edit(request: Request) -> Response:
        await user_of(request)
        params = await read_params(request)
        action = params.get("ac") or "edit"
        streams = params.getlist("s")
        if not streams:
            raise BadRequest("s (the feed/… stream id) is required")
        title = (params.get("t") or "").strip() or None
        add_label = label_of(params.getlist("a"))
        remove_label = label_of(params.getlist("r"))
        for stream in streams:
            if action == "subscribe":
                url = stream[len("feed/") :] if stream.startswith("feed/") else stream
                await subscribe(url, title, add_label)
            elif action == "unsubscribe":
                feed = await feed_for_stream(stream)
                await api.run(api.store.remove_feed, feed.id)
            elif action == "edit":
                feed = await feed_for_stream(stream)
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

    @handle
    async def quickadd(request: Request) -> Response:
        await user_of(request)
        params = await read_params(request)
        url = (params.get("quickadd") or "").strip()
        if url.startswith("feed/"):
            url = url[len("feed/") :]
        try:
            if not url:
                raise BadRequest("quickadd (the URL to subscribe to) is required")
            feed, name = await subscribe(url, None, None)
        except ApiError as exc:
            # Clients read a failed quickadd from the body, as FreshRSS answers it.
            return JSONResponse({"numResults": 0, "error": exc.message})
        except NewsdeskError as exc:
            return JSONResponse({"numResults": 0, "error": str(exc)})
        return JSONResponse(
            {
                "numResults": 1,
                "query": feed.url,
                "streamId": f"feed/{feed.id}",
                "streamName": name,
            }
        )

    @handle
    async def unread_count(request: Request) -> Response:
        await user_of(request)

        def build() -> dict[str, Any]:
            return unread_counts(
                api.store.list_feeds(),
                api.store.sync.feed_counts(),
                api.store.labels.label_counts(),
            )

        return JSONResponse(await api.run(build))

    # -- streams ------------------------------------------------------------------------------

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

    @handle
    async def stream_contents(request: Request) -> Response:
        await user_of(request)
        params = await read_params(request)
        stream = str(request.path_params.get("stream") or params.get("s") or READING_LIST)
        q = await stream_query(stream, params)
        count = _int_param(params, "n", 20, MAX_CONTENTS) or 20
        found = await api.run(page, q, params, count)
        return JSONResponse(stream_answer(stream, found))

    @handle
    async def stream_atom(request: Request) -> Response:
        await user_of(request)
        params = await read_params(request)
        stream = str(request.path_params.get("stream") or READING_LIST)
        q = await stream_query(stream, params)
        count = _int_param(params, "n", 20, MAX_CONTENTS) or 20
        found = await api.run(page, q, params, count)
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

    @handle
    async def stream_ids(request: Request) -> Response:
        await user_of(request)
        params = await read_params(request)
        stream = params.get("s") or READING_LIST
        q = await stream_query(stream, params)
        count = _int_param(params, "n", 20, MAX_IDS) or 20
        ids, token = await api.run(positions, q, params, count)
        answer: dict[str, Any] = {"itemRefs": [{"id": str(i), "directStreamIds": []} for i in ids]}
        if token:
            answer["continuation"] = token
        return JSONResponse(answer)

    @handle
    async def items_contents(request: Request) -> Response:
        await user_of(request)
        params = await read_params(request)
        raw_ids = params.getlist("i")
        if not raw_ids:
            raise BadRequest("i (one or more item ids) is required")
        if len(raw_ids) > MAX_CONTENTS:
            raise BadRequest(f"at most {MAX_CONTENTS} items at once")
        ids = [parse_item_id(i) for i in raw_ids]

        def build() -> Page:
            found = api.store.sync.entries_by_ids(ids)
            feeds = {f.id: f for f in api.store.list_feeds({e.feed_id for e in found})}
            return Page(found, feeds, api.store.labels.labels_of(ids), None)

        return JSONResponse(stream_answer(READING_LIST, await api.run(build)))

    @handle
    async def mark_all_read(request: Request) -> Response:
        await user_of(request)
        params = await read_params(request)
        stream = params.get("s")
        if not stream:
            raise BadRequest("s (the stream to mark read) is required")
        q = await stream_query(stream, MultiDict())
        q.base.until = _time_param(params, "ts")
        await api.run(api.store.sync.mark_read, q)
        return PlainTextResponse("OK")

    @handle
    async def subscription_export(request: Request) -> Response:
        await user_of(request)
        body = await api.run(api.desk.export_opml)
        return Response(body, media_type="text/xml; charset=utf-8")

    @handle
    async def subscription_import(request: Request) -> Response:
        await user_of(request)
        body = await read_body(request, 20 * 1024 * 1024)
        try:
            report = await api.run(api.desk.import_opml, body)
        except NewsdeskError as exc:
            raise BadRequest(str(exc)) from None
        return PlainTextResponse(f"OK: {len(report.added)} feeds imported")

    both = ["GET", "POST"]
    prefix = "/reader/api/0"
    return [
        *greader_tags.routes(api, handle, user_of),
        Route("/accounts/ClientLogin", client_login, methods=both),
        Route(f"{prefix}/token", action_token, methods=both),
        Route(f"{prefix}/user-info", user_info, methods=both),
        Route(f"{prefix}/subscription/list", subscription_list, methods=both),
        Route(f"{prefix}/subscription/edit", subscription_edit, methods=["POST"]),
        Route(f"{prefix}/subscription/quickadd", quickadd, methods=["POST"]),
        Route(f"{prefix}/subscription/export", subscription_export, methods=["GET"]),
        Route(f"{prefix}/subscription/import", subscription_import, methods=["POST"]),
        Route(f"{prefix}/unread-count", unread_count, methods=both),
        Route(f"{prefix}/stream/contents", stream_contents, methods=both),
        Route(f"{prefix}/stream/contents/{{stream:path}}", stream_contents, methods=both),
        Route(f"{prefix}/stream/items/ids", stream_ids, methods=both),
        Route("/reader/atom/{stream:path}", stream_atom, methods=["GET"]),
        Route(f"{prefix}/stream/items/contents", items_contents, methods=both),
        Route(f"{prefix}/mark-all-as-read", mark_all_read, methods=["POST"]),
    ]

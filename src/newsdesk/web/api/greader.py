"""The Google Reader API as FreshRSS and Miniflux serve it (``/accounts/ClientLogin`` and
``/reader/api/0/…``), for Reeder, NetNewsWire, FeedMe, Read You, newsboat and others, plus
Google Reader's Atom stream ``/reader/atom/STREAM`` (as FeedHQ served it; ``greader_atom``).

Streams: ``feed/ID`` (or ``feed/URL``), ``user/-/state/com.google/reading-list``, ``…/starred``,
``…/read``, ``…/kept-unread``, ``user/-/label/NAME`` (a category, else an entry tag). Item ids
are accepted in the long form ``tag:google.com,2005:reader/item/<16 hex>``, as 16 hex digits,
and in the decimal short form; answers use the long form (and decimal in ``itemRefs``).
Authentication is the ``Authorization: GoogleLogin auth=…`` header (a ClientLogin token or an
API key); the ``T`` action token is handed out for clients that send it, and not required, since
header authentication cannot be forged by another web page.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import MultiDict
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from newsdesk.errors import NewsdeskError
from newsdesk.model import Feed, StoredEntry
from newsdesk.process.urls import is_web_url
from newsdesk.store import EntryQuery
from newsdesk.store import sync as sync_store
from newsdesk.store.icons import feed_icon_refs
from newsdesk.store.users import User
from newsdesk.web.api.access import google_mac, google_token, google_user, password_user
from newsdesk.web.api.errors import BadRequest, NotFound, endpoint
from newsdesk.web.api.greader_atom import render_atom
from newsdesk.web.api.inputs import read_body, read_params
from newsdesk.web.api.state import ApiState
from newsdesk.web.icons import icon_links

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
        message = "Unauthorized"
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


def item_json(entry: StoredEntry, feed: Feed | None) -> dict[str, Any]:
    categories = [READING_LIST]
    if entry.read:
        categories.append(STATE_READ)
    if entry.starred:
        categories.append(STATE_STARRED)
    if entry.category:
        categories.append(LABEL_PREFIX + entry.category)
    content = {"direction": "ltr", "content": entry.content_html}
    links = [{"href": entry.url}] if entry.url else []
    return {
        "id": long_id(entry.id),
        "crawlTimeMsec": str(int(entry.first_seen.timestamp() * 1000)),
        "timestampUsec": _usec(entry.published),
        "published": int(entry.published.timestamp()),
        "updated": int((entry.updated or entry.published).timestamp()),
        "title": entry.title or "",
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


def routes(api: ApiState) -> list[BaseRoute]:
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
                base.tag = label
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

    def continuation(params: MultiDict) -> int:
        raw = params.get("c") or "0"
        if not raw.isdigit() or len(raw) > 12:
            raise BadRequest("c is not a continuation this server gave")
        return int(raw)

    def page(
        q: sync_store.SyncQuery, count: int, offset: int
    ) -> tuple[list[StoredEntry], dict[int, Feed], bool]:
        found = sync_store.list_entries(api.store, q, count + 1, offset)
        feeds = {f.id: f for f in api.store.list_feeds({e.feed_id for e in found})}
        return found[:count], feeds, len(found) > count

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
        links = icon_links(api.extras, api.engine)
        refs = await api.run(feed_icon_refs, api.engine)
        base = str(request.base_url).rstrip("/")

        def icon_url(feed: Feed) -> str:
            ref = refs.get(feed.id)
            return base + links.path(ref) if ref is not None else ""

        return JSONResponse({"subscriptions": [subscription_json(f, icon_url(f)) for f in feeds]})

    async def subscribe(url: str, title: str | None, category: str | None) -> Feed:
        if not is_web_url(url):
            raise BadRequest("subscribe to an http(s) URL: feed/https://…")
        feed_url, _ = await api.desk.find_feed_url(url)
        known = {f.url: f for f in await api.run(api.store.list_feeds)}
        if feed_url in known:
            return known[feed_url]
        feed = await api.run(api.store.add_feed, feed_url, title=title, category=category)
        api.jobs.start([feed.id])
        return feed

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
        if not url:
            raise BadRequest("quickadd (the URL to subscribe to) is required")
        feed = await subscribe(url, None, None)
        return JSONResponse(
            {
                "numResults": 1,
                "query": feed.url,
                "streamId": f"feed/{feed.id}",
                "streamName": feed.display_title,
            }
        )

    @handle
    async def tag_list(request: Request) -> Response:
        await user_of(request)
        rows = await api.run(api.store.categories)
        tags: list[dict[str, Any]] = [{"id": STATE_STARRED}]
        tags.extend({"id": LABEL_PREFIX + title, "type": "folder"} for _, title, _ in rows)
        return JSONResponse({"tags": tags})

    @handle
    async def unread_count(request: Request) -> Response:
        await user_of(request)

        def build() -> dict[str, Any]:
            counts = sync_store.feed_counts(api.store)
            feeds = api.store.list_feeds()
            out: list[dict[str, Any]] = []
            labels: dict[str, tuple[int, datetime | None]] = {}
            total = 0
            newest_all: datetime | None = None
            for feed in feeds:
                count = counts.get(feed.id)
                if count is None:
                    continue
                total += count.unread
                newest = count.newest
                out.append(
                    {
                        "id": f"feed/{feed.id}",
                        "count": count.unread,
                        "newestItemTimestampUsec": _usec(newest) if newest else "0",
                    }
                )
                if newest and (newest_all is None or newest > newest_all):
                    newest_all = newest
                if feed.category:
                    seen, latest = labels.get(feed.category, (0, None))
                    if newest and (latest is None or newest > latest):
                        latest = newest
                    labels[feed.category] = (seen + count.unread, latest)
            for label, (count_n, latest) in labels.items():
                out.append(
                    {
                        "id": LABEL_PREFIX + label,
                        "count": count_n,
                        "newestItemTimestampUsec": _usec(latest) if latest else "0",
                    }
                )
            out.append(
                {
                    "id": READING_LIST,
                    "count": total,
                    "newestItemTimestampUsec": _usec(newest_all) if newest_all else "0",
                }
            )
            return {"max": total, "unreadcounts": out}

        return JSONResponse(await api.run(build))

    # -- streams ------------------------------------------------------------------------------

    def stream_answer(
        stream: str, found: list[StoredEntry], feeds: dict[int, Feed], more: bool, next_c: int
    ) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "direction": "ltr",
            "id": stream,
            "title": stream,
            "updated": int(datetime.now(UTC).timestamp()),
            "items": [item_json(e, feeds.get(e.feed_id)) for e in found],
        }
        if more:
            answer["continuation"] = str(next_c)
        return answer

    @handle
    async def stream_contents(request: Request) -> Response:
        await user_of(request)
        params = await read_params(request)
        stream = str(request.path_params.get("stream") or params.get("s") or READING_LIST)
        q = await stream_query(stream, params)
        count = _int_param(params, "n", 20, MAX_CONTENTS) or 20
        offset = continuation(params)
        found, feeds, more = await api.run(page, q, count, offset)
        return JSONResponse(stream_answer(stream, found, feeds, more, offset + count))

    @handle
    async def stream_atom(request: Request) -> Response:
        await user_of(request)
        params = await read_params(request)
        stream = str(request.path_params.get("stream") or READING_LIST)
        q = await stream_query(stream, params)
        count = _int_param(params, "n", 20, MAX_CONTENTS) or 20
        offset = continuation(params)
        found, feeds, more = await api.run(page, q, count, offset)
        title, site = stream, None
        if q.base.feed_id is not None:
            feed = (
                feeds.get(q.base.feed_id)
                or (await api.run(api.store.list_feeds, [q.base.feed_id]))[0]
            )
            title, site = feed.display_title, feed.site_url or feed.url
        body = render_atom(
            normalize_stream(stream),
            title,
            [(e, long_id(e.id)) for e in found],
            feeds,
            str(offset + count) if more else None,
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
        offset = continuation(params)
        ids = await api.run(sync_store.entry_ids, api.store, q, count + 1, offset)
        answer: dict[str, Any] = {
            "itemRefs": [{"id": str(i), "directStreamIds": []} for i in ids[:count]]
        }
        if len(ids) > count:
            answer["continuation"] = str(offset + count)
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

        def build() -> tuple[list[StoredEntry], dict[int, Feed]]:
            found = sync_store.entries_by_ids(api.store, ids)
            feeds = {f.id: f for f in api.store.list_feeds({e.feed_id for e in found})}
            return found, feeds

        found, feeds = await api.run(build)
        return JSONResponse(stream_answer(READING_LIST, found, feeds, False, 0))

    @handle
    async def edit_tag(request: Request) -> Response:
        await user_of(request)
        params = await read_params(request)
        raw_ids = params.getlist("i")
        if not raw_ids:
            raise BadRequest("i (one or more item ids) is required")
        if len(raw_ids) > MAX_IDS:
            raise BadRequest(f"at most {MAX_IDS} items at once")
        ids = [parse_item_id(i) for i in raw_ids]
        read: bool | None = None
        starred: bool | None = None
        for tag in (normalize_stream(t) for t in params.getlist("a")):
            if tag == STATE_READ:
                read = True
            elif tag == STATE_KEPT_UNREAD:
                read = False
            elif tag == STATE_STARRED:
                starred = True
        for tag in (normalize_stream(t) for t in params.getlist("r")):
            if tag == STATE_READ and read is None:
                read = False
            elif tag == STATE_KEPT_UNREAD and read is None:
                read = True
            elif tag == STATE_STARRED:
                starred = False
        if read is not None or starred is not None:
            await api.run(api.store.set_flags, ids, read=read, starred=starred)
        return PlainTextResponse("OK")

    @handle
    async def mark_all_read(request: Request) -> Response:
        await user_of(request)
        params = await read_params(request)
        stream = params.get("s")
        if not stream:
            raise BadRequest("s (the stream to mark read) is required")
        q = await stream_query(stream, MultiDict())
        q.base.until = _time_param(params, "ts")
        await api.run(sync_store.mark_read, api.store, q)
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
        Route("/accounts/ClientLogin", client_login, methods=both),
        Route(f"{prefix}/token", action_token, methods=both),
        Route(f"{prefix}/user-info", user_info, methods=both),
        Route(f"{prefix}/subscription/list", subscription_list, methods=both),
        Route(f"{prefix}/subscription/edit", subscription_edit, methods=["POST"]),
        Route(f"{prefix}/subscription/quickadd", quickadd, methods=["POST"]),
        Route(f"{prefix}/subscription/export", subscription_export, methods=["GET"]),
        Route(f"{prefix}/subscription/import", subscription_import, methods=["POST"]),
        Route(f"{prefix}/tag/list", tag_list, methods=both),
        Route(f"{prefix}/unread-count", unread_count, methods=both),
        Route(f"{prefix}/stream/contents", stream_contents, methods=both),
        Route(f"{prefix}/stream/contents/{{stream:path}}", stream_contents, methods=both),
        Route(f"{prefix}/stream/items/ids", stream_ids, methods=both),
        Route("/reader/atom/{stream:path}", stream_atom, methods=["GET"]),
        Route(f"{prefix}/stream/items/contents", items_contents, methods=both),
        Route(f"{prefix}/edit-tag", edit_tag, methods=["POST"]),
        Route(f"{prefix}/mark-all-as-read", mark_all_read, methods=["POST"]),
    ]

"""Newsdesk's own REST API under ``/api/``: subscriptions, categories, entries with every
filter the desk knows, entry state in bulk, related entries, digests, OPML, refresh jobs with
progress, and API keys; stories, entities, timelines and watchlists are in ``web.api.intel``,
listed with these routes. Described by the OpenAPI document at ``/api/openapi.json`` (see
``web.api.openapi``) and browsable at ``/api/docs``.

Authentication: an API key as ``Authorization: Bearer KEY`` or ``X-Auth-Token: KEY`` (or HTTP
Basic with the reading room's user name and password). Errors are
``{"error": {"status": N, "message": "…"}}``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from newsdesk import __version__
from newsdesk.desk import parse_since
from newsdesk.errors import AlreadySubscribedError, NewsdeskError
from newsdesk.model import Feed, StoredEntry
from newsdesk.process.urls import is_web_url
from newsdesk.publish.digest import DIGEST_FORMATS, group_dict
from newsdesk.store import EntryQuery
from newsdesk.store import sync as sync_store
from newsdesk.web.api import openapi
from newsdesk.web.api.access import require_user
from newsdesk.web.api.errors import ApiError, BadRequest, NotFound, endpoint, json_error
from newsdesk.web.api.inputs import (
    bool_field,
    id_list,
    int_field,
    query_bool,
    query_int,
    read_body,
    read_json_object,
    str_field,
)
from newsdesk.web.api.inputs import path_id as any_path_id
from newsdesk.web.api.state import ApiState
from newsdesk.web.jobs import RefreshJob

MAX_LIMIT = 500
# Ids are 32-bit integers in the store (PostgreSQL refuses to compare a larger number with one).
MAX_ID = 2**31 - 1


def feed_json(feed: Feed, unread: int = 0, total: int = 0) -> dict[str, Any]:
    data = feed.as_dict()
    data.update(
        category_id=feed.category_id,
        custom_title=feed.custom_title,
        check_interval=feed.check_interval,
        entries_per_day=feed.entries_per_day,
        unread=unread,
        entries=total,
    )
    return data


def job_json(job: RefreshJob) -> dict[str, Any]:
    status = "running" if not job.finished else ("failed" if job.failure else "done")
    return {
        "id": job.id,
        "status": status,
        "stage": job.stage,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "feed_ids": job.feed_ids,
        "summary": job.summary or None,
        "new_entries": job.new_entries,
        "errors": [{"feed": feed, "error": message} for feed, message in job.errors],
        "failure": job.failure,
        "url": f"/api/refresh/{job.id}",
    }


def path_id(request: Request, name: str) -> int:
    """A store id from the URL path; anything else, a number too large for the store included,
    is a 404 (PostgreSQL would refuse to compare it with a 32-bit id column)."""
    value = any_path_id(request, name)
    if value > MAX_ID:
        raise NotFound()
    return value


def _text(value: str | None, name: str, limit: int = 300) -> str | None:
    if value is None:
        return None
    if len(value) > limit:
        raise BadRequest(f"{name} is longer than {limit} characters")
    return value


def entry_query(request: Request) -> tuple[EntryQuery, str | None]:
    """The filters of ``GET /api/entries`` (and the digest) as an ``EntryQuery`` and the search
    words, or a 400 naming the bad parameter."""
    params = request.query_params
    query = EntryQuery(
        category=_text(params.get("category") or None, "category"),
        tag=_text(params.get("tag") or None, "tag", 100),
        limit=query_int(request, "limit", 50, minimum=1, maximum=MAX_LIMIT) or 50,
        offset=query_int(request, "offset", 0, maximum=10**9) or 0,
    )
    query.feed_id = query_int(request, "feed", None, minimum=1, maximum=MAX_ID)
    query.story_id = query_int(request, "story_id", None, minimum=1, maximum=MAX_ID)
    query.entity_id = query_int(request, "entity_id", None, minimum=1, maximum=MAX_ID)
    kind = params.get("kind") or None
    if kind is not None and kind not in {"post", "article"}:
        raise BadRequest("kind must be post or article")
    query.kind = kind
    status = params.get("status") or "all"
    if status not in {"read", "unread", "all"}:
        raise BadRequest("status must be read, unread or all")
    query.read = None if status == "all" else status == "read"
    query.starred = query_bool(request, "starred")
    order = params.get("order") or "newest"
    if order not in {"newest", "oldest"}:
        raise BadRequest("order must be newest or oldest")
    query.oldest_first = order == "oldest"
    try:
        if since := params.get("since"):
            query.since = parse_since(since[:100])
        if before := params.get("before"):
            query.until = parse_since(before[:100])
    except NewsdeskError as exc:
        raise BadRequest(str(exc)) from None
    search = (params.get("search") or "").strip() or None
    return query, _text(search, "search", 500)


def entry_page(
    api: ApiState, query: EntryQuery, search: str | None, group_stories: bool = False
) -> dict[str, Any]:
    """One page of entries matching ``query`` (and the search words): the body of
    ``GET /api/entries`` and of the other lists of entries (an entity's). With
    ``group_stories``, a story's other entries on the page come in ``story_entries`` of its
    first. Blocking: run it through ``api.run``."""
    if search:
        found = api.store.search(search, query)
        total = api.store.sync.count_entries(sync_store.SyncQuery(base=query, search=search))
    else:
        found = api.store.list_entries(query)
        total = api.store.sync.count_entries(sync_store.SyncQuery(base=query))
    return {
        "total": total,
        "limit": query.limit,
        "offset": query.offset,
        "entries": (
            [group_dict(g, True) for g in api.desk.story_groups(found, lead_first=False)]
            if group_stories
            else [e.as_dict() for e in found]
        ),
    }


def routes(api: ApiState) -> list[BaseRoute]:
    # Stories, entities, timelines and watchlists live in their own module, listed with these
    # routes so that the /api/ fallback and the OpenAPI check see one set.
    from newsdesk.web.api import intel

    handle = endpoint(json_error)

    async def auth(request: Request) -> None:
        await require_user(api, request)

    async def feed_of(feed_id: int) -> Feed:
        found = await api.run(api.store.list_feeds, [feed_id])
        if not found:
            raise NotFound(f"no subscription with id {feed_id}")
        return found[0]

    async def entry_of(entry_id: int) -> StoredEntry:
        found = await api.run(api.store.sync.entries_by_ids, [entry_id])
        if not found:
            raise NotFound(f"no entry with id {entry_id}")
        return found[0]

    # -- documents --------------------------------------------------------------------------

    @handle
    async def index(request: Request) -> Response:
        return JSONResponse(
            {
                "name": "Newsdesk API",
                "version": __version__,
                "openapi": "/api/openapi.json",
                "docs": "/api/docs",
                "compatible": {
                    "miniflux": "/v1/",
                    "google_reader": "/reader/api/0/",
                    "fever": "/fever/",
                },
            }
        )

    @handle
    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi.document())

    @handle
    async def docs(request: Request) -> Response:
        return HTMLResponse(
            openapi.docs_page(openapi.document()),
            # The page is self-contained: its one stylesheet is inline, it runs no script.
            headers={"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'"},
        )

    # -- subscriptions ------------------------------------------------------------------------

    def feeds_with_counts(ids: list[int] | None = None) -> list[dict[str, Any]]:
        counts = api.store.sync.feed_counts()
        out = []
        for feed in api.store.list_feeds(ids):
            count = counts.get(feed.id)
            out.append(
                feed_json(
                    feed, count.unread if count else 0, (count.read + count.unread) if count else 0
                )
            )
        return out

    @handle
    async def subscriptions(request: Request) -> Response:
        await auth(request)
        return JSONResponse(await api.run(feeds_with_counts))

    @handle
    async def subscription(request: Request) -> Response:
        await auth(request)
        feed_id = path_id(request, "feed_id")
        found = await api.run(feeds_with_counts, [feed_id])
        if not found:
            raise NotFound(f"no subscription with id {feed_id}")
        return JSONResponse(found[0])

    @handle
    async def subscribe(request: Request) -> Response:
        await auth(request)
        data = await read_json_object(request)
        url = (str_field(data, "url", required=True) or "").strip()
        if not is_web_url(url):
            raise BadRequest("url must be an http(s) URL")
        title = _text(str_field(data, "title"), "title", 1000)
        category = _text(str_field(data, "category"), "category")
        check = bool_field(data, "check")
        try:
            feed = await api.desk.subscribe(
                url, title=title or None, category=category or None, check=check is not False
            )
        except AlreadySubscribedError as exc:
            raise ApiError(409, str(exc)) from None
        return JSONResponse(feed_json(feed), status_code=201)

    @handle
    async def update_subscription(request: Request) -> Response:
        await auth(request)
        feed_id = path_id(request, "feed_id")
        await feed_of(feed_id)
        data = await read_json_object(request)
        unknown = set(data) - {"title", "category", "paused", "check_interval"}
        if unknown:
            raise BadRequest(f"unknown fields: {', '.join(sorted(unknown))[:200]}")
        changes: dict[str, Any] = {}
        if "title" in data:
            changes["custom_title"] = _text(str_field(data, "title"), "title", 1000) or None
        if "category" in data:
            changes["category"] = _text(str_field(data, "category"), "category") or None
        paused = bool_field(data, "paused")
        if paused is not None:
            changes["paused"] = paused
            changes["paused_reason"] = "paused through the API" if paused else None
            if not paused:
                changes.update(error_count=0, error_since=None, next_check=None)
        if "check_interval" in data:
            interval = int_field(data, "check_interval")
            if interval is not None and not 60 <= interval <= 30 * 86400:
                raise BadRequest("check_interval is seconds, from 60 to 2592000 (or null)")
            changes["check_interval"] = interval
        feed = await api.run(api.store.update_feed, feed_id, **changes)
        return JSONResponse(feed_json(feed))

    @handle
    async def unsubscribe(request: Request) -> Response:
        await auth(request)
        feed_id = path_id(request, "feed_id")
        await feed_of(feed_id)
        await api.run(api.store.remove_feed, feed_id)
        return Response(status_code=204)

    # -- categories -------------------------------------------------------------------------

    @handle
    async def categories(request: Request) -> Response:
        await auth(request)

        def build() -> list[dict[str, Any]]:
            counts = api.store.sync.feed_counts()
            unread: dict[int, int] = {}
            for feed in api.store.list_feeds():
                if feed.category_id is not None and feed.id in counts:
                    unread[feed.category_id] = (
                        unread.get(feed.category_id, 0) + counts[feed.id].unread
                    )
            return [
                {"id": cid, "title": title, "feeds": n, "unread": unread.get(cid, 0)}
                for cid, title, n in api.store.categories()
            ]

        return JSONResponse(await api.run(build))

    # -- entries ------------------------------------------------------------------------------

    @handle
    async def entries(request: Request) -> Response:
        await auth(request)
        query, search = entry_query(request)
        group = request.query_params.get("group") or None
        if group not in (None, "story"):
            raise BadRequest("group must be story")
        return JSONResponse(await api.run(entry_page, api, query, search, group == "story"))

    @handle
    async def entry(request: Request) -> Response:
        await auth(request)
        return JSONResponse((await entry_of(path_id(request, "entry_id"))).as_dict())

    @handle
    async def update_entry(request: Request) -> Response:
        await auth(request)
        entry_id = path_id(request, "entry_id")
        await entry_of(entry_id)
        data = await read_json_object(request)
        unknown = set(data) - {"read", "starred"}
        if unknown:
            raise BadRequest(f"unknown fields: {', '.join(sorted(unknown))[:200]}")
        read, starred = bool_field(data, "read"), bool_field(data, "starred")
        if read is None and starred is None:
            raise BadRequest("send read and/or starred (true or false)")
        await api.run(api.store.set_flags, [entry_id], read=read, starred=starred)
        return JSONResponse((await entry_of(entry_id)).as_dict())

    @handle
    async def entries_state(request: Request) -> Response:
        await auth(request)
        data = await read_json_object(request)
        unknown = set(data) - {"ids", "read", "starred", "feed", "category", "before"}
        if unknown:
            raise BadRequest(f"unknown fields: {', '.join(sorted(unknown))[:200]}")
        read, starred = bool_field(data, "read"), bool_field(data, "starred")
        if read is None and starred is None:
            raise BadRequest("send read and/or starred (true or false)")
        if "ids" in data:
            if {"feed", "category", "before"} & set(data):
                raise BadRequest("give either ids or feed/category/before, not both")
            ids = id_list(data, "ids")
            changed = await api.run(api.store.set_flags, ids, read=read, starred=starred)
            return JSONResponse({"updated": changed})
        if starred is not None:
            raise BadRequest("starred needs ids; feed/category/before mark entries read only")
        assert read is not None
        base = EntryQuery(feed_id=int_field(data, "feed"))
        base.category = _text(str_field(data, "category"), "category")
        before = str_field(data, "before")
        if before:
            base.until = parse_since(before[:100])
        changed = await api.run(api.store.sync.mark_read, sync_store.SyncQuery(base=base), read)
        return JSONResponse({"updated": changed})

    @handle
    async def related(request: Request) -> Response:
        await auth(request)
        found = await entry_of(path_id(request, "entry_id"))

        def build() -> dict[str, Any]:
            others = api.store.sync.entries_by_ids(list(found.related))
            shared = api.desk.shared_articles(found)
            return {
                "entries": [e.as_dict() for e in others],
                "shared": [{"title": s.title, "url": s.url} for s in shared],
            }

        return JSONResponse(await api.run(build))

    # -- digest, OPML -------------------------------------------------------------------------

    @handle
    async def digest(request: Request) -> Response:
        await auth(request)
        fmt = request.query_params.get("format") or "json"
        if fmt not in DIGEST_FORMATS:
            raise BadRequest(f"format must be one of {', '.join(DIGEST_FORMATS)}")
        since_raw = request.query_params.get("since") or "24h"
        try:
            since = parse_since(since_raw[:100])
        except NewsdeskError as exc:
            raise BadRequest(str(exc)) from None
        category = _text(request.query_params.get("category") or None, "category")
        limit = query_int(request, "limit", 500, minimum=1, maximum=5000) or 500
        body = await api.run(api.desk.digest, since=since, category=category, fmt=fmt, limit=limit)
        media = {
            "json": "application/json",
            "html": "text/html; charset=utf-8",
            "markdown": "text/markdown; charset=utf-8",
        }.get(fmt, "text/plain; charset=utf-8")
        headers = (
            {"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'"}
            if fmt == "html"
            else None
        )
        return Response(body, media_type=media, headers=headers)

    @handle
    async def export_opml(request: Request) -> Response:
        await auth(request)
        body = await api.run(api.desk.export_opml)
        return Response(
            body,
            media_type="text/x-opml; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="newsdesk.opml"'},
        )

    @handle
    async def import_opml(request: Request) -> Response:
        await auth(request)
        body = await read_body(request, limit=20 * 1024 * 1024)
        if not body.strip():
            raise BadRequest("the request body is empty: send an OPML document")
        report = await api.run(api.desk.import_opml, body)
        return JSONResponse(
            {
                "added": len(report.added),
                "skipped": len(report.skipped),
                "feeds": [feed_json(f) for f in report.added],
            }
        )

    # -- refresh ------------------------------------------------------------------------------

    @handle
    async def start_refresh(request: Request) -> Response:
        await auth(request)
        data = await read_json_object(request, allow_empty=True)
        unknown = set(data) - {"feeds"}
        if unknown:
            raise BadRequest(f"unknown fields: {', '.join(sorted(unknown))[:200]}")
        feed_ids = id_list(data, "feeds") if data.get("feeds") is not None else None
        if feed_ids:
            known = {f.id for f in await api.run(api.store.list_feeds, feed_ids)}
            missing = [i for i in feed_ids if i not in known]
            if missing:
                raise NotFound(f"no subscription with id {missing[0]}")
        job = api.jobs.start(feed_ids)
        return JSONResponse(
            job_json(job), status_code=202, headers={"location": f"/api/refresh/{job.id}"}
        )

    @handle
    async def refresh_status(request: Request) -> Response:
        await auth(request)
        job = api.jobs.get(path_id(request, "job_id"))
        if job is None:
            raise NotFound("no refresh job with this id (finished jobs are kept a while)")
        return JSONResponse(job_json(job))

    # -- API keys -----------------------------------------------------------------------------

    @handle
    async def tokens(request: Request) -> Response:
        await auth(request)
        found = await api.run(api.store.tokens.list_tokens)
        return JSONResponse([t.as_dict() for t in found])

    @handle
    async def new_token(request: Request) -> Response:
        await auth(request)
        data = await read_json_object(request)
        name = str_field(data, "name", required=True) or ""
        token, key = await api.run(api.store.tokens.create_token, name)
        return JSONResponse({**token.as_dict(), "key": key}, status_code=201)

    @handle
    async def delete_token(request: Request) -> Response:
        await auth(request)
        await api.run(api.store.tokens.revoke_token, str(path_id(request, "token_id")))
        return Response(status_code=204)

    return [
        Route("/api/", index, methods=["GET"]),
        Route("/api/openapi.json", openapi_json, methods=["GET"]),
        Route("/api/docs", docs, methods=["GET"]),
        Route("/api/subscriptions", subscriptions, methods=["GET"]),
        Route("/api/subscriptions", subscribe, methods=["POST"]),
        Route("/api/subscriptions/{feed_id}", subscription, methods=["GET"]),
        Route("/api/subscriptions/{feed_id}", update_subscription, methods=["PATCH"]),
        Route("/api/subscriptions/{feed_id}", unsubscribe, methods=["DELETE"]),
        Route("/api/categories", categories, methods=["GET"]),
        Route("/api/entries", entries, methods=["GET"]),
        Route("/api/entries/state", entries_state, methods=["POST"]),
        Route("/api/entries/{entry_id}", entry, methods=["GET"]),
        Route("/api/entries/{entry_id}", update_entry, methods=["PATCH"]),
        Route("/api/entries/{entry_id}/related", related, methods=["GET"]),
        Route("/api/digest", digest, methods=["GET"]),
        Route("/api/opml", export_opml, methods=["GET"]),
        Route("/api/opml", import_opml, methods=["POST"]),
        Route("/api/refresh", start_refresh, methods=["POST"]),
        Route("/api/refresh/{job_id}", refresh_status, methods=["GET"]),
        Route("/api/tokens", tokens, methods=["GET"]),
        Route("/api/tokens", new_token, methods=["POST"]),
        Route("/api/tokens/{token_id}", delete_token, methods=["DELETE"]),
        *intel.routes(api),
    ]

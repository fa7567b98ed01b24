"""The native API's view of what the intelligence stage builds: stories (entries about one event
across sources), entities (people, organisations, places) with their mentions over time and
co-mentions, timelines of dated events per story and per entity (JSON or CSV), and watchlists
with the alerts they raised.

Same authentication, error shape and paging as ``/api/entries`` (``web.api.native``); the
store functions are blocking and run through ``api.run``. Watchlists never leave with their
secrets: ``Watchlist.as_dict`` masks them, and a PATCH that sends a masked (or no) secret
back keeps the stored one, so a client can edit what it read and send it back.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from newsdesk.process.urls import is_web_url
from newsdesk.store.entities import Entity
from newsdesk.store.events import TimelineEvent
from newsdesk.store.stories import StorySummary
from newsdesk.store.watchlists import MASK, Watchlist
from newsdesk.timeline.export import events_to_csv, events_to_json
from newsdesk.web.api.access import require_user
from newsdesk.web.api.errors import ApiError, BadRequest, NotFound, endpoint, json_error
from newsdesk.web.api.inputs import query_int, read_json_object
from newsdesk.web.api.native import MAX_ID, MAX_LIMIT, entry_page, entry_query, path_id
from newsdesk.web.api.state import ApiState

ENTITY_KINDS = ("person", "org", "place")
BUCKETS = ("day", "week", "month")
TIMELINE_FORMATS = ("json", "csv")
WATCH_MODES = ("instant", "hourly", "daily")
ALERT_STATUSES = ("pending", "sending", "sent", "failed")
CHANNELS = ("webhook", "email", "ntfy")
CHANNEL_FIELDS = {
    "webhook": {"url", "secret"},
    "email": {"to"},
    "ntfy": {"url", "token", "priority", "tags"},
}
# A story's members shown with it; a larger story's others are reached through
# GET /api/entries?story_id=.
MAX_MEMBERS = 500
MAX_TEXT = 300
MAX_IDS = 1000
WATCH_FIELDS = {"name", "query", "entity_ids", "categories", "feed_ids", "channels", "mode"}


def _limit_offset(request: Request, default: int = 50) -> tuple[int, int]:
    limit = query_int(request, "limit", default, minimum=1, maximum=MAX_LIMIT) or default
    offset = query_int(request, "offset", 0, maximum=10**9) or 0
    return limit, offset


def _choice(request: Request, name: str, choices: tuple[str, ...], default: str | None) -> Any:
    raw = request.query_params.get(name) or default
    if raw is not None and raw not in choices:
        raise BadRequest(f"{name} must be one of {', '.join(choices)}")
    return raw


# -- timelines -----------------------------------------------------------------------------


def timeline_response(events: list[TimelineEvent], fmt: str, stem: str) -> Response:
    """A timeline as the API answers it: JSON (the export's document) or CSV, a download named
    after its subject."""
    if fmt == "csv":
        return Response(
            events_to_csv(events),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{stem}.csv"'},
        )
    return Response(events_to_json(events), media_type="application/json")


# -- watchlist input -----------------------------------------------------------------------


def _has_nul(value: Any) -> bool:
    """Whether a NUL character hides in the value: PostgreSQL refuses them in text."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _text_value(data: dict[str, Any], name: str, limit: int = MAX_TEXT) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    if len(value) > limit:
        raise BadRequest(f"{name} is longer than {limit} characters")
    return value


def _ids(data: dict[str, Any], name: str) -> list[int]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest(f"{name} must be a list of positive integers")
    if len(value) > MAX_IDS:
        raise BadRequest(f"{name} has more than {MAX_IDS} ids")
    out: list[int] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 < item <= MAX_ID:
            raise BadRequest(f"{name} must be a list of positive integers")
        if item not in out:
            out.append(item)
    return out


def _strings(data: dict[str, Any], name: str, limit: int = MAX_TEXT) -> list[str]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"{name} must be a list of strings")
    if len(value) > MAX_IDS:
        raise BadRequest(f"{name} has more than {MAX_IDS} items")
    out: list[str] = []
    for item in value:
        text = item.strip()
        if not text or len(text) > limit:
            raise BadRequest(f"{name} items must be 1 to {limit} characters")
        if text not in out:
            out.append(text)
    return out


def channels_input(value: Any, stored: Watchlist | None = None) -> dict[str, Any]:
    """``channels`` of a POST or PATCH body: ``{"webhook": {"url", "secret"}, "email":
    {"to": [...]}, "ntfy": {"url", "token", "priority", "tags"}}``, shapes and types checked
    here (the rules themselves are ``store.watchlists.check_channels``'). On a PATCH, a secret
    or token left out or sent back masked keeps the stored one."""
    if not isinstance(value, dict):
        raise BadRequest("channels must be an object: webhook, email and/or ntfy")
    unknown = set(value) - set(CHANNELS)
    if unknown:
        raise BadRequest(
            f"unknown channels: {', '.join(sorted(unknown))[:200]} (use webhook, email, ntfy)"
        )
    out: dict[str, Any] = {}
    for name, fields in CHANNEL_FIELDS.items():
        spec = value.get(name)
        if spec is None:
            continue
        if not isinstance(spec, dict):
            raise BadRequest(f"channels.{name} must be an object")
        extra = set(spec) - fields
        if extra:
            raise BadRequest(f"unknown fields in channels.{name}: {', '.join(sorted(extra))}")
        channel = dict(spec)
        if name == "email":
            to = channel.get("to")
            if isinstance(to, str):
                to = [to]
            if not isinstance(to, list) or not to or not all(isinstance(a, str) for a in to):
                raise BadRequest("channels.email.to must be a non-empty list of addresses")
            if len(to) > 50 or any(len(a) > 300 for a in to):
                raise BadRequest("channels.email.to: at most 50 addresses of 300 characters")
            channel["to"] = to
        else:
            url = channel.get("url")
            if not isinstance(url, str) or not is_web_url(url.strip()) or len(url) > 2000:
                raise BadRequest(f"channels.{name}.url must be an http(s) URL")
            secret = "secret" if name == "webhook" else "token"
            given = channel.get(secret)
            if given is not None and (not isinstance(given, str) or len(given) > 500):
                raise BadRequest(f"channels.{name}.{secret} must be a string (500 at most)")
            tags = channel.get("tags")
            if tags is not None and not (
                isinstance(tags, str)
                or (isinstance(tags, list) and all(isinstance(t, str) for t in tags))
            ):
                raise BadRequest(f"channels.{name}.tags must be a list of words")
            kept = stored.channels.get(name, {}).get(secret) if stored is not None else None
            if kept and (given is None or given == MASK):
                channel[secret] = kept
        out[name] = channel
    if not out:
        raise BadRequest("channels needs at least one of webhook, email, ntfy")
    return out


def routes(api: ApiState) -> list[BaseRoute]:
    handle = endpoint(json_error)

    async def auth(request: Request) -> None:
        await require_user(api, request)

    # -- stories --------------------------------------------------------------------------------

    async def story_of(story_id: int) -> StorySummary:
        found = await api.run(api.store.stories.get_story, story_id)
        if found is None:
            raise NotFound(f"no story with id {story_id}")
        return found

    @handle
    async def stories(request: Request) -> Response:
        await auth(request)
        limit, offset = _limit_offset(request)
        min_size = query_int(request, "min_size", 2, minimum=1, maximum=10**6) or 2
        found = await api.run(
            api.store.stories.list_stories, limit=limit, offset=offset, min_size=min_size
        )
        return JSONResponse(
            {
                "limit": limit,
                "offset": offset,
                "min_size": min_size,
                "stories": [s.as_dict() for s in found],
            }
        )

    @handle
    async def story(request: Request) -> Response:
        await auth(request)
        summary = await story_of(path_id(request, "story_id"))

        def build() -> dict[str, Any]:
            ids = api.store.stories.story_member_ids(summary.id)[:MAX_MEMBERS]
            members = api.store.sync.entries_by_ids(ids)
            counts: dict[int, tuple[Entity, int]] = {}
            for found in api.store.entities.entities_for_entries(ids).values():
                for entity in found:
                    _, n = counts.get(entity.id, (entity, 0))
                    counts[entity.id] = (entity, n + 1)
            ranked = sorted(counts.values(), key=lambda pair: (-pair[1], pair[0].name))
            return {
                **summary.as_dict(),
                "entries": [e.as_dict() for e in members],
                "entities": [{"entity": e.as_dict(), "entries": n} for e, n in ranked[:50]],
            }

        return JSONResponse(await api.run(build))

    async def mark_story(request: Request, read: bool) -> Response:
        await auth(request)
        summary = await story_of(path_id(request, "story_id"))
        changed = await api.run(api.desk.mark_story, summary.id, read)
        return JSONResponse({"story_id": summary.id, "read": read, "changed": changed})

    @handle
    async def story_read(request: Request) -> Response:
        return await mark_story(request, True)

    @handle
    async def story_unread(request: Request) -> Response:
        return await mark_story(request, False)

    @handle
    async def story_events(request: Request) -> Response:
        await auth(request)
        fmt = _choice(request, "format", TIMELINE_FORMATS, "json")
        summary = await story_of(path_id(request, "story_id"))
        events = await api.run(api.store.events.story_timeline, summary.id)
        return timeline_response(events, fmt, f"story-{summary.id}-timeline")

    # -- entities -------------------------------------------------------------------------------

    async def entity_of(entity_id: int) -> Entity:
        found = await api.run(api.store.entities.get_entity, entity_id)
        if found is None:
            raise NotFound(f"no entity with id {entity_id}")
        return found

    @handle
    async def entities(request: Request) -> Response:
        await auth(request)
        kind = _choice(request, "kind", ENTITY_KINDS, None)
        limit, offset = _limit_offset(request, 100)
        words = (request.query_params.get("q") or "").strip()
        if len(words) > MAX_TEXT:
            raise BadRequest(f"q is longer than {MAX_TEXT} characters")
        if _has_nul(words):
            raise BadRequest("q must not contain NUL characters")

        def build() -> list[Entity]:
            if not words:
                return api.store.entities.list_entities(kind=kind, limit=limit, offset=offset)
            # find_entities ranks and does not page: ask for enough to cut the page from.
            found = api.store.entities.find_entities(
                words, limit=offset + limit + (200 if kind else 0)
            )
            if kind:
                found = [e for e in found if e.kind == kind]
            return found[offset : offset + limit]

        found = await api.run(build)
        return JSONResponse(
            {"limit": limit, "offset": offset, "entities": [e.as_dict() for e in found]}
        )

    @handle
    async def entity(request: Request) -> Response:
        await auth(request)
        bucket = _choice(request, "bucket", BUCKETS, "day")
        found = await entity_of(path_id(request, "entity_id"))

        def build() -> dict[str, Any]:
            story_ids = api.store.entities.entity_story_ids(found.id)
            summaries = api.store.stories.story_summaries(story_ids)
            return {
                **found.as_dict(),
                "bucket": bucket,
                "mentions": [
                    {"date": date, "entries": n}
                    for date, n in api.store.entities.mentions_over_time(found.id, bucket=bucket)
                ],
                "co_mentions": [
                    {"entity": other.as_dict(), "entries": n}
                    for other, n in api.store.entities.co_mentions(found.id)
                ],
                "stories": [summaries[i].as_dict() for i in story_ids if i in summaries],
            }

        return JSONResponse(await api.run(build))

    @handle
    async def entity_entries(request: Request) -> Response:
        await auth(request)
        found = await entity_of(path_id(request, "entity_id"))
        query, search = entry_query(request)
        query.entity_id = found.id
        return JSONResponse(await api.run(entry_page, api, query, search))

    @handle
    async def entity_events(request: Request) -> Response:
        await auth(request)
        fmt = _choice(request, "format", TIMELINE_FORMATS, "json")
        found = await entity_of(path_id(request, "entity_id"))
        events = await api.run(api.store.events.entity_timeline, found.id)
        return timeline_response(events, fmt, f"entity-{found.id}-timeline")

    # -- watchlists -----------------------------------------------------------------------------

    async def watchlist_of(watchlist_id: int) -> Watchlist:
        found = await api.run(api.store.watchlists.get_watchlist, watchlist_id)
        if found is None:
            raise NotFound(f"no watchlist with id {watchlist_id}")
        return found

    def name_free(name: str, own_id: int | None) -> None:
        for other in api.store.watchlists.list_watchlists():
            if other.name == name and other.id != own_id:
                raise ApiError(409, f"a watchlist named {name[:100]!r} exists already")

    def watch_changes(data: dict[str, Any], stored: Watchlist | None) -> dict[str, Any]:
        allowed = WATCH_FIELDS | ({"enabled"} if stored is not None else set())
        unknown = set(data) - allowed
        if unknown:
            raise BadRequest(f"unknown fields: {', '.join(sorted(unknown))[:200]}")
        if _has_nul(data):
            raise BadRequest("the watchlist must not contain NUL characters")
        changes: dict[str, Any] = {}
        if "name" in data or stored is None:
            name = " ".join((_text_value(data, "name", 200) or "").split())
            if not name:
                raise BadRequest("name is required: a short name for the watchlist")
            changes["name"] = name
        if "query" in data:
            changes["query"] = (_text_value(data, "query", 1000) or "").strip()
        for field in ("entity_ids", "feed_ids"):
            if field in data:
                changes[field] = _ids(data, field)
        if "categories" in data:
            changes["categories"] = _strings(data, "categories")
        if "mode" in data:
            mode = data["mode"]
            if mode not in WATCH_MODES:
                raise BadRequest(f"mode must be one of {', '.join(WATCH_MODES)}")
            changes["mode"] = mode
        if "enabled" in data:
            if not isinstance(data["enabled"], bool):
                raise BadRequest("enabled must be true or false")
            changes["enabled"] = data["enabled"]
        if "channels" in data or stored is None:
            if data.get("channels") is None:
                raise BadRequest("channels is required: webhook, email and/or ntfy")
            changes["channels"] = channels_input(data["channels"], stored)
        return changes

    @handle
    async def watchlists(request: Request) -> Response:
        await auth(request)
        found = await api.run(api.store.watchlists.list_watchlists)
        return JSONResponse([w.as_dict() for w in found])

    @handle
    async def new_watchlist(request: Request) -> Response:
        await auth(request)
        changes = watch_changes(await read_json_object(request), None)

        def create() -> Watchlist:
            name_free(changes["name"], None)
            return api.store.watchlists.create_watchlist(**changes)

        created = await api.run(create)
        # A webhook secret Newsdesk generated is shown once, here: the caller needs it to check
        # signatures. One the caller gave is never echoed.
        hook = (changes.get("channels") or {}).get("webhook")
        generated = isinstance(hook, dict) and not hook.get("secret")
        return JSONResponse(
            created.as_dict(reveal_secrets=generated),
            status_code=201,
            headers={"location": f"/api/watchlists/{created.id}"},
        )

    @handle
    async def watchlist(request: Request) -> Response:
        await auth(request)
        return JSONResponse((await watchlist_of(path_id(request, "watchlist_id"))).as_dict())

    @handle
    async def patch_watchlist(request: Request) -> Response:
        await auth(request)
        stored = await watchlist_of(path_id(request, "watchlist_id"))
        changes = watch_changes(await read_json_object(request), stored)

        def apply() -> Watchlist:
            if "name" in changes:
                name_free(changes["name"], stored.id)
            if not changes:
                return stored
            return api.store.watchlists.update_watchlist(stored.id, **changes)

        return JSONResponse((await api.run(apply)).as_dict())

    @handle
    async def remove_watchlist(request: Request) -> Response:
        await auth(request)
        stored = await watchlist_of(path_id(request, "watchlist_id"))
        await api.run(api.store.watchlists.delete_watchlist, stored.id)
        return Response(status_code=204)

    @handle
    async def watchlist_alerts(request: Request) -> Response:
        await auth(request)
        status = _choice(request, "status", ALERT_STATUSES, None)
        limit = query_int(request, "limit", 100, minimum=1, maximum=MAX_LIMIT) or 100
        stored = await watchlist_of(path_id(request, "watchlist_id"))
        found = await api.run(
            api.store.watchlists.list_alerts, watchlist_id=stored.id, status=status, limit=limit
        )
        return JSONResponse([a.as_dict() for a in found])

    return [
        Route("/api/stories", stories, methods=["GET"]),
        Route("/api/stories/{story_id}", story, methods=["GET"]),
        Route("/api/stories/{story_id}/timeline", story_events, methods=["GET"]),
        Route("/api/stories/{story_id}/read", story_read, methods=["POST"]),
        Route("/api/stories/{story_id}/unread", story_unread, methods=["POST"]),
        Route("/api/entities", entities, methods=["GET"]),
        Route("/api/entities/{entity_id}", entity, methods=["GET"]),
        Route("/api/entities/{entity_id}/entries", entity_entries, methods=["GET"]),
        Route("/api/entities/{entity_id}/timeline", entity_events, methods=["GET"]),
        Route("/api/watchlists", watchlists, methods=["GET"]),
        Route("/api/watchlists", new_watchlist, methods=["POST"]),
        Route("/api/watchlists/{watchlist_id}", watchlist, methods=["GET"]),
        Route("/api/watchlists/{watchlist_id}", patch_watchlist, methods=["PATCH"]),
        Route("/api/watchlists/{watchlist_id}", remove_watchlist, methods=["DELETE"]),
        Route("/api/watchlists/{watchlist_id}/alerts", watchlist_alerts, methods=["GET"]),
    ]

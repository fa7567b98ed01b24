"""The native API's desk operations: the digest (``/api/digest``), OPML out and in
(``/api/opml``), refresh jobs with progress (``/api/refresh``) and API keys (``/api/tokens``):
module-level handlers declared on ``TABLE`` with their OpenAPI operations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from newsdesk.desk import parse_since
from newsdesk.errors import NewsdeskError
from newsdesk.publish.digest import DIGEST_FORMATS
from newsdesk.web.api.access import require_user
from newsdesk.web.api.errors import BadRequest, NotFound, endpoint, json_error
from newsdesk.web.api.inputs import id_list, query_int, read_body, read_json_object, str_field
from newsdesk.web.api.native_common import path_id, refuse_unknown, text_param
from newsdesk.web.api.native_reading import feed_json
from newsdesk.web.api.openapi_schemas import (
    BAD,
    MISSING,
    STRING,
    array,
    json_answer,
    json_body,
    path_param,
    query_param,
    ref,
)
from newsdesk.web.api.state import ApiState
from newsdesk.web.jobs import RefreshJob
from newsdesk.web.routing import Doc, RouteTable

TABLE = RouteTable[ApiState](endpoint(json_error))

# The digest's formats as answered, and the one stylesheet an HTML digest may use.
DIGEST_MEDIA = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "markdown": "text/markdown; charset=utf-8",
}
HTML_POLICY = {"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'"}


def job_json(job: RefreshJob, view: JobView | None = None) -> dict[str, Any]:
    """The job as the caller sees it: with ``view``, only the feeds (and their errors) the
    caller sees, whoever else the job refreshes."""
    feed_ids = job.feed_ids
    errors = job.errors
    if view is not None:
        feed_ids = [i for i in feed_ids or [] if i in view.ids] if feed_ids else feed_ids
        errors = [(feed, message) for feed, message in errors if feed in view.names]
    status = "running" if not job.finished else ("failed" if job.failure else "done")
    return {
        "id": job.id,
        "status": status,
        "stage": job.stage,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "feed_ids": feed_ids,
        "summary": job.summary or None,
        "new_entries": job.new_entries,
        "errors": [{"feed": feed, "error": message} for feed, message in errors],
        "failure": job.failure,
        "url": f"/api/refresh/{job.id}",
    }


# -- digest, OPML -----------------------------------------------------------------------------


@TABLE.get(
    "/api/digest",
    doc=Doc(
        "A digest of recent entries",
        {
            "200": {
                "description": "the digest in the format asked for",
                "content": {
                    "application/json": {"schema": {}},
                    "text/plain": {"schema": STRING},
                    "text/markdown": {"schema": STRING},
                    "text/html": {"schema": STRING},
                },
            },
            "400": BAD,
        },
        tag="digest",
        parameters=[
            query_param("since", STRING, "how far back (default 24h)"),
            query_param("category", STRING, "only this category"),
            query_param(
                "format",
                {"type": "string", "enum": ["text", "markdown", "html", "json"], "default": "json"},
                "output format",
            ),
            query_param(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": 5000, "default": 500},
                "most entries",
            ),
        ],
    ),
)
async def digest(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    fmt = request.query_params.get("format") or "json"
    if fmt not in DIGEST_FORMATS:
        raise BadRequest(f"format must be one of {', '.join(DIGEST_FORMATS)}")
    since_raw = request.query_params.get("since") or "24h"
    try:
        since = parse_since(since_raw[:100])
    except NewsdeskError as exc:
        raise BadRequest(str(exc)) from None
    category = text_param(request.query_params.get("category") or None, "category")
    limit = query_int(request, "limit", 500, minimum=1, maximum=5000) or 500
    body = await api.run(api.desk.digest, since=since, category=category, fmt=fmt, limit=limit)
    media = DIGEST_MEDIA.get(fmt, "text/plain; charset=utf-8")
    return Response(body, media_type=media, headers=HTML_POLICY if fmt == "html" else None)


@TABLE.get(
    "/api/opml",
    doc=Doc(
        "Export subscriptions as OPML",
        {"200": {"description": "OPML", "content": {"text/x-opml": {"schema": STRING}}}},
        tag="opml",
    ),
)
async def export_opml(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    body = await api.run(api.desk.export_opml)
    return Response(
        body,
        media_type="text/x-opml; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="newsdesk.opml"'},
    )


@TABLE.post(
    "/api/opml",
    doc=Doc(
        "Import an OPML file (feeds already subscribed are skipped)",
        {"200": json_answer("what was imported", ref("ImportReport")), "400": BAD},
        tag="opml",
        body={"required": True, "content": {"text/x-opml": {"schema": {"type": "string"}}}},
    ),
)
async def import_opml(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
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


# -- refresh ----------------------------------------------------------------------------------


@TABLE.post(
    "/api/refresh",
    doc=Doc(
        "Start a refresh (all feeds, or those listed); poll the job for progress",
        {
            "202": json_answer("the job (the one already running, if any)", ref("RefreshJob")),
            "400": BAD,
            "404": MISSING,
        },
        tag="refresh",
        body=json_body(ref("RefreshRequest"), required=False),
    ),
)
async def start_refresh(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    data = await read_json_object(request, allow_empty=True)
    refuse_unknown(data, {"feeds"})
    feed_ids = id_list(data, "feeds") if data.get("feeds") is not None else None
    if feed_ids:
        known = {f.id for f in await api.run(api.store.list_feeds, feed_ids)}
        missing = [i for i in feed_ids if i not in known]
        if missing:
            raise NotFound(f"no subscription with id {missing[0]}")
    job = await api.start_refresh(feed_ids)
    if job is None:  # the caller follows no feed that is not paused
        idle = RefreshJob(id=0, feed_ids=[], finished=True, summary="no feeds to refresh")
        return JSONResponse(job_json(idle), status_code=202)
    view = await api.run(job_view, api)
    return JSONResponse(
        job_json(job, view), status_code=202, headers={"location": f"/api/refresh/{job.id}"}
    )


@TABLE.get(
    "/api/refresh/{job_id}",
    doc=Doc(
        "A refresh job's progress",
        {"200": json_answer("the job", ref("RefreshJob")), "404": MISSING},
        tag="refresh",
        parameters=[path_param("job_id", "job id")],
    ),
)
async def refresh_status(request: Request, api: ApiState) -> Response:
    user = await require_user(api, request)
    job = api.jobs.get(path_id(request, "job_id"), user)  # the caller's, or any for an admin
    if job is None:
        raise NotFound("no refresh job with this id (finished jobs are kept a while)")
    return JSONResponse(job_json(job, await api.run(job_view, api)))


@dataclass(frozen=True, slots=True)
class JobView:
    """The feeds the caller sees: ids, and the names a job's errors go by."""

    ids: set[int]
    names: set[str]


def job_view(api: ApiState) -> JobView:
    feeds = api.store.list_feeds()
    names = {name for f in feeds for name in (f.title, f.url, f.display_title) if name}
    return JobView({f.id for f in feeds}, names)


# -- API keys ---------------------------------------------------------------------------------


@TABLE.get(
    "/api/tokens",
    doc=Doc(
        "API keys (names and prefixes; the keys themselves are never shown again)",
        {"200": json_answer("keys", array(ref("Token")))},
        tag="keys",
    ),
)
async def tokens(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    found = await api.run(api.store.tokens.list_tokens)
    return JSONResponse([t.as_dict() for t in found])


@TABLE.post(
    "/api/tokens",
    doc=Doc(
        "Make an API key",
        {"201": json_answer("the key, shown once", ref("NewToken")), "400": BAD},
        tag="keys",
        body=json_body(ref("TokenName")),
    ),
)
async def new_token(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    data = await read_json_object(request)
    name = str_field(data, "name", required=True) or ""
    token, key = await api.run(api.store.tokens.create_token, name)
    return JSONResponse({**token.as_dict(), "key": key}, status_code=201)


@TABLE.route(
    "/api/tokens/{token_id}",
    "DELETE",
    doc=Doc(
        "Revoke an API key",
        {"204": {"description": "revoked"}, "404": MISSING},
        tag="keys",
        parameters=[path_param("token_id", "key id")],
    ),
)
async def delete_token(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    await api.run(api.store.tokens.revoke_token, str(path_id(request, "token_id")))
    return Response(status_code=204)

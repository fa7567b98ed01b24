"""The native API's retention (issue 16): ``/api/retention`` (GET, PUT: the caller's default
policy) and the admin's ``POST /api/cleanup`` (apply everyone's retention now, or count what
would go, through ``Desk.cleanup``; a member gets 403). A person's policy for one feed is the
``retention`` field of ``/api/subscriptions/{id}`` (``web.api.native_reading``), read and
changed with ``feed_retention`` / ``set_feed_retention`` here.

Policies are ``store.retention``'s: ``{"keep_days": N, "keep_read_days": N, "keep_last": M}``,
each a positive whole number or null (no such limit); its messages come back as 400s."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from newsdesk.errors import FeedNotFoundError
from newsdesk.store.retention_policy import Policy, check_policy
from newsdesk.web.api.access import require_admin, require_user
from newsdesk.web.api.errors import BadRequest, endpoint, json_error
from newsdesk.web.api.inputs import bool_field, read_json_object
from newsdesk.web.api.native_common import refuse_unknown
from newsdesk.web.api.openapi_feed_options import RETENTION_PROPERTIES
from newsdesk.web.api.openapi_schemas import (
    BAD,
    BOOL,
    INT,
    error_answer,
    json_answer,
    json_body,
    nullable,
    obj,
    ref,
)
from newsdesk.web.api.state import ApiState
from newsdesk.web.routing import Doc, RouteTable

TABLE = RouteTable[ApiState](endpoint(json_error))

MAX_KEEP_DAYS = 36_500
FORBIDDEN = error_answer("the caller is a member: only an admin cleans up the desk")
SCHEMAS: dict[str, Any] = {
    "Retention": {
        **obj(RETENTION_PROPERTIES),
        "additionalProperties": False,
        "description": "a person's default retention: null (or left out, in a PUT) is no limit",
    },
    "RetentionChanges": {
        **obj(RETENTION_PROPERTIES, required=[]),
        "additionalProperties": False,
        "description": "the whole default policy: a key left out or null is no limit",
    },
    "CleanupRequest": {
        **obj(
            {
                "keep_days": {
                    **nullable(INT),
                    "minimum": 1,
                    "maximum": MAX_KEEP_DAYS,
                    "description": "replaces everyone's keep_days for this run",
                },
                "dry_run": {**BOOL, "description": "only count what would go (default false)"},
            },
            required=[],
        ),
        "additionalProperties": False,
    },
    "RetentionReport": obj(
        {
            "dry_run": BOOL,
            "removed": {**INT, "description": "entries removed (or that would be)"},
            "batches": INT,
            "kept_starred": {**INT, "description": "kept because starred or in a starred story"},
            "stories_changed": INT,
            "stories_removed": INT,
            "feeds": {
                "type": "object",
                "additionalProperties": INT,
                "description": "feed id → entries removed",
            },
            "space": nullable(
                obj(
                    {
                        "mode": {"type": "string", "enum": ["incremental", "vacuum", "none"]},
                        "bytes_before": INT,
                        "bytes_after": INT,
                        "bytes_freed": INT,
                    }
                )
            ),
        }
    ),
}
RETENTION = json_answer("the caller's default retention", ref("Retention"))


def policy_body(value: Any, name: str) -> dict[str, int | None]:
    """A policy object from a JSON body, checked (a 400 naming ``name`` otherwise)."""
    if not isinstance(value, dict):
        raise BadRequest(f'{name} must be an object such as {{"keep_days": 30}} (or null)')
    return check_policy(value)


def feed_retention(api: ApiState) -> dict[int, dict[str, int | None]]:
    """The caller's own retention keys, by feed (feeds without any: not there). Blocking."""
    return api.store.retention.feeds()


def set_feed_retention(api: ApiState, feed_id: int, policy: dict[str, int | None] | None) -> None:
    """The caller's retention for one feed they follow (None: their default). Blocking."""
    try:
        api.store.retention.set_feed(feed_id, policy)
    except FeedNotFoundError as exc:  # seen through a shared category: its owner's policy
        raise BadRequest(str(exc)) from None


def _default(api: ApiState) -> dict[str, int | None]:
    return Policy.of(api.store.retention.default(), None).as_dict()


@TABLE.get(
    "/api/retention",
    doc=Doc("The caller's default retention policy", {"200": RETENTION}, tag="retention"),
)
async def retention(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    return JSONResponse(await api.run(_default, api))


@TABLE.route(
    "/api/retention",
    "PUT",
    doc=Doc(
        "Replace the caller's default retention policy (an empty object keeps everything)",
        {"200": RETENTION, "400": BAD},
        tag="retention",
        body=json_body(ref("RetentionChanges")),
    ),
)
async def set_retention(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    policy = policy_body(await read_json_object(request), "the body")

    def save() -> dict[str, int | None]:
        api.store.retention.set_default(policy)
        return _default(api)

    return JSONResponse(await api.run(save))


@TABLE.post(
    "/api/cleanup",
    doc=Doc(
        "Apply everyone's retention now, or count what would go (admins only)",
        {
            "200": json_answer("what the cleanup removed", ref("RetentionReport")),
            "400": BAD,
            "403": FORBIDDEN,
        },
        tag="retention",
        body=json_body(ref("CleanupRequest"), required=False),
    ),
)
async def cleanup(request: Request, api: ApiState) -> Response:
    await require_admin(api, request, "only an admin cleans up the desk")
    data = await read_json_object(request, allow_empty=True)
    refuse_unknown(data, {"keep_days", "dry_run"})
    keep_days = data.get("keep_days")
    if keep_days is not None and (
        isinstance(keep_days, bool)
        or not isinstance(keep_days, int)
        or not 1 <= keep_days <= MAX_KEEP_DAYS
    ):
        raise BadRequest(f"keep_days must be a whole number of days from 1 to {MAX_KEEP_DAYS:,}")
    dry_run = bool_field(data, "dry_run") is True
    report = await api.run(lambda: api.desk.cleanup(keep_days=keep_days, dry_run=dry_run))
    return JSONResponse(report.as_dict())

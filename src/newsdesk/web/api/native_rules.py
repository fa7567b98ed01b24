"""The native API's rules (issue 16): ``/api/rules`` (a person's rules in order; make one),
``/api/rules/{id}`` (read, change — name, query, actions, enabled, position — delete),
``/api/rules/{id}/apply`` (run it over the stored entries) and ``/api/rules/test`` (the stored
entries a query would match: a count and the first few). Module-level handlers declared on
``TABLE`` with their OpenAPI operations; the component schemas they name are ``SCHEMAS``
(merged into the document by ``web.api.openapi``).

Everything goes through the Desk (``add_rule``, ``update_rule``, ``remove_rule``,
``reorder_rules``, ``test_rule``, ``apply_rule``), which checks the query (docs/query.md) and
the actions; its messages come back as 400s. Another person's rule is "no rule with id N"
(404), exactly as one that does not exist."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from newsdesk.store.rules import Rule, RuleNotFoundError
from newsdesk.web.api.access import require_user
from newsdesk.web.api.errors import BadRequest, NotFound, endpoint, json_error
from newsdesk.web.api.inputs import (
    bool_field,
    int_field,
    query_bool,
    query_int,
    read_json_object,
    str_field,
)
from newsdesk.web.api.native_common import path_id, refuse_unknown, text_param
from newsdesk.web.api.openapi_schemas import (
    BAD,
    BOOL,
    INT,
    MISSING,
    STRING,
    TIME,
    array,
    json_answer,
    json_body,
    obj,
    path_param,
    query_param,
    ref,
)
from newsdesk.web.api.state import ApiState
from newsdesk.web.routing import Doc, RouteTable

TABLE = RouteTable[ApiState](endpoint(json_error))

MAX_QUERY = 2000  # characters of a rule's query
MAX_NAME = 200
MAX_ACTIONS = 50
TEST_LIMIT = 20  # entries a test shows unless asked
MAX_TEST_LIMIT = 100
RULE_FIELDS = {"name", "query", "actions", "enabled", "position"}

ACTIONS_DOC = (
    "what to do with a matching entry: `block`, `read`, `star`, `tag:NAME`, `category:NAME`, "
    "`alert:WATCHLIST` (a list, or one comma-separated string)"
)
SCHEMAS: dict[str, Any] = {
    "Rule": obj(
        {
            "id": INT,
            "name": STRING,
            "query": {"type": "string", "description": "docs/query.md"},
            "actions": {**array(STRING), "description": ACTIONS_DOC},
            "position": {"type": "integer", "description": "0 runs first"},
            "enabled": BOOL,
            "matched": {"type": "integer", "description": "entries it acted on, ever"},
            "created_at": TIME,
            "updated_at": TIME,
        }
    ),
    "NewRule": obj(
        {
            "query": {"type": "string", "description": "when: docs/query.md"},
            "actions": {
                "oneOf": [array(STRING), STRING],
                "description": ACTIONS_DOC,
            },
            "name": {"type": "string", "description": "default: made from the query"},
            "enabled": {"type": "boolean", "default": True},
        },
        required=["query", "actions"],
    ),
    "RuleChanges": {
        **obj(
            {
                "query": STRING,
                "actions": {"oneOf": [array(STRING), STRING], "description": ACTIONS_DOC},
                "name": STRING,
                "enabled": BOOL,
                "position": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "its place among the person's rules (0 runs first)",
                },
            },
            required=[],
        ),
        "additionalProperties": False,
    },
    "RuleTest": obj(
        {
            "query": STRING,
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_TEST_LIMIT},
        },
        required=["query"],
    ),
    "RuleMatches": obj(
        {
            "count": {"type": "integer", "description": "stored entries the query matches"},
            "entries": {**array(ref("Entry")), "description": "the newest of them"},
        }
    ),
    "RuleApplied": obj(
        {
            "rule": ref("Rule"),
            "changed": {"type": "integer", "description": "entries the rule changed"},
        }
    ),
}
RULE_ID = path_param("rule_id", "rule id")
RULE = json_answer("the rule", ref("Rule"))
MATCHES = json_answer("what the query matches", ref("RuleMatches"))


def rule_json(rule: Rule) -> dict[str, Any]:
    """A rule as the API shows it (the ``Rule`` schema)."""
    return rule.as_dict()


def actions_field(data: dict[str, Any], *, required: bool = False) -> list[str] | None:
    """``actions`` as a list of strings: a JSON list, or one comma-separated string."""
    value = data.get("actions")
    if value is None:
        if required:
            raise BadRequest("actions is required")
        return None
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise BadRequest("actions must be a list of strings or one comma-separated string")
    found = [a.strip() for a in value if a.strip()]
    if not found:
        raise BadRequest("actions must name at least one action")
    if len(found) > MAX_ACTIONS:
        raise BadRequest(f"actions has more than {MAX_ACTIONS} actions")
    return found


def _query_field(data: dict[str, Any], *, required: bool) -> str | None:
    return text_param(str_field(data, "query", required=required), "query", MAX_QUERY)


def rule_of(api: ApiState, rule_id: int) -> Rule:
    """The caller's rule ``rule_id``, or a 404 (another person's looks missing). Blocking."""
    try:
        return api.desk.rule(rule_id)
    except RuleNotFoundError:
        raise NotFound(f"no rule with id {rule_id}") from None


@TABLE.get(
    "/api/rules",
    doc=Doc(
        "The caller's rules, in the order they run",
        {"200": json_answer("rules", array(ref("Rule")))},
        tag="rules",
    ),
)
async def rules(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    found = await api.run(api.desk.rules)
    return JSONResponse([rule_json(r) for r in found])


def create_rule(api: ApiState, data: dict[str, Any]) -> Rule:
    """A POST body, checked, then the rule made (disabled at once when asked). Blocking."""
    refuse_unknown(data, {"name", "query", "actions", "enabled"})
    query = _query_field(data, required=True) or ""
    actions = actions_field(data, required=True) or []
    name = text_param(str_field(data, "name"), "name", MAX_NAME)
    enabled = bool_field(data, "enabled")
    return api.desk.add_rule(query, actions, name=name or None, enabled=enabled is not False)


@TABLE.post(
    "/api/rules",
    doc=Doc(
        "Make a rule (it runs last; on new entries from now on: apply it for stored ones)",
        {"201": json_answer("the new rule", ref("Rule")), "400": BAD},
        tag="rules",
        body=json_body(ref("NewRule")),
    ),
)
async def new_rule(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    data = await read_json_object(request)
    made = await api.run(create_rule, api, data)
    return JSONResponse(
        rule_json(made), status_code=201, headers={"location": f"/api/rules/{made.id}"}
    )


def _test_answer(api: ApiState, query: str, limit: int) -> dict[str, Any]:
    count, entries = api.desk.test_rule(query, limit)
    return {"count": count, "entries": [e.as_dict() for e in entries]}


@TABLE.get(
    "/api/rules/test",
    doc=Doc(
        "The stored entries a query matches (a count and the newest few)",
        {"200": MATCHES, "400": BAD},
        tag="rules",
        parameters=[
            query_param("q", STRING, "the query (docs/query.md)"),
            query_param(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_TEST_LIMIT, "default": 20},
                "most entries shown",
            ),
        ],
    ),
)
async def test_rule(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    query = text_param(request.query_params.get("q") or "", "q", MAX_QUERY) or ""
    if not query.strip():
        raise BadRequest("q is required: the query to test")
    limit = query_int(request, "limit", TEST_LIMIT, minimum=1, maximum=MAX_TEST_LIMIT)
    return JSONResponse(await api.run(_test_answer, api, query, limit or TEST_LIMIT))


@TABLE.post(
    "/api/rules/test",
    doc=Doc(
        "The stored entries a query matches, the query in a JSON body",
        {"200": MATCHES, "400": BAD},
        tag="rules",
        body=json_body(ref("RuleTest")),
    ),
)
async def test_rule_body(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    data = await read_json_object(request)
    refuse_unknown(data, {"query", "limit"})
    query = _query_field(data, required=True) or ""
    limit = int_field(data, "limit")
    if limit is not None and not 1 <= limit <= MAX_TEST_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_TEST_LIMIT}")
    return JSONResponse(await api.run(_test_answer, api, query, limit or TEST_LIMIT))


@TABLE.get(
    "/api/rules/{rule_id}",
    doc=Doc(
        "One rule",
        {"200": RULE, "404": MISSING},
        tag="rules",
        parameters=[RULE_ID],
    ),
)
async def rule(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    return JSONResponse(rule_json(await api.run(rule_of, api, path_id(request, "rule_id"))))


def move_to(api: ApiState, rule_id: int, position: int) -> None:
    """Rule ``rule_id`` to place ``position`` among the caller's rules (past the end: last)."""
    ids = [r.id for r in api.desk.rules() if r.id != rule_id]
    ids.insert(min(position, len(ids)), rule_id)
    api.desk.reorder_rules(ids)


def change_rule(api: ApiState, rule_id: int, data: dict[str, Any]) -> Rule:
    """A PATCH body, checked whole before anything is saved, then applied. Blocking."""
    refuse_unknown(data, RULE_FIELDS)
    stored = rule_of(api, rule_id)
    changes: dict[str, Any] = {}
    if (query := _query_field(data, required=False)) is not None:
        changes["query"] = query
    if (actions := actions_field(data)) is not None:
        changes["actions"] = actions
    if (name := text_param(str_field(data, "name"), "name", MAX_NAME)) is not None:
        changes["name"] = name
    if (enabled := bool_field(data, "enabled")) is not None:
        changes["enabled"] = enabled
    position = int_field(data, "position")
    if position is not None and position < 0:
        raise BadRequest("position must be 0 or more")
    if changes:
        api.desk.update_rule(stored.id, **changes)
    if position is not None:
        move_to(api, stored.id, position)
    return rule_of(api, stored.id)


@TABLE.route(
    "/api/rules/{rule_id}",
    "PATCH",
    doc=Doc(
        "Change a rule (fields not sent stay as they are)",
        {"200": RULE, "400": BAD, "404": MISSING},
        tag="rules",
        parameters=[RULE_ID],
        body=json_body(ref("RuleChanges")),
        description="`position` moves the rule among the caller's rules (0: it runs first); "
        "the others keep their order.",
    ),
)
async def patch_rule(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    rule_id = path_id(request, "rule_id")
    data = await read_json_object(request)
    return JSONResponse(rule_json(await api.run(change_rule, api, rule_id, data)))


def _remove(api: ApiState, rule_id: int, unblock: bool) -> None:
    api.desk.remove_rule(rule_of(api, rule_id).id, unblock=unblock)


@TABLE.route(
    "/api/rules/{rule_id}",
    "DELETE",
    doc=Doc(
        "Delete a rule (what it did to entries stays, unless `unblock`)",
        {"204": {"description": "gone"}, "400": BAD, "404": MISSING},
        tag="rules",
        parameters=[
            RULE_ID,
            query_param(
                "unblock",
                {"type": "boolean"},
                "true: show again the entries the rule blocked (they stay read)",
            ),
        ],
    ),
)
async def remove_rule(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    rule_id = path_id(request, "rule_id")
    unblock = bool(query_bool(request, "unblock"))
    await api.run(_remove, api, rule_id, unblock)
    return Response(status_code=204)


def _apply(api: ApiState, rule_id: int) -> dict[str, Any]:
    changed = api.desk.apply_rule(rule_of(api, rule_id).id)
    return {"rule": rule_json(rule_of(api, rule_id)), "changed": changed}


@TABLE.post(
    "/api/rules/{rule_id}/apply",
    doc=Doc(
        "Run a rule over the stored entries the caller sees",
        {"200": json_answer("how many entries changed", ref("RuleApplied")), "404": MISSING},
        tag="rules",
        parameters=[RULE_ID],
    ),
)
async def apply_rule(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    return JSONResponse(await api.run(_apply, api, path_id(request, "rule_id")))

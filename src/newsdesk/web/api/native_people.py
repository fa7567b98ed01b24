"""The native API's people (issue 15): ``GET /api/me`` (the caller: name, role …, and their
reading habits, which ``PATCH /api/me`` changes: issue 16) and the
admin's ``/api/users`` (list, add, change a role or reset a password, remove; 403 for a
member). Module-level handlers declared on ``TABLE`` with their OpenAPI operations.

An admin cannot change their own role nor remove themselves (another admin can), so the API
cannot lock its caller out; the desk keeps at least one admin (``store.users``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from newsdesk.store.server_key import server_key
from newsdesk.store.users import User, check_role
from newsdesk.web.api.access import require_admin, require_user
from newsdesk.web.api.errors import BadRequest, NotFound, endpoint, json_error
from newsdesk.web.api.inputs import read_json_object, str_field
from newsdesk.web.api.native_common import path_id, refuse_unknown
from newsdesk.web.api.openapi_schemas import (
    BAD,
    MISSING,
    array,
    error_answer,
    json_answer,
    json_body,
    path_param,
    ref,
)
from newsdesk.web.api.state import ApiState
from newsdesk.web.routing import Doc, RouteTable

TABLE = RouteTable[ApiState](endpoint(json_error))

ADMINS_ONLY = "only an admin manages people"
FORBIDDEN = error_answer("the caller is a member: only an admin manages people")
USER_ID = path_param("user_id", "person id")
PERSON = json_answer("the person", ref("Person"))


def person_json(user: User) -> dict[str, Any]:
    return user.as_dict()


ME = json_answer("the caller, with their reading habits", ref("Me"))


def me_json(user: User) -> dict[str, Any]:
    return {**person_json(user), "preferences": user.preferences.as_dict()}


@TABLE.get(
    "/api/me",
    doc=Doc("Who is calling: name, role, last login, reading habits", {"200": ME}, tag="people"),
)
async def me(request: Request, api: ApiState) -> Response:
    return JSONResponse(me_json(await require_user(api, request)))


@TABLE.route(
    "/api/me",
    "PATCH",
    doc=Doc(
        "Change the caller's reading habits (only the preferences given)",
        {"200": ME, "400": BAD},
        tag="people",
        body=json_body(ref("MeChanges")),
    ),
)
async def update_me(request: Request, api: ApiState) -> Response:
    await require_user(api, request)
    data = await read_json_object(request)
    refuse_unknown(data, {"preferences"})
    changes = data.get("preferences", {})
    if not isinstance(changes, dict):
        raise BadRequest("preferences is an object of names and true/false")
    desk = api.desk
    await api.run(desk.set_preferences, changes)
    assert desk.person is not None
    return JSONResponse(me_json(desk.person))


@TABLE.get(
    "/api/users",
    doc=Doc(
        "The desk's people (an admin's)",
        {"200": json_answer("people", array(ref("Person"))), "403": FORBIDDEN},
        tag="people",
    ),
)
async def users(request: Request, api: ApiState) -> Response:
    await require_admin(api, request, ADMINS_ONLY)
    found = await api.run(api.system_store.users.list_users)
    return JSONResponse([person_json(u) for u in found])


@TABLE.post(
    "/api/users",
    doc=Doc(
        "Add a person (an admin's)",
        {"201": PERSON, "400": BAD, "403": FORBIDDEN},
        tag="people",
        body=json_body(ref("NewPerson")),
    ),
)
async def add_user(request: Request, api: ApiState) -> Response:
    await require_admin(api, request, ADMINS_ONLY)
    data = await read_json_object(request)
    refuse_unknown(data, {"name", "password", "role"})
    name = str_field(data, "name", required=True) or ""
    password = str_field(data, "password", required=True) or ""
    role = check_role(str_field(data, "role") or "member")
    created = await api.run(api.system_store.users.add_user, name, password, role)
    return JSONResponse(person_json(created), status_code=201)


async def _person(api: ApiState, request: Request) -> User:
    found = await api.run(api.system_store.users.user_by_id, path_id(request, "user_id"))
    if found is None:
        raise NotFound("no person with this id")
    return found


@TABLE.get(
    "/api/users/{user_id}",
    doc=Doc(
        "One person (an admin's)",
        {"200": PERSON, "403": FORBIDDEN, "404": MISSING},
        tag="people",
        parameters=[USER_ID],
    ),
)
async def user(request: Request, api: ApiState) -> Response:
    await require_admin(api, request, ADMINS_ONLY)
    return JSONResponse(person_json(await _person(api, request)))


def _change(api: ApiState, caller: User, target: User, data: dict[str, Any]) -> User:
    """A PATCH body, checked, then applied. Blocking."""
    refuse_unknown(data, {"role", "password"})
    role = str_field(data, "role")
    password = str_field(data, "password")
    if role is not None and check_role(role) != target.role and target.id == caller.id:
        raise BadRequest("you cannot change your own role: ask another admin")
    people = api.system_store.users
    if password is not None:
        people.set_password(target.username, password, server_key=server_key(api.settings))
    if role is not None and role != target.role:
        people.set_role(target.username, role)
    found = people.user_by_id(target.id)
    assert found is not None
    return found


@TABLE.route(
    "/api/users/{user_id}",
    "PATCH",
    doc=Doc(
        "Change a person's role or reset their password (an admin's)",
        {"200": PERSON, "400": BAD, "403": FORBIDDEN, "404": MISSING},
        tag="people",
        parameters=[USER_ID],
        body=json_body(ref("PersonChanges")),
    ),
)
async def update_user(request: Request, api: ApiState) -> Response:
    caller = await require_admin(api, request, ADMINS_ONLY)
    target = await _person(api, request)
    data = await read_json_object(request)
    return JSONResponse(person_json(await api.run(_change, api, caller, target, data)))


@TABLE.route(
    "/api/users/{user_id}",
    "DELETE",
    doc=Doc(
        "Remove a person with their private data (an admin's; not yourself, not the last admin)",
        {"204": {"description": "gone"}, "400": BAD, "403": FORBIDDEN, "404": MISSING},
        tag="people",
        parameters=[USER_ID],
    ),
)
async def remove_user(request: Request, api: ApiState) -> Response:
    caller = await require_admin(api, request, ADMINS_ONLY)
    target = await _person(api, request)
    if target.id == caller.id:
        raise BadRequest("you cannot remove yourself: ask another admin")
    await api.run(api.system_store.users.remove_user, target.username)
    return Response(status_code=204)

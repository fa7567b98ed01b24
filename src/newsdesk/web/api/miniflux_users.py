"""The people of the Miniflux-compatible API (issue 15), with Miniflux's shapes, status codes
and rules (internal/api/user_handlers.go): ``GET /v1/me`` is the caller; ``GET /v1/users``,
``POST /v1/users``, ``GET /v1/users/{id or name}`` and ``DELETE /v1/users/{id}`` are an admin's
(403 ``Access Forbidden`` for a member); ``PUT /v1/users/{id}`` is an admin's, or a person's
own (a member cannot make themselves admin).

Where Newsdesk differs: a person keeps their name (a new ``username`` is a 400); an admin
cannot change their own role (another admin can), nor remove themselves (as Miniflux); the
desk keeps at least one admin; the per-person display settings Miniflux keeps (theme,
language …) are accepted and not stored, except ``mark_read_on_view`` (the person's
``mark_read_on_open``: whether opening an entry's page marks it read). The handlers are
declared on ``miniflux.TABLE``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from newsdesk.store.server_key import server_key
from newsdesk.store.users import User
from newsdesk.web.api.access import require_admin, require_user
from newsdesk.web.api.errors import BadRequest, Forbidden, NotFound
from newsdesk.web.api.inputs import bool_field, path_id, read_json_object, str_field
from newsdesk.web.api.miniflux_json import user_json
from newsdesk.web.api.state import ApiState


async def me(request: Request, api: ApiState) -> Response:
    return JSONResponse(user_json(await require_user(api, request)))


async def users(request: Request, api: ApiState) -> Response:
    await require_admin(api, request)
    found = await api.run(api.system_store.users.list_users)
    return JSONResponse([user_json(u) for u in found])


async def create_user(request: Request, api: ApiState) -> Response:
    await require_admin(api, request)
    data = await read_json_object(request)
    name = (str_field(data, "username") or "").strip()
    password = str_field(data, "password") or ""
    if not name or not password:
        raise BadRequest("the username and the password are required")
    role = "admin" if bool_field(data, "is_admin") else "member"
    created = await api.run(api.system_store.users.add_user, name, password, role)
    return JSONResponse(user_json(created), status_code=201)


def _lookup(api: ApiState, identifier: str) -> User | None:
    users_store = api.system_store.users
    if identifier.isdigit() and len(identifier) <= 18:
        return users_store.user_by_id(int(identifier))
    return users_store.get_user(identifier)


async def user(request: Request, api: ApiState) -> Response:
    """``/v1/users/{id}`` or ``/v1/users/{name}`` (Miniflux dispatches on the form)."""
    await require_admin(api, request)
    found = await api.run(_lookup, api, str(request.path_params["identifier"]))
    if found is None:
        raise NotFound()
    return JSONResponse(user_json(found))


async def _target(api: ApiState, request: Request) -> User:
    found = await api.run(api.system_store.users.user_by_id, path_id(request, "user_id"))
    if found is None:
        raise NotFound()
    return found


def _apply(api: ApiState, caller: User, target: User, data: dict[str, Any]) -> User:
    """A ``PUT /v1/users/{id}`` body, checked, then applied. Blocking."""
    name = str_field(data, "username")
    password = str_field(data, "password")
    is_admin = bool_field(data, "is_admin")
    on_view = bool_field(data, "mark_read_on_view")
    if name is not None and name.strip() != target.username:
        raise BadRequest("a user name cannot be changed here: add a new person instead")
    if is_admin is not None and is_admin != target.is_admin:
        if not caller.is_admin:
            raise BadRequest("only administrators can change permissions of standard users")
        if target.id == caller.id:
            raise BadRequest("you cannot change your own role: ask another admin")
    users_store = api.system_store.users
    if password is not None:
        users_store.set_password(target.username, password, server_key=server_key(api.settings))
    if is_admin is not None and is_admin != target.is_admin:
        users_store.set_role(target.username, "admin" if is_admin else "member")
    if on_view is not None:
        users_store.set_preferences(target.id, {"mark_read_on_open": on_view})
    found = users_store.user_by_id(target.id)
    assert found is not None
    return found


async def update_user(request: Request, api: ApiState) -> Response:
    caller = await require_user(api, request)
    target = await _target(api, request)
    if not caller.is_admin and target.id != caller.id:
        raise Forbidden()
    data = await read_json_object(request)
    changed = await api.run(_apply, api, caller, target, data)
    return JSONResponse(user_json(changed), status_code=201)


async def remove_user(request: Request, api: ApiState) -> Response:
    caller = await require_admin(api, request)
    target = await _target(api, request)
    if target.id == caller.id:
        raise BadRequest("you cannot remove yourself")
    await api.run(api.system_store.users.remove_user, target.username)
    return Response(status_code=204, media_type="application/json")

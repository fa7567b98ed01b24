"""The admin pages (issue 15): ``/admin/people``, for admins only (a member gets 403).

List the desk's people (name, role, created, last login, two-factor), add a person, remove
one (their private data goes; a feed stays while anyone follows it), change a role, reset a
password (their sessions end) and turn off someone's two-factor login (a lost phone). The store
keeps at least one admin: removing or demoting the last is refused with its message (400).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from newsdesk.errors import NewsdeskError
from newsdesk.store.server_key import server_key
from newsdesk.store.users import MIN_PASSWORD_LENGTH, ROLES, User
from newsdesk.web.context import WebContext
from newsdesk.web.routing import RouteTable

PREFIX = "/admin"
NOTICES = {
    "added": "{name} is added. Give them their user name and password.",
    "removed": "{name} is removed, with their private data.",
    "role": "{name} is now {role}.",
    "password": "{name}'s password is changed; they are logged out everywhere.",
    "two-factor-off": "Two-factor login is off for {name}.",
}

TABLE = RouteTable[WebContext]()


async def _people_page(
    request: Request, ctx: WebContext, error: str = "", status: int = 200, **extra: Any
) -> Response:
    me = ctx.require_admin(request)
    people = await ctx.run(ctx.store.users.list_users)
    done = request.query_params.get("done", "")
    notice = NOTICES.get(done, "").format(
        name=request.query_params.get("name", "")[:150],
        role=request.query_params.get("role", "")[:16],
    )
    return ctx.render(
        request,
        "admin_people.html",
        title="People",
        me=me,
        people=people,
        roles=ROLES,
        notice=notice,
        error=error,
        min_length=MIN_PASSWORD_LENGTH,
        status_code=status,
        **extra,
    )


def _done(what: str, name: str, **more: str) -> Response:
    return RedirectResponse(
        f"{PREFIX}/people?{urlencode({'done': what, 'name': name, **more})}", 303
    )


async def _person(request: Request, ctx: WebContext) -> User:
    """The person named by the path's id (admins only); 404 when there is none."""
    ctx.require_admin(request)
    found = await ctx.run(ctx.store.users.user_by_id, request.path_params["user_id"])
    if found is None:
        raise HTTPException(404, "There is no such person.")
    return found


@TABLE.get(PREFIX)
async def admin_home(request: Request, ctx: WebContext) -> Response:
    ctx.require_admin(request)
    return RedirectResponse(f"{PREFIX}/people", 303)


@TABLE.get(f"{PREFIX}/people")
async def people(request: Request, ctx: WebContext) -> Response:
    return await _people_page(request, ctx)


@TABLE.post(f"{PREFIX}/people")
async def add_person(request: Request, ctx: WebContext) -> Response:
    ctx.require_admin(request)
    form = await request.form()
    name = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    role = str(form.get("role") or "member")
    try:
        if password != str(form.get("confirm") or password):
            raise NewsdeskError("the two passwords differ")
        await ctx.run(ctx.store.users.add_user, name, password, role)
    except NewsdeskError as exc:
        return await _people_page(request, ctx, str(exc), 400, form={"username": name})
    return _done("added", name)


@TABLE.post(PREFIX + "/people/{user_id:int}/remove")
async def remove_person(request: Request, ctx: WebContext) -> Response:
    person = await _person(request, ctx)
    try:
        await ctx.run(ctx.store.users.remove_user, person.username)
    except NewsdeskError as exc:
        return await _people_page(request, ctx, str(exc), 400)
    return _done("removed", person.username)


@TABLE.post(PREFIX + "/people/{user_id:int}/role")
async def change_role(request: Request, ctx: WebContext) -> Response:
    person = await _person(request, ctx)
    form = await request.form()
    role = str(form.get("role") or "")
    try:
        changed = await ctx.run(ctx.store.users.set_role, person.username, role)
    except NewsdeskError as exc:
        return await _people_page(request, ctx, str(exc), 400)
    return _done("role", changed.username, role=changed.role)


@TABLE.post(PREFIX + "/people/{user_id:int}/password")
async def reset_password(request: Request, ctx: WebContext) -> Response:
    """A new password for someone (they forgot theirs): their sessions end, Fever stays on
    with the new password."""
    person = await _person(request, ctx)
    form = await request.form()
    password = str(form.get("password") or "")
    key = server_key(ctx.settings)
    try:
        await ctx.run(
            lambda: ctx.store.users.set_password(person.username, password, server_key=key)
        )
    except NewsdeskError as exc:
        return await _people_page(request, ctx, str(exc), 400)
    return _done("password", person.username)


@TABLE.post(PREFIX + "/people/{user_id:int}/two-factor-off")
async def two_factor_off(request: Request, ctx: WebContext) -> Response:
    person = await _person(request, ctx)
    await ctx.run(ctx.store.two_factor.disable, person.id)
    return _done("two-factor-off", person.username)


def routes(ctx: WebContext) -> list[BaseRoute]:
    return TABLE.routes(ctx)

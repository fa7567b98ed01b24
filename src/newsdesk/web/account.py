"""The Account page (``/account``): each person's own settings (issue 15).

- Password: changing it needs the current one; every other session of the person ends.
- API keys: the person makes and revokes their own (``store.tokens`` is theirs); a new key is
  shown once, on the page that made it.
- Fever: off until turned on here (or ``newsdesk user fever on``); turning it on needs the
  password, since Fever's key is made from it, and only a keyed verifier of it is stored.
- Two-factor login (``store.two_factor``): enrolment shows the ``otpauth://`` URI and the
  secret, and turns it on only once a code from the app is right; ten recovery codes are then
  shown once. Turning it off, or making new recovery codes, needs the password.
- The syndication key (``?key=`` on republished feed links): rotating it makes every link
  handed out before stop working. It is the desk's, so only an admin rotates it.
- Reading habits (``web.habits``): whether opening an entry marks it read, and whether the
  river marks what is scrolled past.
- Retention (``POST /account/retention``, ``web.retention_form``): the person's default policy
  (keep days, keep read days, keep last; an empty field is no limit).
- Sharing (``/account/sharing``, ``store.sharing``): share one of your categories with someone
  (to read, or to read and manage its feeds), stop sharing, leave a category shared with you.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from newsdesk.errors import NewsdeskError
from newsdesk.store.server_key import server_key
from newsdesk.store.sharing import NoSuchCategoryError
from newsdesk.store.tokens import TokenNotFoundError
from newsdesk.store.two_factor import new_secret, otpauth_uri, seal, secret_text, unseal
from newsdesk.store.users import MIN_PASSWORD_LENGTH, User
from newsdesk.web.context import WebContext
from newsdesk.web.guard import SESSION_COOKIE, session_cookie
from newsdesk.web.pages import FEED_SECRET, FeedQuery
from newsdesk.web.retention_form import LABELS, form_values, policy_from_form
from newsdesk.web.routing import RouteTable

NOTICES = {
    "fever-on": "Fever is on. In the client: this server's address with /fever/, your user "
    "name and your password.",
    "fever-off": "Fever is off: Fever clients can no longer log in.",
    "key": "New syndication key: feed links with the old key no longer work. Give your feed "
    "reader the new links below.",
    "password": "Your password is changed. Other browsers logged in as you must log in again.",
    "revoked": "The API key is revoked: apps using it can no longer get in.",
    "two-factor-off": "Two-factor login is off.",
    "shared": "The category is shared.",
    "unshared": "The category is no longer shared with that person.",
    "left": "You no longer see that category.",
    "preferences": "Your reading habits are saved.",
    "retention": "Your retention policy is saved: the next cleanup applies it.",
}


TABLE = RouteTable[WebContext]()


async def _me(request: Request, ctx: WebContext) -> User:
    """The person asking, fresh from the database (their switches may have just changed)."""
    me = ctx.require_user(request)
    found = await ctx.run(ctx.store.users.user_by_id, me.id)
    if found is None:
        raise HTTPException(404, "no such user")
    return found


async def _account_page(
    request: Request, ctx: WebContext, error: str = "", status: int = 200, **extra: Any
) -> Response:
    user = await _me(request, ctx)

    def load() -> dict[str, Any]:
        return {
            "tokens": ctx.store.tokens.list_tokens(),
            "codes_left": ctx.store.two_factor.recovery_codes_left(user.id),
            "retention": form_values(ctx.store.retention.default(), feed=False),
        }

    return ctx.render(
        request,
        "account.html",
        title="Account",
        user=user,
        notice=NOTICES.get(request.query_params.get("done", ""), ""),
        error=error,
        feed_link="/syndicate/all.atom" + str(FeedQuery(ctx)),
        min_length=MIN_PASSWORD_LENGTH,
        retention_labels=LABELS,
        status_code=status,
        **{**await ctx.run(load), **extra},
    )


def _done(what: str, anchor: str = "") -> Response:
    return RedirectResponse(f"/account?done={what}{anchor}", 303)


@TABLE.get("/account")
async def account(request: Request, ctx: WebContext) -> Response:
    return await _account_page(request, ctx)


@TABLE.post("/account/password")
async def change_password(request: Request, ctx: WebContext) -> Response:
    """A new password (the current one first); this browser gets a new session, the others
    end."""
    me = await _me(request, ctx)
    form = await request.form()
    new = str(form.get("new_password") or "")
    try:
        if not await ctx.run(
            ctx.store.users.verify_password, me.username, str(form.get("password") or "")
        ):
            raise NewsdeskError("wrong password")
        if new != str(form.get("confirm") or ""):
            raise NewsdeskError("the two new passwords differ")
        key = server_key(ctx.settings)
        await ctx.run(lambda: ctx.store.users.set_password(me.username, new, server_key=key))
    except NewsdeskError as exc:
        return await _account_page(request, ctx, str(exc), 400)
    lifetime = timedelta(days=ctx.settings.session_days)
    token = await ctx.run(ctx.store.users.create_session, me.id, lifetime)
    response = _done("password")
    if request.cookies.get(SESSION_COOKIE):
        cookie = session_cookie(token, request.scope, int(lifetime.total_seconds()))
        response.headers.append("set-cookie", cookie)
    return response


@TABLE.post("/account/fever")
async def fever(request: Request, ctx: WebContext) -> Response:
    me = await _me(request, ctx)
    form = await request.form()
    on = str(form.get("fever") or "") == "on"
    try:
        if not me.has_password:
            raise NewsdeskError("set a password first (`newsdesk user set-password`)")
        await ctx.run(
            lambda: ctx.store.users.set_fever(
                me.username,
                on=on,
                password=str(form.get("password") or ""),
                server_key=server_key(ctx.settings),
            )
        )
    except NewsdeskError as exc:
        return await _account_page(request, ctx, str(exc), 400)
    return _done(f"fever-{'on' if on else 'off'}")


@TABLE.post("/account/syndication-key")
async def rotate_key(request: Request, ctx: WebContext) -> Response:
    """The key is the desk's (every person's feed links carry it): an admin's to rotate."""
    ctx.require_admin(request)
    value = await ctx.run(ctx.store.users.rotate_server_secret, FEED_SECRET)
    # The app's one FeedSecret, changed in place (this request's ctx is a copy).
    ctx.feed_secret.value = value
    ctx.feed_secret.read_at = time.monotonic()
    return _done("key")


@TABLE.post("/account/retention")
async def retention(request: Request, ctx: WebContext) -> Response:
    """The person's default retention policy (issue 16); the fields as typed, and why, when a
    value is refused (400)."""
    ctx.require_user(request)
    form = await request.form()
    try:
        policy = policy_from_form(form, feed=False)
        await ctx.run(ctx.store.retention.set_default, policy)
    except NewsdeskError as exc:
        typed = {name: str(form.get(name) or "")[:40] for name in LABELS}
        return await _account_page(request, ctx, str(exc), 400, retention=typed)
    return _done("retention", "#retention-title")


# -- API keys -------------------------------------------------------------------------------


@TABLE.post("/account/keys")
async def make_key(request: Request, ctx: WebContext) -> Response:
    ctx.require_user(request)
    form = await request.form()
    try:
        token, key = await ctx.run(ctx.store.tokens.create_token, str(form.get("name") or ""))
    except NewsdeskError as exc:
        return await _account_page(request, ctx, str(exc), 400)
    return await _account_page(request, ctx, new_key=key, new_key_name=token.name)


@TABLE.post("/account/keys/{key_id:int}/revoke")
async def revoke_key(request: Request, ctx: WebContext) -> Response:
    ctx.require_user(request)
    try:
        await ctx.run(ctx.store.tokens.revoke_token, request.path_params["key_id"])
    except TokenNotFoundError:
        raise HTTPException(404, "You have no such API key.") from None
    return _done("revoked", "#keys-title")


# -- two-factor -----------------------------------------------------------------------------


@TABLE.post("/account/two-factor/start")
async def two_factor_start(request: Request, ctx: WebContext) -> Response:
    """A new secret for the person's app: shown, carried sealed in the confirm form, stored
    only once a code from it is right."""
    me = await _me(request, ctx)
    if me.two_factor:
        return await _account_page(request, ctx, "two-factor login is on already", 400)
    secret = new_secret()
    return await _account_page(
        request,
        ctx,
        enrol={
            "uri": otpauth_uri(me.username, secret),
            "secret": secret_text(secret),
            "sealed": seal(server_key(ctx.settings), secret),
        },
    )


@TABLE.post("/account/two-factor/confirm")
async def two_factor_confirm(request: Request, ctx: WebContext) -> Response:
    me = await _me(request, ctx)
    form = await request.form()
    sealed = str(form.get("sealed") or "")
    key = server_key(ctx.settings)
    try:
        if me.two_factor:
            raise NewsdeskError("two-factor login is on already")
        codes = await ctx.run(
            ctx.store.two_factor.enable, me.id, sealed, str(form.get("code") or ""), key
        )
    except NewsdeskError as exc:
        try:
            secret = unseal(key, sealed)
        except NewsdeskError:
            return await _account_page(request, ctx, str(exc), 400)
        enrol = {"uri": otpauth_uri(me.username, secret), "secret": secret_text(secret)}
        return await _account_page(request, ctx, str(exc), 400, enrol={**enrol, "sealed": sealed})
    return await _account_page(request, ctx, recovery_codes=codes, two_factor_done=True)


async def _check_password(ctx: WebContext, me: User, form: Any) -> None:
    if not await ctx.run(
        ctx.store.users.verify_password, me.username, str(form.get("password") or "")
    ):
        raise NewsdeskError("wrong password")


@TABLE.post("/account/two-factor/off")
async def two_factor_off(request: Request, ctx: WebContext) -> Response:
    me = await _me(request, ctx)
    form = await request.form()
    try:
        await _check_password(ctx, me, form)
    except NewsdeskError as exc:
        return await _account_page(request, ctx, str(exc), 400)
    await ctx.run(ctx.store.two_factor.disable, me.id)
    return _done("two-factor-off")


@TABLE.post("/account/two-factor/recovery-codes")
async def two_factor_codes(request: Request, ctx: WebContext) -> Response:
    me = await _me(request, ctx)
    form = await request.form()
    try:
        await _check_password(ctx, me, form)
        codes = await ctx.run(ctx.store.two_factor.renew_recovery_codes, me.id)
    except NewsdeskError as exc:
        return await _account_page(request, ctx, str(exc), 400)
    return await _account_page(request, ctx, recovery_codes=codes)


# -- sharing --------------------------------------------------------------------------------


async def _sharing_page(
    request: Request, ctx: WebContext, error: str = "", status: int = 200
) -> Response:
    me = await _me(request, ctx)

    def load() -> dict[str, Any]:
        sharing = ctx.store.sharing
        people = [u.username for u in ctx.store.users.list_users() if u.id != me.id]
        return {
            "own": sharing.own_categories(),
            "shares": sharing.my_shares(),
            "shared_with_me": sharing.shared_with_me(),
            "people": people,
        }

    chosen = request.query_params.get("category", "")
    return ctx.render(
        request,
        "sharing.html",
        title="Sharing",
        notice=NOTICES.get(request.query_params.get("done", ""), ""),
        error=error,
        chosen=int(chosen) if chosen.isdigit() and len(chosen) < 10 else None,
        status_code=status,
        **await ctx.run(load),
    )


@TABLE.get("/account/sharing")
async def sharing(request: Request, ctx: WebContext) -> Response:
    return await _sharing_page(request, ctx)


def _category_id(raw: Any) -> int:
    text = str(raw or "")
    if not text.isdigit() or len(text) > 9:
        raise HTTPException(404, "You have no such category.")
    return int(text)


async def _change_shares(
    request: Request, ctx: WebContext, change: Callable[[], object], done: str
) -> Response:
    """Make a change to the person's shares: back to the Sharing page, saying ``done``; their
    message on the page (400) when the store refuses, 404 for a category not theirs."""
    try:
        await ctx.run(change)
    except NoSuchCategoryError:
        raise HTTPException(404, "You have no such category.") from None
    except NewsdeskError as exc:
        return await _sharing_page(request, ctx, str(exc), 400)
    return RedirectResponse(f"/account/sharing?done={done}", 303)


@TABLE.post("/account/sharing")
async def share(request: Request, ctx: WebContext) -> Response:
    ctx.require_user(request)
    form = await request.form()
    category_id = _category_id(form.get("category_id"))
    manage = str(form.get("access") or "read") == "manage"
    name = str(form.get("username") or "")
    return await _change_shares(
        request,
        ctx,
        lambda: ctx.store.sharing.share(category_id, name, can_manage=manage),
        "shared",
    )


@TABLE.post("/account/sharing/{category_id:int}/unshare")
async def unshare(request: Request, ctx: WebContext) -> Response:
    ctx.require_user(request)
    form = await request.form()
    category_id = request.path_params["category_id"]
    user_id = _category_id(form.get("user_id"))
    return await _change_shares(
        request, ctx, lambda: ctx.store.sharing.unshare(category_id, user_id), "unshared"
    )


@TABLE.post("/account/sharing/{category_id:int}/leave")
async def leave(request: Request, ctx: WebContext) -> Response:
    ctx.require_user(request)
    try:
        await ctx.run(ctx.store.sharing.leave, request.path_params["category_id"])
    except NoSuchCategoryError:
        raise HTTPException(404, "No such category is shared with you.") from None
    return RedirectResponse("/account/sharing?done=left", 303)


def routes(ctx: WebContext) -> list[BaseRoute]:
    return TABLE.routes(ctx)

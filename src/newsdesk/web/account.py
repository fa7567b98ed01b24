"""The Account page (``/account``): the user's API switches and keys.

- Fever: off until turned on here (or ``newsdesk user fever on``); turning it on needs the
  password, since Fever's key is made from it, and only a keyed verifier of it is stored.
- The syndication key (``?key=`` on republished feed links): rotating it makes every link
  handed out before stop working.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from newsdesk.errors import NewsdeskError
from newsdesk.store.server_key import server_key
from newsdesk.web.context import FeedSecret, WebContext
from newsdesk.web.pages import FEED_SECRET, FeedQuery
from newsdesk.web.routing import RouteTable

NOTICES = {
    "fever-on": "Fever is on. In the client: this server's address with /fever/, your user "
    "name and your password.",
    "fever-off": "Fever is off: Fever clients can no longer log in.",
    "key": "New syndication key: feed links with the old key no longer work. Give your feed "
    "reader the new links below.",
}


TABLE = RouteTable[WebContext]()


async def _account_page(
    request: Request, ctx: WebContext, error: str = "", status: int = 200
) -> Response:
    me = ctx.require_user(request)
    user = await ctx.run(ctx.store.users.get_user, me.username) if me.id else None
    return ctx.render(
        request,
        "account.html",
        title="Account",
        user=user,
        notice=NOTICES.get(request.query_params.get("done", ""), ""),
        error=error,
        feed_link="/syndicate/all.atom" + str(FeedQuery(ctx)),
        status_code=status,
    )


@TABLE.get("/account")
async def account(request: Request, ctx: WebContext) -> Response:
    return await _account_page(request, ctx)


@TABLE.post("/account/fever")
async def fever(request: Request, ctx: WebContext) -> Response:
    me = ctx.require_user(request)
    form = await request.form()
    on = str(form.get("fever") or "") == "on"
    try:
        if not me.id:
            raise NewsdeskError("set a password first (`newsdesk user set-password`)")
        await ctx.run(
            ctx.store.users.set_fever,
            me.username,
            on=on,
            password=str(form.get("password") or ""),
            server_key=server_key(ctx.settings),
        )
    except NewsdeskError as exc:
        return await _account_page(request, ctx, str(exc), 400)
    return RedirectResponse(f"/account?done=fever-{'on' if on else 'off'}", 303)


@TABLE.post("/account/syndication-key")
async def rotate_key(request: Request, ctx: WebContext) -> Response:
    ctx.require_user(request)
    value = await ctx.run(ctx.store.users.rotate_server_secret, FEED_SECRET)
    ctx.feed_secret = FeedSecret(value)
    return RedirectResponse("/account?done=key", 303)


def routes(ctx: WebContext) -> list[BaseRoute]:
    return TABLE.routes(ctx)

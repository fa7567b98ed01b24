"""The watchlists page: the saved queries that raise alerts, a form to make one, delete, and
the most recent alerts with how their delivery went. The rules (and their messages) are
``newsdesk.store.watchlists``'s, shared with the CLI and the API."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from newsdesk.alerts.deliver import send_test_async
from newsdesk.desk import Desk
from newsdesk.errors import NewsdeskError
from newsdesk.store.watchlists import MODES
from newsdesk.web.context import WebContext
from newsdesk.web.pages import sidebar
from newsdesk.web.routing import RouteTable

RECENT_ALERTS = 50
FORM_FIELDS = ("name", "query", "entities", "webhook", "secret", "email", "ntfy", "ntfy_token")
_SPLIT = re.compile(r"[,;\n]+")


def resolve_entities(desk: Desk, text: str) -> list[int]:
    """Entity ids from what a person types: ids or names, separated by commas."""
    parts = (" ".join(p.split()) for p in _SPLIT.split(text))
    return list(dict.fromkeys(desk.resolve_entity(p).id for p in parts if p))


def channels_from(values: dict[str, str]) -> dict[str, dict[str, Any]]:
    channels: dict[str, dict[str, Any]] = {}
    if values["webhook"]:
        channels["webhook"] = {"url": values["webhook"], "secret": values["secret"]}
    if values["email"]:
        channels["email"] = {"to": [a for a in re.split(r"[\s,;]+", values["email"]) if a]}
    if values["ntfy"]:
        channels["ntfy"] = {"url": values["ntfy"], "token": values["ntfy_token"]}
    return channels


def _choices(form: FormData, name: str) -> list[str]:
    return [str(v).strip() for v in form.getlist(name) if str(v).strip()]


TABLE = RouteTable[WebContext]()


def routes(ctx: WebContext) -> list[BaseRoute]:
    return TABLE.routes(ctx)


def _page_data(ctx: WebContext) -> dict[str, Any]:
    """The watchlists (with their entities' names), the recent alerts, the feed menu."""
    lists = ctx.desk.store.watchlists.list_watchlists()
    names: dict[int, str] = {}
    for wl in lists:
        for eid in wl.entity_ids:
            if eid not in names:
                found = ctx.desk.store.entities.get_entity(eid)
                names[eid] = found.name if found else f"#{eid}"
    return {
        "watchlists": lists,
        "entity_names": names,
        "alerts": ctx.desk.store.watchlists.list_alerts(limit=RECENT_ALERTS),
        "feeds": ctx.store.reading.feed_choices(500),
    }


async def page(
    request: Request,
    ctx: WebContext,
    *,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    data = await ctx.run(_page_data, ctx)
    side = await sidebar(ctx)
    return ctx.render(
        request,
        "intel_watchlists.html",
        title="Watchlists",
        modes=MODES,
        error=error,
        form=form or {"mode": "instant", "categories": [], "feeds": []},
        message=request.query_params.get("message"),
        status_code=400 if error else 200,
        **data,
        **side,
    )


@TABLE.get("/watchlists")
async def watchlists_page(request: Request, ctx: WebContext) -> Response:
    return await page(request, ctx)


@TABLE.post("/watchlists")
async def create(request: Request, ctx: WebContext) -> Response:
    raw = await request.form()
    values = {k: str(raw.get(k) or "").strip() for k in FORM_FIELDS}
    mode = str(raw.get("mode") or "instant")
    chosen_categories = _choices(raw, "category")
    chosen_feeds = _choices(raw, "feed")
    form = {**values, "mode": mode, "categories": chosen_categories, "feeds": chosen_feeds}

    def save() -> str:
        entity_ids = resolve_entities(ctx.desk, values["entities"])
        created = ctx.desk.store.watchlists.create_watchlist(
            name=values["name"],
            query=values["query"],
            entity_ids=entity_ids,
            categories=chosen_categories,
            feed_ids=[int(f) for f in chosen_feeds if f.isdigit()],
            channels=channels_from(values),
            mode=mode,
        )
        return created.name

    try:
        name = await ctx.run(save)
    except NewsdeskError as exc:
        message = str(exc)
        return await page(request, ctx, error=message[:1].upper() + message[1:], form=form)
    target = "/watchlists?" + urlencode({"message": f"Watching “{name}”."})
    return RedirectResponse(target, status_code=303)


@TABLE.post("/watchlists/{watchlist_id:int}/test")
async def test(request: Request, ctx: WebContext) -> Response:
    """One test message on each of the watchlist's channels; says which failed and why."""
    watchlist_id = int(request.path_params["watchlist_id"])
    found = await ctx.run(ctx.desk.store.watchlists.get_watchlist, watchlist_id)
    if found is None:
        raise HTTPException(404, "There is no such watchlist.")
    results = await send_test_async(ctx.settings, found)
    failed = [f"{channel}: {error}" for channel, error in results.items() if error]
    if failed:
        message = f"Test for “{found.name}” failed — " + "; ".join(failed)
    else:
        message = f"Test sent for “{found.name}” by {', '.join(results)}."
    return RedirectResponse("/watchlists?" + urlencode({"message": message}), status_code=303)


@TABLE.post("/watchlists/{watchlist_id:int}/delete")
async def remove(request: Request, ctx: WebContext) -> Response:
    watchlist_id = request.path_params["watchlist_id"]
    if not await ctx.run(ctx.desk.store.watchlists.delete_watchlist, watchlist_id):
        raise HTTPException(404, "There is no such watchlist.")
    target = "/watchlists?" + urlencode({"message": "Watchlist deleted."})
    return RedirectResponse(target, status_code=303)

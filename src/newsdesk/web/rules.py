"""The Rules page (issue 16): a person's rules in the order they run, each with its query and
actions; make one (its query previewed as you type: ``/rules/preview`` answers with the count
and the newest entries it matches, asked by ``static/rules.js``), edit one, move it up or
down, turn it off and on, delete it, or apply it to the entries already stored.

Everything goes through the person's Desk (``add_rule``, ``update_rule``, ``remove_rule``,
``reorder_rules``, ``test_rule``, ``apply_rule``); its messages (a bad query, an unknown
action or watchlist) come back on the form as a 400. Another person's rule is a 404, as one
that does not exist. Forms carry the CSRF token like every other form (``web.guard``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from newsdesk.errors import NewsdeskError
from newsdesk.model import StoredEntry
from newsdesk.store.rules import Rule, RuleNotFoundError
from newsdesk.web.context import WebContext
from newsdesk.web.routing import RouteTable

PREVIEW_LIMIT = 10
MAX_QUERY = 2000
FLAGS = ("block", "read", "star")  # actions without a name
NAMED = ("tag", "category", "alert")  # actions with one: ``tag:NAME`` …
TABLE = RouteTable[WebContext]()


def routes(ctx: WebContext) -> list[BaseRoute]:
    return TABLE.routes(ctx)


def split_names(text: str) -> list[str]:
    return [" ".join(part.split()) for part in text.split(",") if part.strip()]


def actions_from(form: dict[str, Any]) -> list[str]:
    """The actions a form asks for: the ticked flags, then one ``KIND:NAME`` per name typed
    (names separated by commas)."""
    actions = [flag for flag in FLAGS if form.get(flag)]
    for kind in NAMED:
        actions.extend(f"{kind}:{name}" for name in split_names(str(form.get(kind) or "")))
    return actions


def form_of(rule: Rule) -> dict[str, Any]:
    """A stored rule as the form's fields (the inverse of ``actions_from``)."""
    form: dict[str, Any] = {"name": rule.name, "query": rule.query}
    named: dict[str, list[str]] = {kind: [] for kind in NAMED}
    for action in rule.actions:
        kind, _, name = str(action).partition(":")
        if kind in named and name:
            named[kind].append(name)
        elif kind in FLAGS:
            form[kind] = True
    form.update({kind: ", ".join(names) for kind, names in named.items()})
    return form


def read_form(raw: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {k: str(raw.get(k) or "").strip() for k in ("name", "query", *NAMED)}
    values["query"] = values["query"][:MAX_QUERY]
    values.update({flag: bool(raw.get(flag)) for flag in FLAGS})
    return values


def _say(message: str) -> str:
    """A message as a sentence, unless it starts with a query's term (``title~"(a": …``)."""
    first = message.split(" ", 1)[0]
    return message[:1].upper() + message[1:] if first.isalpha() else message


def done(message: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse("/rules?" + urlencode({"message": message}) + anchor, status_code=303)


def rule_or_404(ctx: WebContext, rule_id: int) -> Rule:
    """The person's rule ``rule_id``; another's, or none, is a 404. Blocking."""
    try:
        return ctx.desk.rule(rule_id)
    except RuleNotFoundError:
        raise HTTPException(404, "There is no such rule.") from None


def _page_data(ctx: WebContext) -> dict[str, Any]:
    return {
        "rules": ctx.desk.rules(),
        "watchlists": [w.name for w in ctx.desk.store.watchlists.list_watchlists()],
    }


async def page(
    request: Request,
    ctx: WebContext,
    *,
    error: str | None = None,
    form: dict[str, Any] | None = None,
    editing: Rule | None = None,
) -> Response:
    """The list and the new rule's form; with ``editing``, that rule's form instead."""
    data = await ctx.run(_page_data, ctx)
    return ctx.render(
        request,
        "rules.html",
        title=f"Rule “{editing.name}”" if editing is not None else "Rules",
        error=error,
        form=form or {},
        editing=editing,
        message=request.query_params.get("message"),
        status_code=400 if error else 200,
        **data,
    )


@TABLE.get("/rules")
async def rules_page(request: Request, ctx: WebContext) -> Response:
    return await page(request, ctx)


@TABLE.post("/rules")
async def create(request: Request, ctx: WebContext) -> Response:
    form = read_form(await request.form())

    def save() -> Rule:
        return ctx.desk.add_rule(form["query"], actions_from(form), name=form["name"] or None)

    try:
        made = await ctx.run(save)
    except NewsdeskError as exc:
        return await page(request, ctx, error=_say(str(exc)), form=form)
    return done(f"Rule “{made.name}” saved: it runs on new entries.", f"#rule-{made.id}")


@TABLE.get("/rules/preview")
async def preview(request: Request, ctx: WebContext) -> Response:
    """The count and the newest entries a query matches, as a piece of the page (400 with the
    query's fault)."""
    query = (request.query_params.get("q") or "").strip()[:MAX_QUERY]
    count, entries, error = 0, list[StoredEntry](), None
    if query:
        try:
            count, entries = await ctx.run(ctx.desk.test_rule, query, PREVIEW_LIMIT)
        except NewsdeskError as exc:
            error = _say(str(exc))
    return ctx.render(
        request,
        "rules_preview.html",
        query=query,
        count=count,
        entries=entries,
        error=error,
        status_code=400 if error else 200,
    )


def _rule_id(request: Request) -> int:
    return int(request.path_params["rule_id"])


@TABLE.get("/rules/{rule_id:int}")
async def edit_page(request: Request, ctx: WebContext) -> Response:
    found = await ctx.run(rule_or_404, ctx, _rule_id(request))
    return await page(request, ctx, form=form_of(found), editing=found)


@TABLE.post("/rules/{rule_id:int}")
async def save(request: Request, ctx: WebContext) -> Response:
    found = await ctx.run(rule_or_404, ctx, _rule_id(request))
    form = read_form(await request.form())

    def change() -> Rule:
        name = form["name"] or found.name
        return ctx.desk.update_rule(
            found.id, name=name, query=form["query"], actions=actions_from(form)
        )

    try:
        changed = await ctx.run(change)
    except NewsdeskError as exc:
        return await page(request, ctx, error=_say(str(exc)), form=form, editing=found)
    return done(f"Rule “{changed.name}” saved.", f"#rule-{changed.id}")


@TABLE.post("/rules/{rule_id:int}/enabled")
async def enable(request: Request, ctx: WebContext) -> Response:
    found = await ctx.run(rule_or_404, ctx, _rule_id(request))
    on = str((await request.form()).get("value") or "") == "1"
    await ctx.run(lambda: ctx.desk.update_rule(found.id, enabled=on))
    state = "on" if on else "off"
    return done(f"Rule “{found.name}” is {state}.", f"#rule-{found.id}")


@TABLE.post("/rules/{rule_id:int}/move")
async def move(request: Request, ctx: WebContext) -> Response:
    """One place up (runs sooner) or down."""
    rule_id = _rule_id(request)
    direction = str((await request.form()).get("direction") or "")
    if direction not in ("up", "down"):
        raise HTTPException(400, "Move a rule up or down.")

    def reorder() -> Any:
        found = rule_or_404(ctx, rule_id)
        ids = [r.id for r in ctx.desk.rules()]
        if found.id not in ids:  # deleted a moment ago
            raise HTTPException(404, "There is no such rule.")
        at = ids.index(found.id)
        to = at - 1 if direction == "up" else at + 1
        if 0 <= to < len(ids):
            ids[at], ids[to] = ids[to], ids[at]
            ctx.desk.reorder_rules(ids)
        return found

    found = await ctx.run(reorder)
    return done(f"Rule “{found.name}” moved {direction}.", f"#rule-{found.id}")


@TABLE.post("/rules/{rule_id:int}/apply")
async def apply(request: Request, ctx: WebContext) -> Response:
    found = await ctx.run(rule_or_404, ctx, _rule_id(request))
    changed = await ctx.run(ctx.desk.apply_rule, found.id)
    noun = "entry" if changed == 1 else "entries"
    return done(f"Rule “{found.name}” applied: {changed} {noun} changed.", f"#rule-{found.id}")


@TABLE.post("/rules/{rule_id:int}/delete")
async def remove(request: Request, ctx: WebContext) -> Response:
    found = await ctx.run(rule_or_404, ctx, _rule_id(request))
    await ctx.run(ctx.desk.remove_rule, found.id)
    return done(f"Rule “{found.name}” deleted.")

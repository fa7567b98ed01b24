"""Managing the desk from the web: subscriptions (add with discovery, edit, remove, status,
refresh now with live progress), OPML import and export, saved searches and the digest view."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from newsdesk.desk import parse_since
from newsdesk.errors import FeedNotFoundError, NewsdeskError
from newsdesk.model import Feed
from newsdesk.publish.digest import render_digest
from newsdesk.store import EntryQuery
from newsdesk.web.context import WebContext
from newsdesk.web.feed_options_form import interval_text, option_changes
from newsdesk.web.jobs import RefreshJob
from newsdesk.web.pages import View, sidebar, with_shared
from newsdesk.web.retention_form import LABELS, form_values, limit_text, policy_from_form
from newsdesk.web.routing import RouteTable

MAX_OPML_BYTES = 5 * 1024 * 1024
DIGEST_SPANS = (
    ("24h", "Last 24 hours"),
    ("3d", "Last 3 days"),
    ("7d", "Last week"),
    ("30d", "Last month"),
    ("365d", "Last year"),
)


def feed_status(feed: Feed) -> tuple[str, str]:
    """(css class, words) for a feed's health."""
    if feed.paused:
        return "bad", "paused: " + (feed.paused_reason or "too many errors")
    if feed.error_count:
        return "bad", f"failing ×{feed.error_count}: {feed.last_error or 'error'}"
    if feed.last_status:
        return "ok", f"OK (HTTP {feed.last_status})"
    return "new", "not fetched yet"


TABLE = RouteTable[WebContext]()


def routes(ctx: WebContext) -> list[BaseRoute]:
    ctx.templates.env.globals["feed_status"] = feed_status
    return TABLE.routes(ctx)


def _job(request: Request, ctx: WebContext) -> RefreshJob | None:
    """The refresh a page asks about (``?job=``), else the one running, if the person may
    follow it."""
    raw = request.query_params.get("job", "")
    viewer = ctx.desk.person
    return ctx.jobs.get(int(raw), viewer) if raw.isdigit() else ctx.jobs.running(viewer)


async def subscriptions_page(
    request: Request,
    ctx: WebContext,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    def load() -> dict[str, Any]:
        return {
            "feeds": ctx.desk.store.reading.subscription_feeds(),
            "categories": ctx.desk.store.categories(),
        }

    data = await ctx.run(load)
    return ctx.render(
        request,
        "subscriptions.html",
        title="Subscriptions",
        feeds=data["feeds"],
        category_names=[title for _id, title, _n in data["categories"]],
        error=error,
        form=form or {},
        job=_job(request, ctx),
        message=request.query_params.get("message"),
        status_code=400 if error else 200,
        **await sidebar(ctx),
    )


@TABLE.get("/subscriptions")
async def subscriptions(request: Request, ctx: WebContext) -> Response:
    return await subscriptions_page(request, ctx)


@TABLE.post("/subscriptions/add")
async def add(request: Request, ctx: WebContext) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ("url", "category", "title")}
    if not values["url"]:
        return await subscriptions_page(
            request,
            ctx,
            error="Give the address of a feed or of a site that links to one.",
            form=values,
        )
    url = values["url"]
    if "://" not in url:
        url = "https://" + url
    try:
        feed = await ctx.desk.subscribe(
            url, category=values["category"] or None, title=values["title"] or None
        )
    except NewsdeskError as exc:
        return await subscriptions_page(request, ctx, error=str(exc), form=values)
    job = ctx.jobs.start([feed.id], ctx.desk.person)
    message = f"Subscribed to {feed.display_title}; fetching it now."
    target = "/subscriptions?" + urlencode({"message": message, "job": job.id})
    return RedirectResponse(target, status_code=303)


async def _feed(request: Request, ctx: WebContext) -> Feed:
    try:
        return await ctx.run(ctx.desk.store.get_feed, request.path_params["feed_id"])
    except FeedNotFoundError:
        raise HTTPException(404, "There is no such feed.") from None


@TABLE.route("/subscriptions/{feed_id:int}", "GET", "POST")
async def edit(request: Request, ctx: WebContext) -> Response:
    feed = await _feed(request, ctx)
    error = retention_error = None
    if request.method == "POST":
        form = await request.form()
        if form.get("section") == "retention":  # the person's retention for it (issue 16)
            try:
                policy = policy_from_form(form, feed=True)
                await ctx.run(ctx.store.retention.set_feed, feed.id, policy)
            except FeedNotFoundError:
                error = "You see this feed through a shared category: its owner's policy applies."
            except NewsdeskError as exc:
                error = str(exc)
            else:
                target = f"/subscriptions/{feed.id}?kept=1#retention"
                return RedirectResponse(target, status_code=303)
            retention_error = error
        elif form.get("section") == "options":  # how the feed is fetched (issue 16)
            try:
                saved = await ctx.run(ctx.desk.set_feed_options, feed.id, option_changes(form))
            except NewsdeskError as exc:
                error = str(exc)
            else:
                target = f"/subscriptions/{saved.id}?" + urlencode({"message": "Saved."})
                return RedirectResponse(target, status_code=303)
        else:
            error = await _save_names(ctx, feed, form)
            if error is None:
                return RedirectResponse(
                    "/subscriptions?" + urlencode({"message": "Saved."}), status_code=303
                )
    categories = await ctx.run(ctx.desk.store.categories)
    return ctx.render(
        request,
        "subscription.html",
        title=feed.display_title,
        feed=feed,
        error=error,
        message=request.query_params.get("message"),
        interval=interval_text(feed.check_interval),
        category_names=[title for _id, title, _n in categories],
        status_code=400 if error else 200,
        retention=await ctx.run(_retention, ctx, feed.id),
        retention_error=retention_error,
        retention_saved=request.query_params.get("kept") == "1",
        **await sidebar(ctx),
    )


def _retention(ctx: WebContext, feed_id: int) -> dict[str, Any] | None:
    """The feed page's retention section: the person's own keys for the feed (as the form
    shows them), their default and the effective policy, by field; None for a feed seen
    through a shared category (its owner's policy applies). Blocking."""
    store = ctx.store.retention
    try:
        own = store.feed(feed_id)
    except FeedNotFoundError:
        return None
    default = store.default()
    effective = store.effective(feed_id).as_dict()
    return {
        "values": form_values(own, feed=True),
        "fields": [
            (name, label, limit_text(name, default.get(name)), limit_text(name, effective[name]))
            for name, label in LABELS.items()
        ],
    }


async def _save_names(ctx: WebContext, feed: Feed, form: FormData) -> str | None:
    """The person's title and category for the feed; an error message when they cannot be."""
    title = str(form.get("title") or "").strip()
    category = str(form.get("category") or "").strip()
    if len(title) > 1000 or len(category) > 300:
        return "The title or category is too long."
    await ctx.run(
        ctx.desk.store.update_feed,
        feed.id,
        custom_title=title or None,
        category=category or None,
    )
    return None


@TABLE.post("/subscriptions/{feed_id:int}/remove")
async def remove(request: Request, ctx: WebContext) -> Response:
    feed = await _feed(request, ctx)
    await ctx.run(ctx.desk.store.remove_feed, feed.id)
    message = f"Unsubscribed from {feed.display_title}."
    return RedirectResponse("/subscriptions?" + urlencode({"message": message}), 303)


def _refresh_ids(ctx: WebContext, raw: str) -> list[int] | None:
    """What a refresh asked for from the pages fetches: the feed named (one the person sees,
    else a 404), else every feed they see that is not paused (every feed with no person)."""
    if raw.isdigit():
        try:
            return [ctx.desk.store.get_feed(int(raw)).id]
        except FeedNotFoundError:
            raise HTTPException(404, "There is no such feed.") from None
    if ctx.desk.person is None:
        return None
    return [f.id for f in ctx.desk.store.list_feeds() if not f.paused]


@TABLE.post("/refresh")
async def refresh(request: Request, ctx: WebContext) -> Response:
    form = await request.form()
    raw = str(form.get("feed") or "")
    job = ctx.jobs.start(await ctx.run(_refresh_ids, ctx, raw), ctx.desk.person)
    if request.headers.get("hx-request"):
        return ctx.render(request, "_progress.html", job=job)
    return RedirectResponse(f"/refresh/{job.id}", status_code=303)


@TABLE.get("/refresh/{job_id:int}")
async def refresh_status(request: Request, ctx: WebContext) -> Response:
    job = ctx.jobs.get(request.path_params["job_id"], ctx.desk.person)
    if job is None:
        raise HTTPException(404, "There is no such refresh (it may be long finished).")
    if request.headers.get("hx-request"):
        return ctx.render(request, "_progress.html", job=job)
    return ctx.render(request, "refresh.html", title="Refresh", job=job, **await sidebar(ctx))


@TABLE.get("/opml")
async def opml_export(_request: Request, ctx: WebContext) -> Response:
    text = await ctx.run(ctx.desk.export_opml)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return Response(
        text,
        media_type="text/x-opml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="newsdesk-{stamp}.opml"'},
    )


@TABLE.post("/opml")
async def opml_import(request: Request, ctx: WebContext) -> Response:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await subscriptions_page(request, ctx, error="Choose an OPML file to import.")
    data = await upload.read(MAX_OPML_BYTES + 1)
    if len(data) > MAX_OPML_BYTES:
        return await subscriptions_page(request, ctx, error="That OPML file is too large.")
    try:
        report = await ctx.run(ctx.desk.import_opml, data)
    except NewsdeskError as exc:
        return await subscriptions_page(request, ctx, error=f"Cannot import that file: {exc}")
    message = f"Imported {len(report.added)} feeds ({len(report.skipped)} skipped)."
    return RedirectResponse("/subscriptions?" + urlencode({"message": message}), 303)


@TABLE.post("/saved-searches")
async def saved_create(request: Request, ctx: WebContext) -> Response:
    form = await request.form()
    filters = {
        k: str(form.get(k) or "").strip()
        for k in ("category", "feed", "kind", "since", "until", "entity")
        if str(form.get(k) or "").strip()
    }
    query = str(form.get("q") or "")
    try:
        await ctx.run(
            ctx.store.saved_searches.save_search, str(form.get("name") or query), query, filters
        )
    except NewsdeskError as exc:
        raise HTTPException(400, str(exc)) from None
    return RedirectResponse("/search?" + urlencode({"q": query, **filters}), 303)


@TABLE.post("/saved-searches/{search_id:int}/delete")
async def saved_delete(request: Request, ctx: WebContext) -> Response:
    if not await ctx.run(
        ctx.store.saved_searches.delete_saved_search, request.path_params["search_id"]
    ):
        raise HTTPException(404, "There is no such saved search.")
    return RedirectResponse("/search", 303)


def _digest_items(
    ctx: WebContext, since: datetime | None, chosen: list[str], fmt: str
) -> tuple[list[Any], str]:
    """The entries since ``since`` in the chosen categories (all without), newest first, and
    the digest of them in ``fmt``."""
    found = []
    wanted: list[str | None] = list(chosen) or [None]
    for category in wanted:
        found.extend(ctx.desk.entries(EntryQuery(since=since, category=category, limit=500)))
    found.sort(key=lambda e: (e.published, e.id), reverse=True)
    return with_shared(ctx, found), render_digest(found, fmt, ctx.desk.shared_articles)


def _digest_file(source: str, fmt: str) -> Response:
    suffix = {"html": "html", "markdown": "md", "text": "txt"}[fmt]
    media = {"html": "text/html", "markdown": "text/markdown", "text": "text/plain"}[fmt]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return Response(
        source,
        media_type=f"{media}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="digest-{stamp}.{suffix}"',
            # A downloaded HTML digest must not run anything if opened from our origin.
            "Content-Security-Policy": "sandbox; default-src 'none'; img-src *",
        },
    )


@TABLE.get("/digest")
async def digest(request: Request, ctx: WebContext) -> Response:
    params = request.query_params
    span = params.get("since", "24h").strip() or "24h"
    fmt = params.get("format", "html")
    fmt = fmt if fmt in ("html", "markdown", "text") else "html"
    chosen = [c for c in params.getlist("category") if c]
    page: dict[str, Any] = {
        "title": "Digest",
        "since": span,
        "fmt": fmt,
        "chosen": chosen,
        "spans": DIGEST_SPANS,
    }
    try:
        since = parse_since(span)
    except NewsdeskError as exc:
        return ctx.render(
            request,
            "digest.html",
            error=str(exc),
            items=[],
            source="",
            status_code=400,
            **page,
            **await sidebar(ctx),
        )
    items, source = await ctx.run(_digest_items, ctx, since, chosen, fmt)
    if params.get("download"):
        return _digest_file(source, fmt)
    return ctx.render(
        request,
        "digest.html",
        items=items,
        source=source,
        view=View(),
        error=None,
        **page,
        **await sidebar(ctx),
    )

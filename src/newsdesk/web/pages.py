"""Reading pages: the river (all, per category, per feed, per tag) with unread/starred/all
filters and infinite scroll, one card per story when ``story_river`` is on, the entry page
(with its story, entities and dated events, and a Re-extract action), search (words and/or an
entity), and the read/star/mark-all-read actions."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from newsdesk.desk import parse_since
from newsdesk.errors import EntryNotFoundError, NewsdeskError
from newsdesk.model import StoredEntry
from newsdesk.publish.digest import Shared
from newsdesk.query import QueryError
from newsdesk.query import parse as parse_query
from newsdesk.store import EntryQuery
from newsdesk.store.entities import Entity
from newsdesk.store.search import query_words
from newsdesk.store.users import User
from newsdesk.web.context import WebContext
from newsdesk.web.intel.lookup import entry_intel
from newsdesk.web.intel.river import group_stories
from newsdesk.web.routing import RouteTable

PAGE_SIZE = 30
# How long an entry's page waits for its entry to be marked read (seconds): the mark takes a
# few ms, unless a refresh holds SQLite's write lock (then the page goes first).
MARK_WAIT = 0.05
MAX_FEED_MENU = 500
SHOWS = ("unread", "starred", "all")
FEED_FORMATS = (("atom", "Atom"), ("rss", "RSS"), ("json", "JSON Feed"))
FEED_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}
OLDER_THAN = {"": None, "1d": timedelta(days=1), "3d": timedelta(days=3), "7d": timedelta(days=7)}


@dataclass(frozen=True, slots=True)
class View:
    """Which entries a river shows: all, or one category, feed or tag."""

    kind: str = "all"
    value: str = ""
    title: str = "All entries"

    def heading(self, show: str) -> str:
        """The page's title: what the view is and which of its entries it shows."""
        if self.kind == "all":
            return {"unread": "Unread", "starred": "Starred"}.get(show, "All entries")
        return self.title + {"unread": " · unread", "starred": " · starred"}.get(show, "")

    @property
    def key(self) -> str:
        return "all" if self.kind == "all" else f"{self.kind}:{self.value}"

    @property
    def path(self) -> str:
        if self.kind == "all":
            return "/"
        return f"/{self.kind}/{quote(self.value, safe='')}"

    def query(self, show: str = "all") -> EntryQuery:
        q = EntryQuery(limit=PAGE_SIZE)
        if self.kind == "category":
            q.category = self.value
        elif self.kind == "feed":
            q.feed_id = int(self.value)
        elif self.kind == "tag":
            q.tag = self.value
        if show == "unread":
            q.read = False
        elif show == "starred":
            q.starred = True
        return q

    def syndication_path(self) -> str:
        if self.kind == "all":
            return "/syndicate/all"
        return f"/syndicate/{self.kind}/{quote(self.value, safe='')}"


def parse_view(key: str | None) -> View:
    """``all``, ``category:NAME``, ``feed:ID`` or ``tag:NAME`` (as pages pass it along)."""
    if not key or key == "all":
        return View()
    kind, _, value = key.partition(":")
    if kind not in {"category", "feed", "tag"} or not value:
        return View()
    if kind == "feed" and not value.isdigit():
        return View()
    return View(kind, value, value)


FEED_SECRET = "feed-links"
# How long a server trusts its copy of the feed secret: a key rotated by the CLI (another
# process) is picked up within this time.
FEED_SECRET_SECONDS = 30.0


def syndication_key(secret: str, person_id: int | None = None) -> str:
    """The reader key of one person's republished feeds: an HMAC of their id under the feed
    secret, so a key shows its own person's view and no one else's. Without a person, the key
    links made before teams carry (and ``newsdesk syndication rotate-key`` prints): the desk
    owner's, its first admin (``key_person``)."""
    message = b"syndication" if person_id is None else f"syndication:{person_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def _feed_secret(ctx: WebContext) -> str:
    secret = ctx.feed_secret
    if time.monotonic() - secret.read_at > FEED_SECRET_SECONDS:
        secret.value = ctx.system_desk.store.users.server_secret(FEED_SECRET)
        secret.read_at = time.monotonic()
    return secret.value


def feed_key(ctx: WebContext) -> str:
    """The key that lets a feed reader (no session) fetch the republished feeds of the person
    asking; with no person (the app's own context), the desk owner's, as its store is."""
    person = ctx.desk.person
    return syndication_key(_feed_secret(ctx), None if person is None else person.id)


def key_person(ctx: WebContext, key: str) -> User | None:
    """Whose reader key ``key`` is (None: no one's): each person's key is compared, in constant
    time; the key without a person is the first admin's."""
    if not key:
        return None
    secret = _feed_secret(ctx)
    users = ctx.system_desk.store.users
    for person in users.list_users():
        if hmac.compare_digest(key, syndication_key(secret, person.id)):
            return person
    if hmac.compare_digest(key, syndication_key(secret)):
        return users.get_user()
    return None


class FeedQuery:
    """``?key=…`` for the pages' feed links, read when a page is rendered (so after a key
    rotation the pages show the new key)."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx

    def __str__(self) -> str:
        return "" if self.ctx.no_auth else "?key=" + feed_key(self.ctx)


def feed_links(ctx: WebContext, path: str, title: str) -> list[dict[str, str]]:
    """Autodiscovery links for a page's republished feeds (with the reader key)."""
    key = "" if ctx.no_auth else "?key=" + feed_key(ctx)
    return [
        {
            "title": f"{title} ({label})",
            "href": f"{path}.{fmt}{key}",
            "type": FEED_TYPES[fmt],
            "label": label,
        }
        for fmt, label in FEED_FORMATS
    ]


def _show(request: Request) -> str:
    show = request.query_params.get("show", "unread")
    return show if show in SHOWS else "unread"


def _page(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return max(1, min(int(raw), 10_000)) if raw.isdigit() else 1


def _after(request: Request) -> int | None:
    raw = request.query_params.get("after", "")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 11 else None


def with_shared(
    ctx: WebContext, found: list[StoredEntry]
) -> list[tuple[StoredEntry, list[Shared]]]:
    return [(e, ctx.desk.shared_articles(e) if e.kind == "post" else []) for e in found]


async def sidebar(ctx: WebContext) -> dict[str, Any]:
    def load() -> dict[str, Any]:
        return {
            "categories": ctx.store.reading.unread_by_category(),
            "saved_searches": ctx.store.saved_searches.list_saved_searches(),
        }

    return await ctx.run(load)


TABLE = RouteTable[WebContext]()


def routes(ctx: WebContext) -> list[BaseRoute]:
    return TABLE.routes(ctx)


async def river(
    request: Request, ctx: WebContext, view: View, extra: dict[str, Any] | None = None
) -> Response:
    """A page of a view's entries (one card per story with ``story_river``); the next pages
    come as bare cards for infinite scroll."""
    show = _show(request)
    page = _page(request)
    query = view.query(show)
    query.limit = PAGE_SIZE + 1
    after = _after(request)
    query.after_id = after
    query.offset = 0 if after is not None else (page - 1) * PAGE_SIZE
    # Scrolled-past entries turn read while the person reads on: the next page continues after
    # the last entry shown (an offset would skip as many unread entries as were marked).
    on_scroll = ctx.desk.person is not None and ctx.desk.person.preferences.mark_read_on_scroll

    def load() -> tuple[list[tuple[StoredEntry, list[Shared]]], bool, dict[int, Any], int]:
        found = ctx.desk.entries(query)
        shown = found[:PAGE_SIZE]
        last = shown[-1].id if shown else 0
        cards: dict[int, Any] = {}
        if ctx.settings.story_river and shown:
            shown, cards = group_stories(
                ctx.desk.store, shown, view.query(show), first_page=page == 1
            )
        return with_shared(ctx, shown), len(found) > PAGE_SIZE, cards, last

    items, more, stories, last = await ctx.run(load)
    params = {"show": show, "page": page + 1, **({"after": last} if on_scroll else {})}
    next_url = f"{view.path}?{urlencode(params)}" if more else None
    variables: dict[str, Any] = {
        "items": items,
        "view": view,
        "show": show,
        "page": page,
        "next_url": next_url,
        "stories": stories,
        "mark_on_scroll": on_scroll,
    }
    if request.headers.get("hx-request") and page > 1:
        return ctx.render(request, "_cards.html", **variables)
    return ctx.render(
        request,
        "river.html",
        title=view.heading(show),
        feed_links=feed_links(ctx, view.syndication_path(), view.title),
        shows=SHOWS,
        older_than=list(OLDER_THAN),
        **variables,
        **(extra or {}),
        **await sidebar(ctx),
    )


@TABLE.get("/")
async def home(request: Request, ctx: WebContext) -> Response:
    return await river(request, ctx, View())


@TABLE.get("/category/{name:path}")
async def category(request: Request, ctx: WebContext) -> Response:
    name = request.path_params["name"]
    found = await ctx.run(ctx.store.reading.feeds_in_category, name)
    if not found:
        raise HTTPException(404, f"There is no category named {name!r}.")
    return await river(request, ctx, View("category", name, name), {"category_feeds": found})


@TABLE.get("/feed/{feed_id:int}")
async def feed(request: Request, ctx: WebContext) -> Response:
    feed_id = request.path_params["feed_id"]
    found = await ctx.run(ctx.desk.store.get_feed, feed_id)
    view = View("feed", str(feed_id), found.display_title)
    return await river(request, ctx, view, {"feed": found})


@TABLE.get("/tag/{name:path}")
async def tag(request: Request, ctx: WebContext) -> Response:
    name = request.path_params["name"]
    return await river(request, ctx, View("tag", name, "#" + name))


@TABLE.get("/categories")
async def categories_page(request: Request, ctx: WebContext) -> Response:
    groups = await ctx.run(ctx.store.reading.category_groups)
    return ctx.render(
        request, "categories.html", title="Categories", groups=groups, **await sidebar(ctx)
    )


def _entry_or_404(ctx: WebContext, entry_id: int) -> StoredEntry:
    try:
        return ctx.desk.store.get_entry(entry_id)
    except NewsdeskError:
        raise HTTPException(404, f"There is no entry {entry_id}.") from None


def _entry_data(ctx: WebContext, entry_id: int, view: View) -> dict[str, Any]:
    """An entry's page: what it shares, related entries, its neighbours in ``view``, its
    story, entities and events."""
    entry = _entry_or_404(ctx, entry_id)
    related = (
        ctx.desk.entries(EntryQuery(ids=entry.related[:20], limit=20)) if entry.related else []
    )
    newer, older = ctx.store.reading.adjacent_entries(entry, view.query("all"))
    return {
        "entry": entry,
        "shared": ctx.desk.shared_articles(entry),
        "related": related,
        "newer": newer,
        "older": older,
        **entry_intel(ctx.desk.store, entry),
    }


@TABLE.get("/entry/{entry_id:int}")
async def entry_page(request: Request, ctx: WebContext) -> Response:
    entry_id = request.path_params["entry_id"]
    view = parse_view(request.query_params.get("in"))
    data = await ctx.run(_entry_data, ctx, entry_id, view)
    entry = data["entry"]
    if ctx.desk.marks_on_open(entry):  # as ``Desk.open_entry``, in the write lane
        # The page waits for the mark a moment only: while a refresh holds SQLite's write
        # lock it is sent first; the person's next write waits for the mark (web.lanes).
        marking = ctx.write_later(ctx.desk.mark, [entry.id], read=True)
        entry.read = True
        await asyncio.wait({marking}, timeout=MARK_WAIT)
    return ctx.render(
        request,
        "entry.html",
        title=data["entry"].title or data["entry"].feed_title or "Entry",
        view=view,
        refetched=request.query_params.get("refetched"),
        **data,
        **await sidebar(ctx),
    )


def _apply_toggle(
    ctx: WebContext, entry_id: int, flag: str, raw: str, story_id: int | None
) -> StoredEntry:
    """Set (``raw`` "1" or "0") or flip an entry's ``read`` or ``starred``; with ``story_id``,
    mark every member of the entry's story (its card stands for them all)."""
    entry = _entry_or_404(ctx, entry_id)
    current = getattr(entry, flag)
    value = {"1": True, "0": False}.get(raw, not current)
    if story_id is not None and entry.story_id != story_id:
        raise HTTPException(400, f"Entry {entry_id} is not in story {story_id}.")
    if story_id is not None:
        ctx.desk.mark_story(story_id, value)
    elif flag == "read":
        ctx.desk.mark([entry.id], read=value)
    else:
        ctx.desk.mark([entry.id], starred=value)
    setattr(entry, flag, value)
    return entry


async def toggle(request: Request, ctx: WebContext, flag: str) -> Response:
    entry_id = request.path_params["entry_id"]
    form = await request.form()
    raw = str(form.get("value", ""))
    story_raw = str(form.get("story", ""))
    story_id = int(story_raw) if flag == "read" and story_raw.isdigit() else None
    entry = await ctx.run(_apply_toggle, ctx, entry_id, flag, raw, story_id)
    if request.headers.get("hx-request"):
        return ctx.render(
            request,
            "_actions.html",
            entry=entry,
            view=parse_view(None),
            marked_story=story_id,
        )
    return RedirectResponse(_back(request, form.get("next")), status_code=303)


@TABLE.post("/entry/{entry_id:int}/read")
async def read_toggle(request: Request, ctx: WebContext) -> Response:
    return await toggle(request, ctx, "read")


@TABLE.post("/entry/{entry_id:int}/star")
async def star_toggle(request: Request, ctx: WebContext) -> Response:
    return await toggle(request, ctx, "starred")


@TABLE.post("/entry/{entry_id:int}/refetch")
async def refetch(request: Request, ctx: WebContext) -> Response:
    """Re-extract: the entry's page (or the pages a post shares) fetched anew, its text
    extracted again; back to the entry page, which says how it went."""
    entry_id = request.path_params["entry_id"]
    form = await request.form()
    try:
        report = await ctx.desk.refetch_async([entry_id])
    except EntryNotFoundError:
        raise HTTPException(404, f"There is no entry {entry_id}.") from None
    outcome = "failed" if report.failed else "done"
    query = {"in": str(form.get("in") or ""), "refetched": outcome}
    target = f"/entry/{entry_id}?" + urlencode({k: v for k, v in query.items() if v})
    return RedirectResponse(target, status_code=303)


@TABLE.post("/mark-read")
async def mark_all_read(request: Request, ctx: WebContext) -> Response:
    form = await request.form()
    view = parse_view(str(form.get("in") or "all"))
    span = OLDER_THAN.get(str(form.get("older_than") or ""))
    cutoff = datetime.now(UTC) - span if span else None
    count = await ctx.run(ctx.desk.mark_view_read, view.query("all"), cutoff)
    target = view.path + ("?" + urlencode({"marked": count}))
    return RedirectResponse(target, status_code=303)


SEARCH_FILTERS = ("category", "feed", "kind", "since", "until")


@dataclass(slots=True)
class SearchForm:
    """What the search page was asked: the words, the filters as typed, the query they make,
    the entity chosen, what was wrong with them, and whether a story's matches come as one
    card."""

    text: str
    page: int
    filters: dict[str, str]
    query: EntryQuery
    grouped: bool
    entity: Entity | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def chosen(self) -> dict[str, str]:
        return {k: v for k, v in self.filters.items() if v}


async def read_search_form(request: Request, ctx: WebContext) -> SearchForm:
    params = request.query_params
    page = _page(request)
    filters = {name: params.get(name, "").strip() for name in SEARCH_FILTERS}
    filters["entity"] = params.get("entity", "").strip()[:200]
    form = SearchForm(
        text=params.get("q", "").strip(),
        page=page,
        filters=filters,
        query=EntryQuery(limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE),
        # A story's matches come as one card (as in the river) unless asked for one by one.
        grouped=params.get("group", "story") != "none",
    )
    query = form.query
    if filters["entity"]:
        try:
            form.entity = await ctx.run(ctx.desk.resolve_entity, filters["entity"])
            query.entity_id = form.entity.id
        except NewsdeskError as exc:
            form.errors.append(f"Entity: {exc}")
    query.category = filters["category"] or None
    if filters["feed"]:
        if filters["feed"].isdigit():
            query.feed_id = int(filters["feed"])
        else:
            form.errors.append("Choose a feed from the list.")
    if filters["kind"] in ("post", "article"):
        query.kind = filters["kind"]
    for name in ("since", "until"):
        if filters[name]:
            try:
                setattr(query, name, parse_since(filters[name]))
            except NewsdeskError as exc:
                form.errors.append(f"{name.capitalize()}: {exc}")
    return form


def highlighted_words(text: str) -> list[str]:
    """The words to mark in the results: the query's terms that a match holds (plain words as
    typed; none of a filter's name or a pattern)."""
    try:
        parsed = parse_query(text)
    except QueryError:
        return query_words(text)
    return query_words(text) if parsed.plain else parsed.text_terms()


def run_search(
    ctx: WebContext, form: SearchForm, matches: dict[int, list[StoredEntry]]
) -> tuple[list[tuple[StoredEntry, list[Shared]]], bool]:
    """A page of matches (and whether there are more); with ``form.grouped`` one card per
    story, its other matches put in ``matches`` under the card's entry id."""
    # An entity alone lists its entries, newest first; with words, best matches.
    found = ctx.desk.search(form.text, form.query) if form.text else ctx.desk.entries(form.query)
    shown = found[:PAGE_SIZE]
    if form.grouped:
        groups = ctx.desk.story_groups(shown, lead_first=False)
        matches.update((g.head.id, g.members) for g in groups if g.members)
        shown = [g.head for g in groups]
    return with_shared(ctx, shown), len(found) > PAGE_SIZE


async def search_menus(ctx: WebContext) -> dict[str, Any]:
    """The search form's menus: feeds (none past ``MAX_FEED_MENU``: a menu of every feed is
    useless, and slow, past a few hundred) and entity names, and the sidebar."""

    def feed_menu() -> list[tuple[int, str]]:
        reading = ctx.store.reading
        return [] if reading.feed_count() > MAX_FEED_MENU else reading.feed_choices(MAX_FEED_MENU)

    feeds = await ctx.run(feed_menu)
    entity_names = await ctx.run(ctx.suggestions.entity_names, ctx.desk.store)
    return {"feeds": feeds, "entity_names": entity_names, **await sidebar(ctx)}


@TABLE.get("/search")
async def search(request: Request, ctx: WebContext) -> Response:
    form = await read_search_form(request, ctx)
    items: list[tuple[StoredEntry, list[Shared]]] = []
    matches: dict[int, list[StoredEntry]] = {}
    more = False
    unindexed = 0
    if (form.text or form.entity) and not form.errors:
        try:
            items, more = await ctx.run(run_search, ctx, form, matches)
        except NewsdeskError as exc:
            form.errors.append(str(exc))
        if form.text:
            unindexed = await ctx.run(ctx.desk.queued_search_count)
    base = {"q": form.text, **form.chosen}
    if not form.grouped:
        base["group"] = "none"
    next_url = "/search?" + urlencode({**base, "page": form.page + 1}) if more else None
    variables: dict[str, Any] = {
        "items": items,
        "next_url": next_url,
        "view": View(),
        "words": highlighted_words(form.text),
        "matches": matches,
        "grouped": form.grouped,
        "unindexed": unindexed,
    }
    if request.headers.get("hx-request") and form.page > 1:
        return ctx.render(request, "_cards.html", **variables)
    menus = await search_menus(ctx)
    saved = next(
        (s for s in menus["saved_searches"] if s.query == form.text and s.filters == form.chosen),
        None,
    )
    title = f"Search: {form.text}" if form.text else "Search"
    if form.entity is not None and not form.text:
        title = f"Search: {form.entity.name}"
    return ctx.render(
        request,
        "search.html",
        title=f"Saved search: {saved.name}" if saved is not None else title,
        q=form.text,
        entity=form.entity,
        filters=form.filters,
        errors=form.errors,
        status_code=400 if form.errors else 200,
        **variables,
        **menus,
    )


def _back(request: Request, target: object) -> str:
    from newsdesk.web.auth import safe_next

    if isinstance(target, str) and target:
        return safe_next(target)
    return "/"

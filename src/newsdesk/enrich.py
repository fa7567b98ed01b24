"""After feeds are stored: expand the links that posts share (short links and any link that
redirects, cached in the database) and extract the full text of summary-only articles and of the
pages posts share (each canonical URL fetched once, cached as a page). A failure is recorded on
its entry and never blocks it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from newsdesk.fetch.icons import FoundIcon, find_icon, site_origin
from newsdesk.model import Entry, Feed, FeedOptions, PageText, StoredEntry
from newsdesk.settings import Settings
from newsdesk.store import Storage

# Extraction (lxml, the rules, courlan's canonical URLs) and process pools are imported where
# new entries need them: every refresh imports this module, an unchanged one needs none of it.
if TYPE_CHECKING:
    from newsdesk.fetch import HttpClient
    from newsdesk.process.extract_rules import ExtractRule
    from newsdesk.store.icons import IconState, IconStore

MAX_LINKS_PER_POST = 5
Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class EnrichReport:
    links_expanded: int = 0
    pages_fetched: int = 0
    fulltext_done: int = 0
    fulltext_failed: int = 0
    pages_in_workers: int = 0  # extracted in worker processes (a big refresh)


async def enrich_entries(
    store: Storage,
    client: HttpClient,
    settings: Settings,
    entry_ids: Sequence[int],
    *,
    fulltext: bool,
    executor: Executor | None,
    progress: Progress | None,
    now: datetime,
    feeds: Sequence[Feed] = (),
) -> EnrichReport:
    """Enrich new and edited entries: expand the links posts share, extract the full text of
    articles waiting for it (``fulltext_status`` pending) and of the pages posts share, each
    page read from the ``pages`` cache when it is there. ``feeds`` (those refreshed) bring
    their own options: full text on or off whatever ``fulltext`` says, an extraction rule."""
    report = EnrichReport()
    loop = asyncio.get_running_loop()
    if not entry_ids:
        return report
    options = {f.id: f.options for f in feeds}
    wanted = _FulltextChoice(options, fulltext)
    found = await loop.run_in_executor(
        executor, partial(store.entries_to_enrich, list(entry_ids), fulltext=wanted.any)
    )
    posts = [e for e in found if e.kind == "post" and e.links]
    if settings.expand_links and posts:
        report.links_expanded = await _expand_post_links(
            store, client, settings, posts, executor, now
        )
    if wanted.any:
        articles = [
            e
            for e in found
            if e.kind == "article" and e.fulltext_status == "pending" and e.url and wanted(e)
        ]
        await _extract(
            _Run(store, client, settings, executor, progress, now, report, pooled=True),
            articles,
            [p for p in posts if wanted(p)],
            fresh=False,
            options=options,
        )
    return report


class _FulltextChoice:
    """Whether an entry's page is extracted: its feed's choice, else the run's."""

    def __init__(self, options: dict[int, FeedOptions], default: bool) -> None:
        self.options, self.default = options, default
        self.any = default or any(o.fulltext for o in options.values())

    def __call__(self, entry: StoredEntry) -> bool:
        found = self.options.get(entry.feed_id)
        return self.default if found is None or found.fulltext is None else found.fulltext


def feed_rule(options: FeedOptions | None) -> ExtractRule | None:
    """A feed's own extraction rule, when it has one (a bad one stored earlier: none)."""
    from newsdesk.process.extract_rules import ExtractRule, ExtractRuleError

    if options is None or not (options.extract_body or options.extract_drop):
        return None
    try:
        return ExtractRule(body=options.extract_body, drop=options.extract_drop)
    except ExtractRuleError:
        return None


async def unwrap_links(
    store: Storage,
    client: HttpClient,
    settings: Settings,
    found: Sequence[Entry],
    executor: Executor | None,
    now: datetime,
) -> int:
    """Give each entry of ``found`` the address its link redirects to (a feed that wraps
    its links in a tracker's or a proxy's redirect), before it is stored; each link is
    followed once (``link_cache``). A link that cannot be followed now stays as it is.
    Returns how many links changed."""
    loop = asyncio.get_running_loop()
    urls = list(dict.fromkeys(e.url for e in found if e.url))
    known = await loop.run_in_executor(executor, store.cached_expansions, urls)
    unknown = [u for u in urls if u not in known]
    gate = asyncio.Semaphore(settings.per_host_concurrency)

    async def one(url: str) -> str | None:
        async with gate:
            return await client.try_expand(url)

    finals = await asyncio.gather(*(one(u) for u in unknown))
    fresh = {url: final for url, final in zip(unknown, finals, strict=True) if final is not None}
    if fresh:
        await loop.run_in_executor(executor, store.save_expansions, fresh, now)
    known.update(fresh)
    changed = 0
    for entry in found:
        final = known.get(entry.url or "")
        if final and final != entry.url:
            entry.url, changed = final, changed + 1
    return changed


async def refetch_entries(
    store: Storage,
    client: HttpClient,
    settings: Settings,
    found: Sequence[StoredEntry],
    *,
    executor: Executor | None,
    now: datetime,
    options: dict[int, FeedOptions] | None = None,
) -> EnrichReport:
    """Extract again on demand: every article of ``found`` with a link, and the pages its posts
    share, fetched anew (the ``pages`` cache is bypassed, then updated with what was read);
    ``options``: the feeds' own (their extraction rules), by feed id."""
    report = EnrichReport()
    posts = [e for e in found if e.kind == "post" and e.links]
    if settings.expand_links and posts:
        report.links_expanded = await _expand_post_links(
            store, client, settings, posts, executor, now
        )
    articles = [e for e in found if e.kind == "article" and e.url]
    await _extract(
        _Run(store, client, settings, executor, None, now, report),
        articles,
        posts,
        fresh=True,
        options=options,
    )
    return report


@dataclass(slots=True)
class _Run:
    """What one extraction pass works with."""

    store: Storage
    client: HttpClient
    settings: Settings
    executor: Executor | None
    progress: Progress | None
    now: datetime
    report: EnrichReport
    pooled: bool = False
    """Whether many pages may be extracted in worker processes (a refresh; a refetch of a
    few entries stays in the refresh process)."""
    pool: Executor | None = None


async def _extract(
    run: _Run,
    articles: list[StoredEntry],
    posts: list[StoredEntry],
    *,
    fresh: bool,
    options: dict[int, FeedOptions] | None = None,
) -> None:
    """Fetch and extract the pages of ``articles`` and those ``posts`` share (each canonical URL
    once; with ``fresh`` even those already in the ``pages`` cache), then apply the text to
    the articles."""
    from newsdesk.pools import process_pool
    from newsdesk.process.extract_rules import rules_for_refresh
    from newsdesk.process.urls import canonical_url, is_web_url

    loop = asyncio.get_running_loop()
    targets: dict[str, str] = {}  # canonical URL → URL to fetch
    own: dict[str, FeedOptions] = {}  # canonical URL → the options of the article's feed
    for entry in articles:
        canonical = canonical_url(entry.url or "")
        targets.setdefault(canonical, entry.url or "")
        if options and entry.feed_id in options:
            own.setdefault(canonical, options[entry.feed_id])
    for post in posts:
        for url in post.links[:MAX_LINKS_PER_POST]:
            if is_web_url(url):
                targets.setdefault(canonical_url(url), url)
    if not targets:
        return
    cached: dict[str, PageText] = {}
    if not fresh:
        cached = await loop.run_in_executor(run.executor, run.store.get_pages, list(targets))
    to_fetch = {c: u for c, u in targets.items() if c not in cached}
    rules = rules_for_refresh(run.settings.extract_rules)
    gate = asyncio.Semaphore(run.settings.fulltext_concurrency)
    done = 0
    if _use_pool(run, len(to_fetch)):
        run.pool = process_pool(run.settings.parse_workers)

    async def one(canonical: str, url: str) -> None:
        nonlocal done
        feed_options = own.get(canonical)
        async with gate:
            page, body = await _fetch_page(run.client, url, feed_options)
        if page.error is None:
            rule = feed_rule(feed_options) or rules.for_url(page.final_url or url)
            page = await _extract_text(run, body, url, page.final_url, rule)
        await loop.run_in_executor(run.executor, run.store.save_page, canonical, page, run.now)
        cached[canonical] = page
        done += 1
        if run.progress:
            run.progress("fulltext", done, len(to_fetch))

    try:
        await asyncio.gather(*(one(c, u) for c, u in to_fetch.items()))
    finally:
        if run.pool is not None:
            run.pool.shutdown(wait=True, cancel_futures=True)
            run.pool = None
    run.report.pages_fetched += len(to_fetch)
    for entry in articles:
        page = cached.get(canonical_url(entry.url or ""))
        ok = page is not None and not page.error and bool(page.text)
        await loop.run_in_executor(
            run.executor, run.store.apply_fulltext, entry.id, page, None if ok else _why(page)
        )
        run.report.fulltext_done += ok
        run.report.fulltext_failed += not ok


def _use_pool(run: _Run, pages: int) -> bool:
    # Extraction is CPU work: worth other cores for a big refresh, while the writer thread
    # stores pages. A small one stays on the thread (a pool costs about a second to start).
    from newsdesk.pools import can_start_processes

    least = run.settings.fulltext_pool_min_pages
    return (
        can_start_processes()
        and run.pooled
        and run.settings.parse_workers > 1
        and least > 0
        and pages >= least
    )


async def _extract_text(
    run: _Run, body: bytes, url: str, final_url: str | None, rule: ExtractRule | None
) -> PageText:
    """The main text of a fetched page, extracted in the pool when the run has one. A worker
    that dies breaks the whole pool and every page in flight with it: the first to notice
    starts a fresh pool and each such page is tried once more there, so one bad page costs its
    neighbours nothing (the page that breaks the second pool too keeps the error)."""
    from concurrent.futures.process import BrokenProcessPool

    from newsdesk.pools import process_pool
    from newsdesk.process.extract_rules import plain_rule
    from newsdesk.process.fulltext import extract_page, extract_page_plain

    loop = asyncio.get_running_loop()
    for attempt in (1, 2):
        pool = run.pool
        if pool is None:
            return await loop.run_in_executor(
                run.executor, extract_page, body, url, final_url, rule
            )
        try:
            page = await loop.run_in_executor(
                pool, extract_page_plain, body, url, final_url, plain_rule(rule)
            )
        except BrokenProcessPool as exc:
            if attempt == 1:
                if run.pool is pool:  # nobody has replaced it yet
                    pool.shutdown(wait=False, cancel_futures=True)
                    run.pool = process_pool(run.settings.parse_workers)
                continue
            return _failed(url, final_url, exc)
        except Exception as exc:  # a bug in extraction fails this page, not the refresh
            return _failed(url, final_url, exc)
        run.report.pages_in_workers += 1
        return page
    raise AssertionError("unreachable")


def _failed(url: str, final_url: str | None, exc: Exception) -> PageText:
    why = f"cannot extract the page ({type(exc).__name__}: {exc})"
    return PageText(url=url, final_url=final_url or url, error=why)


def _why(page: PageText | None) -> str:
    return (page.error if page else None) or "no main text found"


async def _expand_post_links(
    store: Storage,
    client: HttpClient,
    settings: Settings,
    posts: list[StoredEntry],
    executor: Executor | None,
    now: datetime,
) -> int:
    """Replace the short links of ``posts`` by where they lead. A link that cannot be reached
    now is neither cached nor replaced: the next enrichment of a post sharing it tries again."""
    from newsdesk.process.urls import canonical_url, is_web_url

    loop = asyncio.get_running_loop()
    urls = list(dict.fromkeys(u for p in posts for u in p.links[:MAX_LINKS_PER_POST]))
    known = await loop.run_in_executor(executor, store.cached_expansions, urls)
    unknown = [u for u in urls if u not in known and is_web_url(u)]
    # Requests wait for their host here rather than in the connector, so that the deadline of
    # each one counts from when it is sent: hundreds of links on one shortener must not time
    # out in the queue (and be taken for links that do not redirect).
    gates: dict[str, asyncio.Semaphore] = {}

    async def one(url: str) -> str | None:
        host = urlsplit(url).netloc.lower()
        gate = gates.setdefault(host, asyncio.Semaphore(settings.per_host_concurrency))
        async with gate:
            return await client.try_expand(url)

    finals = await asyncio.gather(*(one(u) for u in unknown))
    fresh = {url: final for url, final in zip(unknown, finals, strict=True) if final is not None}
    await loop.run_in_executor(executor, store.save_expansions, fresh, now)
    known.update(fresh)
    for post in posts:
        expanded = [canonical_url(known.get(u, u)) for u in post.links]
        if expanded != post.links:
            await loop.run_in_executor(executor, store.save_links, post.id, expanded)
            post.links = expanded
    return sum(1 for url, final in fresh.items() if final != url)


async def _fetch_page(
    client: HttpClient, url: str, options: FeedOptions | None = None
) -> tuple[PageText, bytes]:
    """An article's page, asked for with its feed's user agent (never the feed's secrets:
    pages are cached for everyone who links to them)."""
    from newsdesk.fetch.client import PAGE_ACCEPT

    agent = {"User-Agent": options.user_agent} if options and options.user_agent else None
    result = await client.fetch(url, accept=PAGE_ACCEPT, headers=agent)
    page = PageText(url=url, final_url=result.final_url)
    if result.error:
        page.error = result.error
    elif result.content_type and "html" not in result.content_type.lower():
        page.error = f"not an HTML page ({result.content_type})"
    return page, result.body


def _icon_due(state: IconState | None, now: datetime, settings: Settings) -> bool:
    if state is None:
        return True
    if state.has_data:
        return now - state.checked_at >= timedelta(days=settings.icon_refresh_days)
    return now - state.checked_at >= timedelta(hours=settings.icon_retry_hours)


def _icon_sites(feeds: Sequence[Feed]) -> tuple[dict[str, list[int]], dict[str, str]]:
    """Feeds grouped by the origin of their site (the feed's own when it names none), and the
    page to look for each origin's icon on."""
    by_origin: dict[str, list[int]] = {}
    pages: dict[str, str] = {}
    for feed in feeds:
        origin = site_origin(feed.site_url) if feed.site_url else None
        site = feed.site_url if origin else None
        if origin is None:
            origin = site_origin(feed.url)
        if origin is not None:
            by_origin.setdefault(origin, []).append(feed.id)
            # Without a site link, the home page of the feed's host (not the feed again).
            pages.setdefault(origin, site or origin + "/")
    return by_origin, pages


async def refresh_icons(
    store: Storage,
    client: HttpClient,
    settings: Settings,
    feed_ids: Sequence[int],
    *,
    executor: Executor | None,
    now: datetime,
) -> int:
    """Fetch the icons of these feeds' sites when missing or stale (once per site, however many
    feeds share it) and point the feeds at them; returns the sites tried. Failures are recorded
    on the site's icon row, to be tried again after ``icon_retry_hours``."""
    icons: IconStore | None = getattr(
        store, "icons", None
    )  # a store without the icons part (a fake): skip
    if icons is None or not feed_ids:
        return 0
    loop = asyncio.get_running_loop()
    # Read again (not the refresh's copies): a feed parsed in this run may name its site now.
    feeds = await loop.run_in_executor(executor, store.feeds_to_fetch, list(feed_ids))
    by_origin, pages = _icon_sites(feeds)
    states = await loop.run_in_executor(executor, icons.icon_states, list(by_origin))
    # Feeds point only at icons that have bytes, so a feed's icon_id always has one to show.
    icon_ids = {origin: state.id for origin, state in states.items() if state.has_data}
    due = [o for o in by_origin if _icon_due(states.get(o), now, settings)]
    gate = asyncio.Semaphore(settings.icon_concurrency)

    async def one(origin: str) -> None:
        async with gate:
            try:
                found = await find_icon(client, pages[origin], settings.icon_max_bytes)
            except Exception as exc:  # a bug in one site's icon must not stop the others
                found = f"cannot fetch the icon ({type(exc).__name__}: {exc})"
        if isinstance(found, FoundIcon):
            save = partial(
                icons.save_icon,
                origin,
                url=found.url,
                mime_type=found.mime_type,
                data=found.data,
                now=now,
            )
            icon_ids[origin] = await loop.run_in_executor(executor, save)
        else:
            failed = partial(icons.save_icon_failure, origin, found, now)
            await loop.run_in_executor(executor, failed)

    await asyncio.gather(*(one(origin) for origin in due))
    linked = {feed.id: feed.icon_id for feed in feeds}
    links = {  # only the feeds whose icon changes: each one is a statement
        feed_id: icon_ids[origin]
        for origin, ids in by_origin.items()
        if origin in icon_ids
        for feed_id in ids
        if linked[feed_id] != icon_ids[origin]
    }
    await loop.run_in_executor(executor, icons.link_feeds, links)
    return len(due)

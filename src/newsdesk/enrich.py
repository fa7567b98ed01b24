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
from datetime import datetime
from functools import partial

from newsdesk.fetch import HttpClient
from newsdesk.fetch.client import PAGE_ACCEPT
from newsdesk.model import PageText, StoredEntry
from newsdesk.process.extract_rules import rules_for_refresh
from newsdesk.process.fulltext import extract_page
from newsdesk.process.urls import canonical_url, is_web_url
from newsdesk.settings import Settings
from newsdesk.store import Storage

MAX_LINKS_PER_POST = 5
Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class EnrichReport:
    links_expanded: int = 0
    pages_fetched: int = 0
    fulltext_done: int = 0
    fulltext_failed: int = 0


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
) -> EnrichReport:
    report = EnrichReport()
    loop = asyncio.get_running_loop()
    if not entry_ids:
        return report
    found = await loop.run_in_executor(
        executor, partial(store.entries_to_enrich, list(entry_ids), fulltext=fulltext)
    )
    posts = [e for e in found if e.kind == "post" and e.links]
    if settings.expand_links and posts:
        report.links_expanded = await _expand_post_links(store, client, posts, executor, now)
    if not fulltext:
        return report
    targets: dict[str, str] = {}  # canonical URL → URL to fetch
    articles: list[StoredEntry] = []
    for entry in found:
        if entry.kind == "article" and entry.fulltext_status == "pending" and entry.url:
            articles.append(entry)
            targets.setdefault(canonical_url(entry.url), entry.url)
    for post in posts:
        for url in post.links[:MAX_LINKS_PER_POST]:
            if is_web_url(url):
                targets.setdefault(canonical_url(url), url)
    if not targets:
        return report
    cached = await loop.run_in_executor(executor, store.get_pages, list(targets))
    to_fetch = {c: u for c, u in targets.items() if c not in cached}
    rules = rules_for_refresh(settings.extract_rules)
    gate = asyncio.Semaphore(settings.fulltext_concurrency)
    done = 0

    async def one(canonical: str, url: str) -> None:
        nonlocal done
        async with gate:
            page, body = await _fetch_page(client, url)
        if page.error is None:
            rule = rules.for_url(page.final_url or url)
            page = await loop.run_in_executor(
                executor, extract_page, body, url, page.final_url, rule
            )
        await loop.run_in_executor(executor, store.save_page, canonical, page, now)
        cached[canonical] = page
        done += 1
        if progress:
            progress("fulltext", done, len(to_fetch))

    await asyncio.gather(*(one(c, u) for c, u in to_fetch.items()))
    report.pages_fetched = len(to_fetch)
    for entry in articles:
        page = cached.get(canonical_url(entry.url or ""))
        ok = page is not None and not page.error and bool(page.text)
        await loop.run_in_executor(
            executor, store.apply_fulltext, entry.id, page, None if ok else _why(page)
        )
        report.fulltext_done += ok
        report.fulltext_failed += not ok
    return report


def _why(page: PageText | None) -> str:
    return (page.error if page else None) or "no main text found"


async def _expand_post_links(
    store: Storage,
    client: HttpClient,
    posts: list[StoredEntry],
    executor: Executor | None,
    now: datetime,
) -> int:
    loop = asyncio.get_running_loop()
    urls = list(dict.fromkeys(u for p in posts for u in p.links[:MAX_LINKS_PER_POST]))
    known = await loop.run_in_executor(executor, store.cached_expansions, urls)
    unknown = [u for u in urls if u not in known and is_web_url(u)]
    finals = await asyncio.gather(*(client.expand(u) for u in unknown))
    fresh = dict(zip(unknown, finals, strict=True))
    await loop.run_in_executor(executor, store.save_expansions, fresh, now)
    known.update(fresh)
    for post in posts:
        expanded = [canonical_url(known.get(u, u)) for u in post.links]
        if expanded != post.links:
            await loop.run_in_executor(executor, store.save_links, post.id, expanded)
            post.links = expanded
    return sum(1 for url, final in fresh.items() if final != url)


async def _fetch_page(client: HttpClient, url: str) -> tuple[PageText, bytes]:
    result = await client.fetch(url, accept=PAGE_ACCEPT)
    page = PageText(url=url, final_url=result.final_url)
    if result.error:
        page.error = result.error
    elif result.content_type and "html" not in result.content_type.lower():
        page.error = f"not an HTML page ({result.content_type})"
    return page, result.body

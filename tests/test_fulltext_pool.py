"""A refresh with many pages to extract extracts them in worker processes (the threshold
lowered here): the same stored text as extraction in the refresh process, extraction rules
included, and a failing worker fails only its page."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsdesk.enrich import EnrichReport, _extract_text, _Run
from newsdesk.fetch import HttpClient
from newsdesk.pools import process_pool
from newsdesk.process.extract_rules import ExtractRule
from newsdesk.refresh import refresh_feeds
from newsdesk.settings import Settings
from newsdesk.store import open_store
from routes_server import Answer, RoutesServer, article_page

PAGES = 5


def _summary_feed(server: RoutesServer) -> str:
    items = "".join(
        f"<item><title>Story {i}</title><link>{server.base}/a/{i}</link><guid>story-{i}</guid>"
        f"<description>Short.</description><pubDate>Tue, 27 Feb 2024 1{i}:00:00 GMT</pubDate>"
        "</item>"
        for i in range(PAGES)
    )
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Council</title>'
        f"<link>{server.base}/</link>{items}</channel></rss>"
    ).encode()
    for i in range(PAGES):
        page = article_page(f"Story {i}", f"topic{i}")
        server.route(f"/a/{i}", Answer(page, 200, "text/html"))
    return server.route("/pool-feed.xml", Answer(body))


def _refresh(db: str, settings: Settings) -> EnrichReport | None:
    store = open_store(db)
    try:
        report = asyncio.run(refresh_feeds(store, settings, intel=False))
    finally:
        store.close()
    return report.enrich


def test_a_big_refresh_extracts_in_workers_with_the_same_text(
    cli: Any, server: RoutesServer, tmp_path: Path
) -> None:
    feed = _summary_feed(server)
    rules = tmp_path / "rules.toml"
    # a rule for the loopback host: its compiled selectors reach the workers as plain data
    rules.write_text('["127.0.0.1"]\ndrop = ["article p:first-of-type"]\n', encoding="utf-8")
    texts = {}
    for mode, least in (("thread", 0), ("pool", 2)):
        db = f"sqlite:///{tmp_path / mode}.db"
        assert cli("add", feed, "--no-check", "--db", db).code == 0
        settings = Settings(
            database_url=db,
            allow_private_networks=True,
            parse_workers=2,
            fulltext_pool_min_pages=least,
            extract_rules=str(rules),
        )
        enrich = _refresh(db, settings)
        assert enrich is not None and enrich.fulltext_done == PAGES, mode
        assert enrich.pages_in_workers == (PAGES if mode == "pool" else 0)
        entries = cli("entries", "--json", "--db", db).json()
        assert {e["fulltext_status"] for e in entries} == {"done"}
        texts[mode] = {e["url"]: e["content_text"] for e in entries}
    assert len(texts["pool"]) == PAGES and texts["pool"] == texts["thread"]
    for text in texts["pool"].values():
        assert "Paragraph 1 of the topic" in text and "Paragraph 0 " not in text


def test_a_worker_failure_is_that_pages_error() -> None:
    """A pool that cannot run the extraction (here: already shut down) fails the page with a
    clear error instead of raising out of the refresh."""
    pool = ProcessPoolExecutor(max_workers=1)
    pool.shutdown()
    report = EnrichReport()

    async def extract() -> Any:
        async with HttpClient(Settings()) as client:
            run = _Run(None, client, Settings(), None, None, datetime.now(UTC), report)  # type: ignore[arg-type]
            run.pool = pool
            page = article_page("Story", "parks")
            return await _extract_text(
                run, page, "http://x.test/a", None, ExtractRule(body="article")
            )

    page = asyncio.run(extract())
    assert page.text == "" and page.error.startswith("cannot extract the page (RuntimeError")
    assert report.pages_in_workers == 0


def _die() -> None:
    os._exit(3)  # a worker that dies as a segfault in a parser would


def test_a_dead_worker_costs_the_other_pages_nothing() -> None:
    """A worker that dies breaks its pool for every page in flight: the page is extracted again
    in a fresh pool instead of being stored as failed."""
    broken = process_pool(2)
    with pytest.raises(BrokenProcessPool):
        broken.submit(_die).result(timeout=60)
    report = EnrichReport()

    async def extract() -> Any:
        async with HttpClient(Settings()) as client:
            run = _Run(None, client, Settings(), None, None, datetime.now(UTC), report)  # type: ignore[arg-type]
            run.pool = broken
            try:
                page = article_page("Story", "parks")
                return await _extract_text(run, page, "http://x.test/a", None, None)
            finally:
                assert run.pool is not broken  # replaced by a working one
                run.pool.shutdown(wait=True)

    page = asyncio.run(extract())
    assert page.error is None and "parks" in page.text
    assert report.pages_in_workers == 1

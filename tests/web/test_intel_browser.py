"""The intelligence pages in a real browser: Playwright driving Debian's chromium against
uvicorn on loopback, on the sample sources refreshed through the whole pipeline (stories,
timelines and — when the entity model is installed — entities).

Follows a story card from the river to its story page, an entity from the index to its page
(the SVG chart and graph drawn, a graph node followed to the next entity), downloads a
timeline, makes and deletes a watchlist, and checks that none of it overflows a 360 px phone
or trips the Content-Security-Policy. Screenshots (light and dark) go to docs/screenshots as
intel_*.png when NEWSDESK_SCREENSHOTS=1, else to a temp folder.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from newsdesk.demo import SEED_DIR, SEED_FEEDS, SOCIAL_DIR, SOCIAL_FEEDS
from newsdesk.demo.server import SampleServer
from newsdesk.desk import Desk
from newsdesk.settings import load_settings
from newsdesk.store import EntryQuery
from newsdesk.store.schema import entities, entity_mentions, stories
from newsdesk.web.app import create_app

from .test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, SCREENSHOTS, LiveServer, _in_thread

pytestmark = pytest.mark.slow
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def samples() -> Iterator[SampleServer]:
    server = SampleServer(SEED_DIR, SOCIAL_DIR).start()
    yield server
    server.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _filled_desk(tmp_path: Path, samples: SampleServer) -> Desk:
    settings = load_settings(
        env={},
        database_url=f"sqlite:///{tmp_path / 'newsdesk.db'}",
        allow_private_networks=True,
        story_river=True,
    )
    desk = Desk(settings)
    for path in SEED_FEEDS:
        desk.store.add_feed(samples.base + path, category="Articles")
    for path in SOCIAL_FEEDS:
        desk.store.add_feed(samples.base + path, category="Social")
    _in_thread(
        lambda: asyncio.run(desk.refresh_async())
    )  # Playwright's sync API keeps an event loop in this thread
    with desk.store.engine.begin() as conn:
        if not conn.execute(select(func.count()).select_from(entities)).scalar():
            # No entity model here: a few entities written directly so the pages have some.
            _entities_by_hand(conn, desk)
    return desk


def _entities_by_hand(conn: Any, desk: Desk) -> None:
    every = desk.entries(EntryQuery(limit=500))
    for kind, name in (("person", "Alexander Smirnov"), ("org", "FBI"), ("place", "Russia")):
        found = [e for e in every if name.split()[-1] in (e.title or "") + e.content_text]
        if not found:
            continue
        key = conn.execute(
            insert(entities).values(
                kind=kind,
                key=name.casefold(),
                name=name,
                aliases=[],
                mention_count=len(found),
                entry_count=len(found),
                first_seen=min(e.published for e in found),
                last_seen=max(e.published for e in found),
            )
        ).inserted_primary_key
        conn.execute(
            insert(entity_mentions),
            [
                {
                    "entry_id": e.id,
                    "entity_id": key[0],
                    "count": 1,
                    "first_offset": 0,
                    "published": e.published,
                }
                for e in found
            ],
        )


def _log_in(page: Any, base: str) -> None:
    page.goto(base + "/setup")
    if "/setup" in page.url:
        page.fill('input[name="password"]', PASSWORD)
        page.fill('input[name="confirm"]', PASSWORD)
        page.click("#setup-button")
    else:
        page.fill('input[name="username"]', "admin")
        page.fill('input[name="password"]', PASSWORD)
        page.click("#login-button")


def _watch_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def test_intel_pages_in_a_browser(tmp_path: Path, samples: SampleServer, browser: Any) -> None:
    expect = sync_api.expect
    desk = _filled_desk(tmp_path, samples)
    try:
        with desk.store.engine.connect() as conn:
            grouped = conn.execute(
                select(func.count()).select_from(stories).where(stories.c.size > 1)
            ).scalar()
        assert grouped, "the sample sources should make at least one story of two or more"
        app = create_app(desk.settings, desk=desk)
        with LiveServer(app) as live:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(15_000)
            errors = _watch_errors(page)
            _log_in(page, live.base)

            # The river: a story card, followed to its story page.
            page.goto(live.base + "/?show=all")
            card = page.locator(".card.story-card").first
            expect(card).to_be_visible()
            card.locator(".story-link").click()
            expect(page).to_have_url(re.compile(r"/story/\d+$"))
            members = page.locator("#cards .card")
            assert members.count() >= 2
            story_url = page.url

            # Entities: the index, one entity, its chart and graph; a node leads on.
            page.goto(live.base + "/entities")
            page.locator(".entity-table a.feed-title").first.click()
            expect(page.locator("svg.chart.bars")).to_be_visible()
            expect(page.locator("svg.chart.graph")).to_be_visible()
            nodes = page.locator("svg.chart.graph a.node")
            if nodes.count() > 1:
                href = nodes.first.get_attribute("href")
                nodes.first.locator("circle").click()
                expect(page).to_have_url(live.base + str(href))

            # A timeline downloads as CSV with its header.
            story_id = story_url.rsplit("/", 1)[-1]
            csv = page.request.get(f"{live.base}/story/{story_id}/timeline.csv")
            assert csv.ok and csv.text().startswith("date,precision,sentence,entry_id")

            # A watchlist: made, listed, deleted.
            page.goto(live.base + "/watchlists")
            page.fill('input[name="name"]', "Smirnov case")
            page.fill('input[name="query"]', "Smirnov")
            page.fill('input[name="webhook"]', "https://hooks.example.org/in")
            page.click("#watch-button")
            expect(page.locator(".notice")).to_contain_text("Smirnov case")
            expect(page.locator(".watch-list li")).to_have_count(1)
            page.click(".watch-list button.danger")
            expect(page.locator(".notice")).to_contain_text("deleted")
            expect(page.locator(".watch-list li")).to_have_count(0)
            assert not errors, errors  # no CSP violations or script errors on the way

            # Screens of the richest story and entity (most events, most entries).
            found = desk.store.stories.list_stories(min_size=2)
            richest = max(
                found, key=lambda s: (len(desk.store.events.story_timeline(s.id)), s.size)
            )
            top = desk.store.entities.list_entities(limit=1)[0]
            _screens_and_phones(
                browser,
                live.base,
                f"{live.base}/story/{richest.id}",
                f"{live.base}/entity/{top.id}",
            )
    finally:
        desk.close()


def _screens_and_phones(browser: Any, base: str, story_url: str, entity_url: str) -> None:
    out = SCREENSHOTS if os.environ.get("NEWSDESK_SCREENSHOTS") == "1" else None
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, color_scheme=scheme)
        page = context.new_page()
        _log_in(page, base)
        for name, url in (
            ("river", base + "/?show=all"),
            ("story", story_url),
            ("entity", entity_url),
            ("watchlists", base + "/watchlists"),
        ):
            page.goto(url)
            if out is not None:
                page.screenshot(path=str(out / f"intel_{name}-{scheme}.png"), full_page=False)
        phone = context.new_page()
        phone.set_viewport_size({"width": 360, "height": 780})
        for url in (
            base + "/?show=all",
            story_url,
            entity_url,
            base + "/entities",
            base + "/watchlists",
            story_url + "/timeline",
        ):
            phone.goto(url)
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"{url} is {width}px wide on a 360px phone"
        if out is not None:
            phone.goto(entity_url)
            phone.screenshot(path=str(out / f"intel_phone-{scheme}.png"))
        context.close()

"""End to end in a real browser: Playwright driving Debian's chromium against `uvicorn` on
loopback, with the sample sources served on loopback too.

Covers first-run password, adding a feed, refresh, reading, starring, search, keyboard
navigation, a category's feeds and logout. Screenshots of the river, an entry and search in
light and dark go to docs/screenshots when NEWSDESK_SCREENSHOTS=1 (else to a temp folder).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsdesk.demo import SEED_DIR, SEED_FEEDS, SOCIAL_DIR, SOCIAL_FEEDS
from newsdesk.demo.server import SampleServer
from newsdesk.desk import Desk
from newsdesk.settings import load_settings
from newsdesk.web.app import create_app

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PASSWORD = "a long test password"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

if CHROMIUM is None:
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


class LiveServer:
    """The app on uvicorn in a thread, on a free loopback port."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


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


def _live(tmp_path: Path, **overrides: Any) -> tuple[Desk, Any]:
    settings = load_settings(
        env={},
        database_url=f"sqlite:///{tmp_path / 'newsdesk.db'}",
        allow_private_networks=True,
        **overrides,
    )
    desk = Desk(settings)
    return desk, create_app(settings, desk=desk)


def test_reading_room_end_to_end(tmp_path: Path, samples: SampleServer, browser: Any) -> None:
    expect = sync_api.expect
    desk, app = _live(tmp_path, fulltext=False)
    try:
        with LiveServer(app) as live:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(15_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on(
                "console",
                lambda msg: errors.append(msg.text) if msg.type == "error" else None,
            )

            # First run: choose the password.
            page.goto(live.base + "/")
            expect(page).to_have_url(live.base + "/setup")
            page.fill('input[name="password"]', PASSWORD)
            page.fill('input[name="confirm"]', PASSWORD)
            page.click("#setup-button")
            expect(page).to_have_url(live.base + "/subscriptions")

            # Add two feeds served on loopback, in one category; each is fetched at once.
            for path in (SEED_FEEDS[0], SOCIAL_FEEDS[0]):
                page.fill('input[name="url"]', samples.base + path)
                page.fill('input[name="category"]', "World")
                page.click("#add-button")
                expect(page.locator(".notice")).to_contain_text("Subscribed to")
                expect(page.locator(".progress-box .done")).to_contain_text("new entries")

            # Refresh everything with the keyboard (r) and watch the progress finish.
            page.goto(live.base + "/")
            page.keyboard.press("r")
            expect(page.locator("#progress .done")).to_contain_text("2 feeds")

            # Keyboard navigation in the river: j, j, k selects the first card again.
            page.reload()
            cards = page.locator("#cards .card")
            expect(cards.first).to_be_visible()
            assert cards.count() > 5
            page.keyboard.press("j")
            page.keyboard.press("j")
            expect(cards.nth(1)).to_have_class("card kind-post current")
            page.keyboard.press("k")
            first_id = cards.first.get_attribute("data-entry")
            expect(cards.first).to_have_class(f"card kind-{_kind(cards.first)} current")

            # Open it (o), star it (s), go to the next entry (j), then to starred (g s).
            page.keyboard.press("o")
            expect(page).to_have_url(f"{live.base}/entry/{first_id}")
            expect(page.locator("article.entry")).to_be_visible()
            page.keyboard.press("s")
            expect(page.locator(".star-button")).to_have_attribute("aria-pressed", "true")
            assert desk.store.get_entry(int(first_id)).starred
            assert desk.store.get_entry(int(first_id)).read  # opened = read
            page.keyboard.press("m")  # back to unread
            expect(page.locator(".read-button")).to_have_attribute("aria-pressed", "false")
            assert not desk.store.get_entry(int(first_id)).read
            page.keyboard.press("j")
            expect(page).not_to_have_url(f"{live.base}/entry/{first_id}")
            page.keyboard.press("g")
            page.keyboard.press("s")
            expect(page).to_have_url(live.base + "/?show=starred")
            expect(page.locator("#cards .card")).to_have_count(1)
            expect(page.locator(f"#entry-{first_id}")).to_be_visible()

            # Search with / and see highlighted matches.
            page.keyboard.press("/")
            expect(page.locator("#search-input")).to_be_focused()
            page.keyboard.type("Russia")
            page.keyboard.press("Enter")
            expect(page).to_have_url(live.base + "/search?q=Russia")
            expect(page.locator("#cards .card").first).to_be_visible()
            expect(page.locator("mark").first).to_be_visible()

            # The shortcuts list (?) and the categories (g c) with the category's feeds.
            page.keyboard.press("?")
            expect(page.locator("#shortcuts")).to_be_visible()
            page.keyboard.press("Escape")
            page.keyboard.press("g")
            page.keyboard.press("c")
            expect(page).to_have_url(live.base + "/categories")
            page.click("text=World")
            expect(page).to_have_url(live.base + "/category/World")
            chips = page.locator(".chips a")
            expect(chips).to_have_count(2)
            titles = {f.display_title for f in desk.store.list_feeds()}
            assert {chips.nth(i).inner_text() for i in range(2)} == titles

            # Log out: the river asks for the password again.
            page.click("#logout-button")
            expect(page).to_have_url(live.base + "/login")
            page.goto(live.base + "/")
            expect(page).to_have_url(live.base + "/login")
            page.fill('input[name="username"]', "admin")
            page.fill('input[name="password"]', PASSWORD)
            page.click("#login-button")
            expect(page).to_have_url(live.base + "/")
            assert not errors, errors  # no CSP violations or script errors on the way
    finally:
        desk.close()


def _in_thread(fn: Any) -> None:
    failure: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def _kind(card: Any) -> str:
    classes = card.get_attribute("class") or ""
    return "post" if "kind-post" in classes else "article"


def test_screenshots_light_and_dark(tmp_path: Path, samples: SampleServer, browser: Any) -> None:
    expect = sync_api.expect
    out = SCREENSHOTS if os.environ.get("NEWSDESK_SCREENSHOTS") == "1" else tmp_path / "shots"
    out.mkdir(parents=True, exist_ok=True)
    desk, app = _live(tmp_path)
    try:
        for path in SEED_FEEDS:
            desk.store.add_feed(samples.base + path)
        for path in SOCIAL_FEEDS:
            desk.store.add_feed(samples.base + path, category="Social")
        # Playwright's sync API keeps an event loop in this thread; refresh runs its own.
        _in_thread(lambda: asyncio.run(desk.refresh_async()))
        from newsdesk.store import EntryQuery

        entries = desk.entries(EntryQuery(limit=200))
        article = max(
            (e for e in entries if e.kind == "article"), key=lambda e: len(e.content_text)
        )
        desk.store.set_flags([entries[2].id, entries[3].id], starred=True)
        desk.store.set_flags([entries[4].id], read=True)
        with LiveServer(app) as live:
            for scheme in ("light", "dark"):
                context = browser.new_context(
                    viewport={"width": 1280, "height": 900}, color_scheme=scheme
                )
                page = context.new_page()
                page.goto(live.base + "/setup")
                if "/setup" in page.url:
                    page.fill('input[name="password"]', PASSWORD)
                    page.fill('input[name="confirm"]', PASSWORD)
                    page.click("#setup-button")
                else:
                    page.fill('input[name="username"]', "admin")
                    page.fill('input[name="password"]', PASSWORD)
                    page.click("#login-button")
                page.goto(live.base + "/?show=all")
                page.keyboard.press("j")
                page.keyboard.press("j")
                page.screenshot(path=str(out / f"river-{scheme}.png"))
                page.goto(f"{live.base}/entry/{article.id}")
                expect(page.locator("article.entry h1")).to_be_visible()
                page.screenshot(path=str(out / f"entry-{scheme}.png"))
                page.goto(live.base + "/search?q=Russia")
                expect(page.locator("mark").first).to_be_visible()
                page.screenshot(path=str(out / f"search-{scheme}.png"))
                phone = context.new_page()
                phone.set_viewport_size({"width": 360, "height": 780})
                phone.goto(live.base + "/?show=all")
                width = phone.evaluate("document.documentElement.scrollWidth")
                assert width <= 360, f"the river is {width}px wide on a 360px phone"
                phone.screenshot(path=str(out / f"phone-{scheme}.png"))
                context.close()
    finally:
        desk.close()
    for name in ("river", "entry", "search", "phone"):
        for scheme in ("light", "dark"):
            assert (out / f"{name}-{scheme}.png").stat().st_size > 10_000

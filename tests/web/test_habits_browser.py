"""Mark read on scroll in a real browser (Playwright driving Debian's chromium against uvicorn
on loopback; skipped without chromium): the Account page's form turns it on; cards scrolled
out of the top of the window turn read (in the database and on the page) in batches, the ones
below stay unread; the next page of cards (infinite scroll) is watched too; what was scrolled
past just before leaving the page is sent as the page goes; opening an entry with
``mark_read_on_open`` off keeps it unread; turned off, scrolling marks nothing."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from newsdesk.desk import Desk
from newsdesk.settings import Settings, load_settings
from newsdesk.store import EntryQuery
from newsdesk.web.app import create_app
from routes_server import Answer, RoutesServer

from .test_habits import ENTRIES, habits_feed

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
PASSWORD = "a long test password"

if CHROMIUM is None:
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

from .test_browser import LiveServer  # noqa: E402  (after the skips above)

# The ids of the cards whose bottom is above the top of the window, and of those below it.
ABOVE = """() => Array.from(document.querySelectorAll('#cards .card'))
  .filter(c => c.getBoundingClientRect().bottom <= 0).map(c => Number(c.dataset.entry))"""
BELOW = """() => Array.from(document.querySelectorAll('#cards .card'))
  .filter(c => c.getBoundingClientRect().top >= window.innerHeight)
  .map(c => Number(c.dataset.entry))"""


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def feed_server() -> Iterator[RoutesServer]:
    server = RoutesServer()
    server.route("/habits.xml", Answer(habits_feed(server.base)))
    yield server
    server.stop()


def _read(desk: Desk) -> set[int]:
    mine = desk.for_name("admin")
    return {e.id for e in mine.entries(EntryQuery(read=True, limit=1000))}


def _wait(check: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


@pytest.fixture
def room(tmp_path: Path, feed_server: RoutesServer) -> Iterator[tuple[Desk, Settings]]:
    """The admin's desk, refreshed (before the browser: Playwright's sync API keeps an event
    loop running in this thread)."""
    settings = load_settings(
        env={},
        database_url=f"sqlite:///{tmp_path / 'newsdesk.db'}",
        allow_private_networks=True,
        fulltext=False,
        stories=False,
        entities=False,
        story_river=False,
    )
    desk = Desk(settings)
    try:
        desk.store.add_feed(feed_server.base + "/habits.xml")
        assert asyncio.run(desk.refresh_async()).new_entries == ENTRIES
        desk.store.users.set_password("admin", PASSWORD)
        yield desk, settings
    finally:
        desk.close()


def _on_marks(marks: list[str]) -> Callable[[Any], None]:
    def seen(request: Any) -> None:
        if request.url.endswith("/entries/read"):
            marks.append(request.post_data or "")

    return seen


def test_scrolled_past_entries_are_marked_read(room: tuple[Desk, Settings], browser: Any) -> None:
    expect = sync_api.expect
    desk, settings = room
    with LiveServer(create_app(settings, desk=desk)) as live:
        page = browser.new_page(viewport={"width": 1000, "height": 600})
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        marks: list[str] = []
        page.on("request", _on_marks(marks))
        page.goto(live.base + "/login")
        page.fill('input[name="username"]', "admin")
        page.fill('input[name="password"]', PASSWORD)
        page.click("#login-button")
        expect(page).to_have_url(live.base + "/")

        # Off by default: scrolling marks nothing.
        cards = page.locator("#cards .card")
        expect(cards.first).to_be_visible()
        assert page.get_attribute("#cards", "data-mark-read-on-scroll") is None
        page.mouse.wheel(0, 1500)
        page.wait_for_timeout(1500)
        assert page.evaluate(ABOVE) and not _read(desk) and not marks

        # Turn it on (and opening off) on the Account page.
        page.goto(live.base + "/account")
        expect(page.locator("#mark-read-on-open")).to_be_checked()
        page.uncheck("#mark-read-on-open")
        page.check("#mark-read-on-scroll")
        page.click("#save-habits")
        expect(page.locator(".notice")).to_contain_text("reading habits are saved")
        expect(page.locator("#mark-read-on-scroll")).to_be_checked()
        expect(page.locator("#mark-read-on-open")).not_to_be_checked()

        # Scroll down the river: the cards gone out of the top turn read, as one batch.
        page.goto(live.base + "/")
        assert page.get_attribute("#cards", "data-mark-read-on-scroll") == "1"
        expect(cards.first).to_be_visible()
        assert cards.count() == 30  # the first page
        page.mouse.wheel(0, 1500)
        page.wait_for_timeout(300)
        above = set(page.evaluate(ABOVE))
        below = set(page.evaluate(BELOW))
        assert len(above) >= 3 and below
        assert _wait(lambda: above <= _read(desk)), (above, _read(desk))
        for entry_id in above:
            actions = page.locator(f"#actions-{entry_id}")
            expect(actions).to_have_attribute("data-read", "1")
            expect(actions.locator(".read-button")).to_have_text("Mark unread")
        page.wait_for_timeout(1200)  # another batch would have gone by now
        assert not (below & _read(desk))
        assert len(marks) == 1, marks

        # To the end: the next page of cards comes (after the last entry shown) and is
        # watched too.
        for _ in range(12):
            page.mouse.wheel(0, 1500)
            page.wait_for_timeout(150)
        expect(cards).to_have_count(ENTRIES)
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_timeout(300)
        scrolled = set(page.evaluate(ABOVE))
        assert len(scrolled) > 30  # cards of the second page among them
        assert _wait(lambda: scrolled <= _read(desk))

        # Scroll back up a little and leave at once: what went out of the top is sent as
        # the page goes (no waiting for the batch's second).
        page.goto(live.base + "/?show=all")
        expect(cards.first).to_be_visible()
        desk.for_name("admin").mark(
            [e.id for e in desk.for_name("admin").entries(EntryQuery(limit=100))], read=False
        )
        page.reload()
        expect(cards.first).to_be_visible()
        page.mouse.wheel(0, 1200)
        page.wait_for_timeout(250)
        last = set(page.evaluate(ABOVE))
        assert last
        page.goto(live.base + "/account")
        assert _wait(lambda: last <= _read(desk)), (last, _read(desk))

        # Opening an entry with mark_read_on_open off keeps it unread.
        page.goto(live.base + "/?show=unread")
        first_id = int(cards.first.get_attribute("data-entry") or 0)
        cards.first.locator(".title a").click()
        expect(page).to_have_url(f"{live.base}/entry/{first_id}")
        expect(page.locator(".read-button")).to_have_text("Mark read")
        assert first_id not in _read(desk)
        assert not errors, errors

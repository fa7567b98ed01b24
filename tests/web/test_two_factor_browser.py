"""Two-factor login in a real browser (Playwright driving Debian's chromium against uvicorn on
loopback): turn it on from the Account page, log out, log in with the password and a code."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsdesk.desk import Desk
from newsdesk.settings import load_settings
from newsdesk.store.two_factor import STEP_SECONDS, secret_from_text, totp
from newsdesk.web.app import create_app

from .test_browser import CHROMIUM, CHROMIUM_ARGS, LiveServer, sync_api

pytestmark = pytest.mark.slow
PASSWORD = "a long test password"


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _steady() -> float:
    left = STEP_SECONDS - time.time() % STEP_SECONDS
    if left < 5:
        time.sleep(left + 0.1)
    return time.time()


def test_two_factor_login_in_a_browser(tmp_path: Path, browser: Any) -> None:
    expect = sync_api.expect
    settings = load_settings(
        env={}, database_url=f"sqlite:///{tmp_path / 'newsdesk.db'}", fulltext=False
    )
    desk = Desk(settings)
    desk.store.users.set_password("admin", PASSWORD)
    try:
        with LiveServer(create_app(settings, desk=desk)) as live:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            def log_in() -> None:
                page.goto(live.base + "/login")
                page.fill('input[name="username"]', "admin")
                page.fill('input[name="password"]', PASSWORD)
                page.click("#login-button")

            log_in()
            expect(page).to_have_url(live.base + "/")
            page.goto(live.base + "/account")
            page.click("#two-factor-start")
            secret = secret_from_text(page.locator("#totp-secret").inner_text())
            expect(page.locator("#otpauth-uri")).to_contain_text("otpauth://totp/")
            page.fill('input[name="code"]', totp(secret, _steady() - STEP_SECONDS))
            page.click("#two-factor-confirm")
            expect(page.locator("#recovery-codes li")).to_have_count(10)
            page.click("#logout-button")
            expect(page).to_have_url(live.base + "/login")

            log_in()
            expect(page.locator("h1")).to_have_text("Two-factor code")
            page.fill('input[name="code"]', "000000")
            page.click("#code-button")
            expect(page.locator(".error")).to_contain_text("not right")
            page.fill('input[name="code"]', totp(secret, time.time()))
            page.click("#code-button")
            expect(page).to_have_url(live.base + "/")
            expect(page.locator("#logout-button")).to_be_visible()
            assert not errors, errors
    finally:
        desk.close()

"""The reading room's Rules page (issue 16): in-process against the seeded desk (make, the
live preview's answers, edit, order, on/off, apply, delete, CSRF, bad input, another person's
rule), and end to end in a real browser (Playwright driving Debian's chromium against uvicorn
on loopback, a small feed of our own on loopback too): type a query and watch the preview
follow, make the rule, move it, turn it off, apply it, delete it."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from newsdesk.desk import Desk
from newsdesk.settings import load_settings
from newsdesk.store import EntryQuery
from newsdesk.web.app import create_app
from routes_server import Answer, RoutesServer

from .session import Browser

WORD = "Russia"  # in many of the seed's entries


def _rules(desk: Desk) -> list[Any]:
    admin = desk.for_name(None)
    return list(admin.store.rules.list())


def _ids_on(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="rule-(\d+)"', page)]


async def test_make_a_rule_and_see_it_listed(user: Browser, desk: Desk) -> None:
    empty = await user.get("/rules")
    assert empty.status_code == 200
    assert 'href="/rules"' in empty.text and "No rules yet" in empty.text
    assert '<script src="/static/rules.js"' in empty.text
    made = await user.post(
        "/rules",
        {"query": WORD, "star": "1", "tag": "russia, world", "name": "Russia news"},
    )
    assert made.status_code == 303, made.text
    assert made.headers["location"].startswith("/rules?message=")
    (rule,) = _rules(desk)
    assert rule.name == "Russia news" and rule.query == WORD
    assert list(rule.actions) == ["star", "tag:russia", "tag:world"]
    page = await user.get(made.headers["location"])
    assert "Russia news" in page.text and "star, tag:russia, tag:world" in page.text
    assert "saved" in page.text and _ids_on(page.text) == [rule.id]


async def test_forms_need_the_csrf_token(user: Browser, desk: Desk) -> None:
    forged = await user.client.post("/rules", data={"query": WORD, "star": "1"})
    assert forged.status_code == 403
    assert _rules(desk) == []
    await user.post("/rules", {"query": WORD, "read": "1"})
    (rule,) = _rules(desk)
    for action in ("delete", "apply", "move", "enabled"):
        answer = await user.client.post(f"/rules/{rule.id}/{action}", data={"value": "0"})
        assert answer.status_code == 403, action
    assert [r.id for r in _rules(desk)] == [rule.id]


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"query": "", "star": "1"}, "query"),
        ({"query": WORD}, "action"),
        ({"query": 'title~"(a"', "star": "1"}, "title"),
        ({"query": WORD, "alert": "No such watchlist"}, "No such watchlist"),
    ],
)
async def test_bad_rules_come_back_on_the_form(
    user: Browser, desk: Desk, form: dict[str, str], words: str
) -> None:
    answer = await user.post("/rules", {"name": "Kept name", **form})
    assert answer.status_code == 400
    assert 'class="error"' in answer.text and words.casefold() in answer.text.casefold()
    assert 'value="Kept name"' in answer.text  # what was typed stays
    assert _rules(desk) == []


async def test_the_preview_counts_and_lists(user: Browser, desk: Desk) -> None:
    admin = desk.for_name(None)
    count, entries = admin.test_rule(WORD, 10)
    assert count > 0
    found = await user.get("/rules/preview", params={"q": WORD})
    assert found.status_code == 200
    assert f'<strong class="preview-count">{count}</strong>' in found.text
    assert found.text.count('<a href="/entry/') == len(entries) == min(count, 10)
    assert f'href="/entry/{entries[0].id}"' in found.text
    assert "<html" not in found.text  # a piece of the page
    bad = await user.get("/rules/preview", params={"q": 'title~"(unclosed"'})
    assert bad.status_code == 400 and "rule-preview-error" in bad.text
    assert "title~&#34;(unclosed" in bad.text  # the term as typed, not made a sentence
    hostile = await user.get("/rules/preview", params={"q": "<img src=x onerror=alert(1)>"})
    assert hostile.status_code in (200, 400) and "<img" not in hostile.text
    empty = await user.get("/rules/preview", params={"q": "  "})
    assert empty.status_code == 200 and "Type a query" in empty.text


async def test_edit_order_switch_apply_delete(user: Browser, desk: Desk) -> None:
    for query in (WORD, "Ukraine", "Trump"):
        assert (await user.post("/rules", {"query": query, "read": "1"})).status_code == 303
    first, second, third = (r.id for r in _rules(desk))

    edit = await user.get(f"/rules/{first}")
    assert edit.status_code == 200
    assert f'value="{WORD}"' in edit.text and 'name="read" value="1" checked' in edit.text
    saved = await user.post(
        f"/rules/{first}", {"query": WORD, "star": "1", "category": "Filed", "name": "Renamed"}
    )
    assert saved.status_code == 303
    rule = _rules(desk)[0]
    assert rule.name == "Renamed" and list(rule.actions) == ["star", "category:Filed"]
    bad = await user.post(f"/rules/{first}", {"query": 'text~"["', "star": "1"})
    assert bad.status_code == 400 and 'value="text~&#34;[&#34;"' in bad.text
    assert _rules(desk)[0].query == WORD  # unchanged

    await user.post(f"/rules/{third}/move", {"direction": "up"})
    assert [r.id for r in _rules(desk)] == [first, third, second]
    await user.post(f"/rules/{first}/move", {"direction": "up"})  # first already
    assert [r.id for r in _rules(desk)] == [first, third, second]
    await user.post(f"/rules/{first}/move", {"direction": "down"})
    page = await user.get("/rules")
    assert _ids_on(page.text) == [third, first, second] == [r.id for r in _rules(desk)]
    assert (await user.post(f"/rules/{first}/move", {"direction": "sideways"})).status_code == 400

    await user.post(f"/rules/{second}/enabled", {"value": "0"})
    assert [r.enabled for r in _rules(desk)] == [True, True, False]
    page = await user.get("/rules")
    assert "turn on" in page.text
    await user.post(f"/rules/{second}/enabled", {"value": "1"})
    assert all(r.enabled for r in _rules(desk))

    admin = desk.for_name(None)
    count, _ = admin.test_rule(WORD, 1)
    applied = await user.post(f"/rules/{first}/apply")
    assert applied.status_code == 303
    message = (await user.get(applied.headers["location"])).text
    assert f"{count} entries changed" in message
    starred = admin.entries(EntryQuery(starred=True, limit=1000))
    assert len(starred) == count

    gone = await user.post(f"/rules/{first}/delete")
    assert gone.status_code == 303
    assert [r.id for r in _rules(desk)] == [third, second]
    for path in (f"/rules/{first}", "/rules/987654"):
        assert (await user.get(path)).status_code == 404
        assert (await user.post(path + "/apply")).status_code == 404


async def test_another_persons_rule_is_missing(user: Browser, desk: Desk) -> None:
    bob = desk.as_person(desk.store.users.add_user("bob", "correct horse battery", "member"))
    his = bob.add_rule("Zebrafinch", ["star"], name="Bob's secret rule")
    page = await user.get("/rules")
    assert "Bob's secret rule" not in page.text and "Zebrafinch" not in page.text
    for suffix in ("", "/apply", "/delete", "/move", "/enabled"):
        if suffix:
            answer = await user.post(f"/rules/{his.id}{suffix}", {"direction": "up"})
        else:
            answer = await user.get(f"/rules/{his.id}")
        assert answer.status_code == 404, suffix
        assert "Bob's secret rule" not in answer.text
    assert [r.id for r in bob.store.rules.list()] == [his.id]
    assert bob.store.rules.get(his.id).enabled


# -- in a real browser ------------------------------------------------------------------------

TITLES = ("Smirnov indicted", "Harbour cranes idle", "Smirnov appeal heard", "Mild weather")


def _wire(base: str) -> bytes:
    now = datetime.now(UTC)
    items = "".join(
        f"<item><title>{t}</title><link>{base}/w/{n}</link><guid>{base}/w/{n}</guid>"
        f"<pubDate>{(now - timedelta(hours=n + 1)).strftime('%a, %d %b %Y %H:%M:%S GMT')}"
        f"</pubDate><description>Item {n}.</description></item>"
        for n, t in enumerate(TITLES)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        f"<link>{base}/</link><description>d</description>{items}</channel></rss>"
    ).encode()


@pytest.mark.slow
def test_rules_page_in_a_browser(tmp_path: Path) -> None:
    from .test_browser import CHROMIUM, CHROMIUM_ARGS, LiveServer

    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    server = RoutesServer()
    settings = load_settings(
        env={},
        database_url=f"sqlite:///{tmp_path / 'newsdesk.db'}",
        allow_private_networks=True,
        fulltext=False,
    )
    desk = Desk(settings)
    password = "a long test password"
    try:
        desk.store.users.set_password("admin", password)
        admin = desk.for_name(None)
        url = server.route("/wire.xml", Answer(_wire(server.base)))
        asyncio.run(admin.subscribe(url, check=False))
        asyncio.run(desk.refresh_async(fulltext=False))
        with (
            LiveServer(create_app(settings, desk=desk)) as live,
            sync_api.sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(15_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            refused: list[str] = []  # the preview of a bad query answers 400, as it should
            page.on("response", lambda r: refused.append(r.url) if r.status >= 400 else None)
            page.on(
                "console",
                lambda m: (
                    errors.append(m.text)
                    if m.type == "error" and "status of 400" not in m.text
                    else None
                ),
            )
            page.goto(live.base + "/login")
            page.fill('input[name="username"]', "admin")
            page.fill('input[name="password"]', password)
            page.click("#login-button")
            expect(page).to_have_url(live.base + "/")
            page.click('nav a[href="/rules"]')
            expect(page).to_have_url(live.base + "/rules")

            # The preview follows the typing (one request once the typing stops).
            preview = page.locator("#rule-preview")
            page.locator("#rule-query").press_sequentially("smirn", delay=30)
            expect(preview.locator(".preview-count")).to_have_text("2")
            expect(preview.locator(".preview-entries li")).to_have_count(2)
            expect(preview).to_contain_text("Smirnov appeal heard")
            page.fill("#rule-query", 'title~"(unclosed"')
            expect(preview.locator(".rule-preview-error")).to_be_visible()
            page.fill("#rule-query", "harbour")
            expect(preview.locator(".preview-count")).to_have_text("1")
            expect(preview).to_contain_text("Harbour cranes idle")

            # Make two rules; the second goes first, is turned off and on, then applied.
            page.fill('input[name="name"]', "Harbour")
            page.check('input[name="read"]')
            page.click("#rule-save")
            expect(page.locator(".notice")).to_contain_text("Rule “Harbour” saved")
            page.fill("#rule-query", "smirnov")
            page.check('input[name="star"]')
            page.fill('input[name="tag"]', "smirnov")
            page.fill('input[name="name"]', "Smirnov")
            page.click("#rule-save")
            names = page.locator(".rule-list .rule-name")
            expect(names).to_have_text(["Harbour", "Smirnov"])
            page.click('button[aria-label="Move Smirnov up (runs sooner)"]')
            expect(names).to_have_text(["Smirnov", "Harbour"])
            page.click('button[aria-label="Turn off the rule Smirnov"]')
            expect(page.locator(".rule.off .rule-name")).to_have_text("Smirnov")
            page.click('button[aria-label="Turn on the rule Smirnov"]')
            expect(page.locator(".rule.off")).to_have_count(0)
            page.click('button[aria-label="Apply the rule Smirnov to stored entries"]')
            expect(page.locator(".notice")).to_contain_text("2 entries changed")
            starred = admin.entries(EntryQuery(starred=True, limit=10))
            assert sorted(e.title or "" for e in starred) == [
                "Smirnov appeal heard",
                "Smirnov indicted",
            ]

            # Edit: the form comes back filled in, with its preview.
            page.click('a[aria-label="Edit the rule Harbour"]')
            expect(page.locator("#rule-query")).to_have_value("harbour")
            expect(page.locator('input[name="read"]')).to_be_checked()
            expect(preview.locator(".preview-count")).to_have_text("1")
            page.fill("#rule-query", "weather")
            page.click("#rule-save")
            expect(page.locator(".rule-list .rule-query").nth(1)).to_have_text("weather")

            page.click('button[aria-label="Delete the rule Harbour"]')
            expect(names).to_have_text(["Smirnov"])
            assert [r.name for r in admin.store.rules.list()] == ["Smirnov"]
            assert not errors, errors  # no CSP violations or script errors on the way
            assert [u.split("?")[0] for u in refused] == [live.base + "/rules/preview"]
            browser.close()
    finally:
        desk.close()
        server.stop()

"""Retention in the reading room (issue 16) on SQLite and PostgreSQL: the Account page's
"Retention" form (a person's default policy) and the feed edit page's policy for one feed
(each field empty: the default; ``off``: no limit for that feed), with the effective policy
shown; CSRF like every form; bad values are a 400 saying why, never a 500. Two people follow
one loopback feed: each one's policies are their own."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from newsdesk.desk import Desk
from newsdesk.settings import load_settings
from newsdesk.web.app import create_app
from newsdesk.web.guard import SESSION_COOKIE
from routes_server import Answer, RoutesServer

from .session import Browser, csrf_of

PASSWORD = "correct horse battery"


def wire(base: str) -> bytes:
    items = "".join(
        f"<item><title>Wire {i}</title><link>{base}/w/{i}</link><guid>{base}/w/{i}</guid>"
        f"<pubDate>Mon, 26 Feb 2024 10:{i:02d}:00 GMT</pubDate><description>d</description></item>"
        for i in range(5)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        f"<link>{base}/</link><description>d</description>{items}</channel></rss>"
    ).encode()


@dataclass
class Room:
    desk: Desk
    admin: Browser
    bob: Browser
    feed_id: int
    bob_only: int  # a feed only bob follows

    def policies(self, name: str) -> tuple[dict[str, int | None], dict[str, int | None]]:
        """(default, the shared feed's own keys) of one person, from the store."""
        store = self.desk.for_name(name).store.retention
        return store.default(), store.feed(self.feed_id)


@pytest.fixture
def feed_server() -> Iterator[RoutesServer]:
    server = RoutesServer()
    server.route("/wire.xml", Answer(wire(server.base)))
    server.route("/bob.xml", Answer(wire(server.base + "/b")))
    yield server
    server.stop()


@pytest.fixture
async def room(store_url: str, feed_server: RoutesServer) -> AsyncIterator[Room]:
    settings = load_settings(
        env={},
        database_url=store_url,
        allow_private_networks=True,
        fulltext=False,
        stories=False,
        entities=False,
    )
    desk = Desk(settings)
    try:
        people = desk.store.users
        people.set_password("admin", PASSWORD)
        bob = people.add_user("bob", PASSWORD)
        admin = people.person("admin")
        feed = await desk.as_person(admin).subscribe(feed_server.base + "/wire.xml", check=False)
        await desk.as_person(bob).subscribe(feed_server.base + "/wire.xml", check=False)
        bobs = await desk.as_person(bob).subscribe(
            feed_server.base + "/bob.xml", category="Bob's", check=False
        )
        app = create_app(settings, desk=desk)
        clients, browsers = [], []
        for person in (admin, bob):
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://localhost"
            )
            client.cookies.set(SESSION_COOKIE, people.create_session(person.id, timedelta(days=1)))
            clients.append(client)
            home = await client.get("/account")
            assert home.status_code == 200
            browsers.append(Browser(client, csrf_of(home.text)))
        yield Room(desk, browsers[0], browsers[1], feed.id, bobs.id)
        for client in clients:
            await client.aclose()
    finally:
        desk.close()


def _value(page: str, field_id: str) -> str:
    """The value of the input with ``id``."""
    start = page.index(f'id="{field_id}"')
    tag = page[page.rindex("<input", 0, start) : page.index(">", start)]
    return html.unescape(tag.split('value="', 1)[1].split('"', 1)[0])


async def test_account_sets_and_clears_the_default(room: Room) -> None:
    page = (await room.admin.get("/account")).text
    assert 'id="retention-title"' in page and 'action="/account/retention"' in page
    assert _value(page, "retention-keep-days") == ""
    saved = await room.admin.post(
        "/account/retention", {"keep_days": "30", "keep_read_days": " 7 ", "keep_last": ""}
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/account?done=retention#retention-title"
    assert room.policies("admin")[0] == {"keep_days": 30, "keep_read_days": 7}
    page = (await room.admin.get(saved.headers["location"])).text
    assert "Your retention policy is saved" in page
    assert _value(page, "retention-keep-days") == "30"
    assert _value(page, "retention-keep-read-days") == "7"
    assert _value(page, "retention-keep-last") == ""
    # all empty: keep everything again
    cleared = await room.admin.post("/account/retention", {"keep_days": "", "keep_last": "off"})
    assert cleared.status_code == 303
    assert room.policies("admin")[0] == {}
    assert room.policies("bob")[0] == {}  # bob's never moved


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("keep_days", "thirty", "Keep days: 'thirty' is not a whole number"),
        ("keep_days", "0", "Keep days must be a whole number of days from 1 to 36,500, not 0"),
        ("keep_read_days", "-3", "Keep read days: '-3' is not a whole number"),
        ("keep_last", "99999999", "Keep last must be a whole number of entries from 1 to"),
        ("keep_last", "1.5", "Keep last: '1.5' is not a whole number"),
        ("keep_days", "9" * 200, "is not a whole number"),
    ],
)
async def test_account_refuses_bad_values(room: Room, field: str, value: str, message: str) -> None:
    room.desk.for_name("admin").store.retention.set_default({"keep_days": 90})
    answer = await room.admin.post("/account/retention", {"keep_last": "5", field: value})
    assert answer.status_code == 400
    assert message in html.unescape(answer.text)
    assert room.policies("admin")[0] == {"keep_days": 90}  # nothing saved
    # the fields show what was typed, to correct it
    assert _value(answer.text, "retention-" + field.replace("_", "-")) == value[:40]


async def test_forms_need_the_csrf_token(room: Room) -> None:
    client = room.admin.client
    refused = await client.post("/account/retention", data={"keep_days": "3"})
    assert refused.status_code == 403
    refused = await client.post(
        f"/subscriptions/{room.feed_id}", data={"section": "retention", "keep_days": "3"}
    )
    assert refused.status_code == 403
    assert room.policies("admin") == ({}, {})


async def test_feed_page_sets_its_policy_over_the_default(room: Room) -> None:
    url = f"/subscriptions/{room.feed_id}"
    room.desk.for_name("admin").store.retention.set_default({"keep_days": 30, "keep_last": 100})
    page = (await room.admin.get(url)).text
    assert 'id="retention"' in page and 'value="retention"' in page
    assert 'placeholder="default: 30 days"' in page
    assert 'id="effective-keep-days">in effect: 30 days' in page
    assert 'id="effective-keep-read-days">in effect: no limit' in page
    assert 'id="effective-keep-last">in effect: 100 entries' in page

    form = {"section": "retention", "keep_days": "off", "keep_read_days": "3", "keep_last": ""}
    saved = await room.admin.post(url, form)
    assert saved.status_code == 303 and saved.headers["location"] == url + "?kept=1#retention"
    assert room.policies("admin")[1] == {"keep_days": None, "keep_read_days": 3}
    page = (await room.admin.get(url + "?kept=1")).text
    assert "Retention saved" in page
    assert 'id="effective-keep-days">in effect: no limit' in page
    assert 'id="effective-keep-read-days">in effect: 3 days' in page
    assert 'id="effective-keep-last">in effect: 100 entries' in page  # from the default
    assert 'name="keep_days" value="off"' in page and 'name="keep_read_days" value="3"' in page
    effective = room.desk.for_name("admin").store.retention.effective(room.feed_id)
    assert effective.as_dict() == {"keep_days": None, "keep_read_days": 3, "keep_last": 100}

    # every field empty: back to the default
    back = await room.admin.post(url, {"section": "retention", "keep_days": ""})
    assert back.status_code == 303
    assert room.policies("admin")[1] == {}


async def test_feed_page_refuses_bad_values(room: Room) -> None:
    url = f"/subscriptions/{room.feed_id}"
    room.desk.for_name("admin").store.retention.set_feed(room.feed_id, {"keep_last": 9})
    for value, message in (
        ("soon", "Keep days: 'soon' is not a whole number (leave it empty for your default"),
        ("40000", "Keep days must be a whole number of days from 1 to 36,500, not 40000"),
    ):
        answer = await room.admin.post(url, {"section": "retention", "keep_days": value})
        assert answer.status_code == 400
        assert 'id="retention-error"' in answer.text
        assert message in html.unescape(answer.text)
        assert room.policies("admin")[1] == {"keep_last": 9}
    # the title form's error place stays empty
    assert answer.text.count('role="alert"') == 1


async def test_each_person_has_their_own_policy(room: Room) -> None:
    url = f"/subscriptions/{room.feed_id}"
    await room.admin.post(url, {"section": "retention", "keep_last": "4321"})
    await room.admin.post("/account/retention", {"keep_days": "8765"})
    bob_page = (await room.bob.get(url)).text
    assert "4321" not in bob_page and "8765" not in bob_page
    assert 'id="effective-keep-last">in effect: no limit' in bob_page
    saved = await room.bob.post(url, {"section": "retention", "keep_days": "12"})
    assert saved.status_code == 303
    assert room.policies("bob") == ({}, {"keep_days": 12})
    assert room.policies("admin") == ({"keep_days": 8765}, {"keep_last": 4321})
    # a feed only bob follows is no feed at all to the admin's pages
    missing = await room.admin.post(
        f"/subscriptions/{room.bob_only}", {"section": "retention", "keep_days": "1"}
    )
    assert missing.status_code == 404
    assert room.desk.for_name("bob").store.retention.feed(room.bob_only) == {}


async def test_a_feed_seen_through_a_shared_category_follows_its_owner(room: Room) -> None:
    bob = room.desk.for_name("bob").store.sharing
    category_id = next(i for i, title in bob.own_categories() if title == "Bob's")
    bob.share(category_id, "admin", can_manage=True)
    url = f"/subscriptions/{room.bob_only}"
    page = await room.admin.get(url)
    assert page.status_code == 200
    assert "its owner&#39;s retention applies" in page.text or "its owner's retention" in page.text
    assert 'value="retention"' not in page.text
    refused = await room.admin.post(url, {"section": "retention", "keep_days": "1"})
    assert refused.status_code == 400
    assert "shared category: its owner" in html.unescape(refused.text)
    assert room.desk.for_name("bob").store.retention.feed(room.bob_only) == {}

"""Reading habits (issue 16) on SQLite and PostgreSQL: each person's ``mark_read_on_open`` and
``mark_read_on_scroll``, the Account page's form, the batched mark of entries scrolled past,
the river's next page continuing after its last entry, ``/api/me`` and Miniflux's
``mark_read_on_view``. Two people on one desk: ``admin`` follows a loopback feed of 40 entries,
``bob`` (a member) follows nothing of it. The browser side is in test_habits_browser.py."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update

from newsdesk.desk import Desk
from newsdesk.errors import NewsdeskError
from newsdesk.settings import load_settings
from newsdesk.store import EntryQuery
from newsdesk.store.schema import entries, stories, users
from newsdesk.store.users import Preferences
from newsdesk.web import pages
from newsdesk.web.app import create_app
from newsdesk.web.guard import SESSION_COOKIE
from routes_server import Answer, RoutesServer

from .session import Browser, csrf_of

PASSWORD = "correct horse battery"
ENTRIES = 40


def habits_feed(base: str, count: int = ENTRIES) -> bytes:
    """``count`` items, two a minute (so pairs share a publication time: the river's order
    falls back on ids there)."""
    items = "".join(
        f"<item><title>Habit {i:02d}</title><link>{base}/a/{i}</link><guid>{base}/a/{i}</guid>"
        f"<pubDate>Mon, 26 Feb 2024 10:{i // 2:02d}:00 GMT</pubDate>"
        f"<description>Words of entry {i}</description></item>"
        for i in range(count)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Habits</title>'
        f"<link>{base}/</link><description>d</description>{items}</channel></rss>"
    ).encode()


@dataclass
class Room:
    desk: Desk
    admin: Browser
    bob: Browser
    bob_id: int
    api_key: str
    bob_key: str

    def entry(self, entry_id: int) -> Any:
        return self.desk.for_name("admin").store.get_entry(entry_id)

    def unread_ids(self) -> list[int]:
        found = self.desk.for_name("admin").entries(EntryQuery(read=False, limit=1000))
        return [e.id for e in found]


@pytest.fixture
def feed_server() -> Iterator[RoutesServer]:
    server = RoutesServer()
    server.route("/habits.xml", Answer(habits_feed(server.base)))
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
        story_river=False,
    )
    desk = Desk(settings)
    try:
        desk.store.add_feed(feed_server.base + "/habits.xml")  # the first admin's
        report = await desk.refresh_async()
        assert report.new_entries == ENTRIES, report.summary
        people = desk.store.users
        people.set_password("admin", PASSWORD)
        bob = people.add_user("bob", PASSWORD)
        admin = people.person("admin")
        api_key = desk.as_person(admin).store.tokens.create_token("test")[1]
        bob_key = desk.as_person(bob).store.tokens.create_token("bob's")[1]
        app = create_app(settings, desk=desk)
        clients = []
        browsers = []
        for person in (admin, bob):
            token = people.create_session(person.id, timedelta(days=1))
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://localhost"
            )
            client.cookies.set(SESSION_COOKIE, token)
            clients.append(client)
            home = await client.get("/")
            assert home.status_code == 200
            browsers.append(Browser(client, csrf_of(home.text)))
        yield Room(desk, browsers[0], browsers[1], bob.id, api_key, bob_key)
        for client in clients:
            await client.aclose()
    finally:
        desk.close()


# -- the store ----------------------------------------------------------------------------------


def test_preferences_have_defaults_and_change_one_at_a_time(store_url: str) -> None:
    desk = Desk(load_settings(env={}, database_url=store_url))
    try:
        people = desk.store.users
        admin = people.person()
        bob = people.add_user("bob", PASSWORD)
        assert admin.preferences == Preferences(mark_read_on_scroll=False, mark_read_on_open=True)
        # Other keys of users.preferences (the two-factor step counter) stay as they are.
        with desk.store.engine.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.id == admin.id)
                .values(preferences={"totp_last_step": 7, "mark_read_on_open": "yes"})
            )
        assert people.preferences(admin.id).mark_read_on_open  # not a bool: the default
        now = people.set_preferences(admin.id, {"mark_read_on_scroll": True})
        assert now == Preferences(mark_read_on_scroll=True, mark_read_on_open=True)
        people.set_preferences(admin.id, {"mark_read_on_open": False})
        with desk.store.engine.connect() as conn:
            raw = conn.execute(select(users.c.preferences).where(users.c.id == admin.id)).scalar()
        assert raw == {"totp_last_step": 7, "mark_read_on_scroll": True, "mark_read_on_open": False}
        found = people.user_by_id(admin.id)
        assert found is not None and found.preferences == Preferences(True, False)
        # bob's are his own.
        assert people.preferences(bob.id) == Preferences()
        for bad, message in (
            ({"mark_read_on_view": True}, "no preference named 'mark_read_on_view'"),
            ({"mark_read_on_open": 1}, "is true or false, not 1"),
            ({"mark_read_on_scroll": None}, "is true or false, not None"),
        ):
            with pytest.raises(NewsdeskError, match=re.escape(message)):
                people.set_preferences(bob.id, bad)
        with pytest.raises(NewsdeskError, match="no such user"):
            people.set_preferences(987654, {"mark_read_on_open": False})
        assert people.preferences(bob.id) == Preferences()
        # The Desk's person follows the change; the system's desk has no preferences.
        mine = desk.for_name("bob")
        assert mine.set_preferences({"mark_read_on_scroll": True}).mark_read_on_scroll
        assert mine.person is not None and mine.person.preferences.mark_read_on_scroll
        with pytest.raises(NewsdeskError, match="a person's"):
            desk.set_preferences({"mark_read_on_scroll": True})
    finally:
        desk.close()


async def test_the_river_cursor_continues_after_an_entry(room: Room) -> None:
    """``EntryQuery.after_id``: the entries after one in the river's order (newest first, or
    oldest first), ties on the publication time broken by id as the river sorts them."""
    store = room.desk.for_name("admin").store
    for oldest_first in (False, True):
        every = [e.id for e in store.list_entries(EntryQuery(limit=100, oldest_first=oldest_first))]
        assert len(every) == ENTRIES
        for at in (0, 1, 2, 17, ENTRIES - 2):
            query = EntryQuery(limit=5, after_id=every[at], oldest_first=oldest_first)
            assert [e.id for e in store.list_entries(query)] == every[at + 1 : at + 6]
        last = EntryQuery(limit=5, after_id=every[-1], oldest_first=oldest_first)
        assert store.list_entries(last) == []
    assert store.list_entries(EntryQuery(after_id=987654)) == []  # gone: nothing after it


# -- opening an entry ---------------------------------------------------------------------------


async def test_opening_an_entry_marks_it_read_only_when_the_person_wants(room: Room) -> None:
    first, second = room.unread_ids()[:2]
    page = await room.admin.get(f"/entry/{first}")
    assert page.status_code == 200
    assert room.entry(first).read  # the default: as before
    assert "Mark unread" in page.text  # and the page says so

    account = await room.admin.get("/account")
    assert 'id="mark-read-on-open" checked' in account.text
    assert 'id="mark-read-on-scroll" checked' not in account.text
    saved = await room.admin.post(
        "/account/preferences", {"shown": "mark_read_on_open,mark_read_on_scroll"}
    )  # both boxes unticked
    assert saved.status_code == 303
    account = await room.admin.get(saved.headers["location"])
    assert "Your reading habits are saved." in account.text
    assert 'id="mark-read-on-open" checked' not in account.text

    page = await room.admin.get(f"/entry/{second}")
    assert page.status_code == 200 and "Habit" in page.text
    assert not room.entry(second).read
    assert "Mark unread" not in page.text
    # Marking it by hand still works.
    marked = await room.admin.post(f"/entry/{second}/read", {"value": "1"})
    assert marked.status_code == 303 and room.entry(second).read
    # bob's habits are his own: untouched.
    bob = room.desk.store.users.user_by_id(room.bob_id)
    assert bob is not None and bob.preferences == Preferences()


async def test_the_preferences_form_refuses_what_it_does_not_know(room: Room) -> None:
    bad = await room.admin.post("/account/preferences", {"shown": "theme"})
    assert bad.status_code == 400 and "no preference named" in bad.text
    # Only the preferences the form shows change.
    await room.admin.post(
        "/account/preferences", {"shown": "mark_read_on_scroll", "mark_read_on_scroll": "on"}
    )
    assert room.desk.store.users.person("admin").preferences == Preferences(True, True)
    no_token = await room.admin.client.post("/account/preferences", data={"shown": ""})
    assert no_token.status_code == 403


# -- marking what was scrolled past -------------------------------------------------------------


async def test_entries_scrolled_past_are_marked_read_in_a_batch(room: Room) -> None:
    unread = room.unread_ids()
    batch = unread[:7]
    done = await room.admin.post("/entries/read", {"ids": ",".join(map(str, batch))})
    assert done.status_code == 200 and done.json() == {"marked": 7}
    assert all(room.entry(i).read for i in batch)
    assert not room.entry(unread[7]).read
    # The header the page's script sends works as well as the form field.
    client = room.admin.client
    by_header = await client.post(
        "/entries/read",
        data={"ids": str(unread[7])},
        headers={"X-CSRF-Token": room.admin.token},
    )
    assert by_header.json() == {"marked": 1} and room.entry(unread[7]).read
    # Without the CSRF token: refused, nothing marked.
    forged = await client.post("/entries/read", data={"ids": str(unread[8])})
    assert forged.status_code == 403 and not room.entry(unread[8]).read
    for ids, message in (
        ("1,x", "not 'x'"),
        ("0", "not '0'"),
        (",".join(["5"] * 501), "at most 500 ids"),
        ("12345678901", "not '12345678901'"),
    ):
        bad = await room.admin.post("/entries/read", {"ids": ids})
        assert bad.status_code == 400 and message in html.unescape(bad.text), ids
    assert (await room.admin.post("/entries/read", {"ids": ""})).json() == {"marked": 0}
    # bob does not see admin's feed: her entries are not his to mark.
    theirs = await room.bob.post("/entries/read", {"ids": str(unread[9]), "stories": "1"})
    assert theirs.json() == {"marked": 0}
    assert not room.entry(unread[9]).read


async def test_a_story_card_scrolled_past_marks_its_story(room: Room) -> None:
    """A story's card stands for its members (as its read button does): sent with the card's
    entry, the story is marked; a story sent without one of its entries is not."""
    lead, member, other, lone = room.unread_ids()[:4]
    now = datetime.now(UTC)
    with room.desk.store.engine.begin() as conn:
        story = conn.execute(
            insert(stories).values(
                title="A story",
                lead_entry_id=lead,
                size=2,
                sources=1,
                first_published=now,
                last_published=now,
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
        conn.execute(update(entries).where(entries.c.id.in_([lead, member])).values(story_id=story))
    alone = await room.admin.post("/entries/read", {"ids": str(other), "stories": str(story)})
    assert alone.json() == {"marked": 1}
    assert not room.entry(lead).read and not room.entry(member).read
    card = await room.admin.post("/entries/read", {"ids": str(lead), "stories": str(story)})
    assert card.json() == {"marked": 1}
    assert room.entry(lead).read and room.entry(member).read and not room.entry(lone).read


async def test_the_river_says_when_to_mark_on_scroll_and_pages_after_its_last_entry(
    room: Room, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "PAGE_SIZE", 10)
    first = await room.admin.get("/")
    assert "data-mark-read-on-scroll" not in first.text  # off by default
    assert 'hx-get="/?show=unread&amp;page=2"' in first.text  # offsets, as before

    room.desk.store.users.set_preferences(
        room.desk.store.users.person("admin").id, {"mark_read_on_scroll": True}
    )
    order = room.unread_ids()
    first = await room.admin.get("/")
    assert 'data-mark-read-on-scroll="1"' in first.text
    shown = [int(i) for i in re.findall(r'<article class="card[^"]*" id="entry-(\d+)"', first.text)]
    assert shown == order[:10]
    link = re.search(r'hx-get="([^"]+)"', first.text)
    assert link is not None
    next_url = link.group(1).replace("&amp;", "&")
    assert next_url == f"/?show=unread&page=2&after={order[9]}"
    # The person scrolls past the first page: it turns read; the next page still starts with
    # the 11th entry (an offset of 10 over what is still unread would skip ten).
    await room.admin.post("/entries/read", {"ids": ",".join(map(str, shown))})
    more = await room.admin.get(next_url, headers={"HX-Request": "true"})
    cards = [int(i) for i in re.findall(r'<article class="card[^"]*" id="entry-(\d+)"', more.text)]
    assert cards == order[10:20]
    assert f"after={order[19]}" in more.text
    bob_river = await room.bob.get("/")
    assert "data-mark-read-on-scroll" not in bob_river.text  # his own habit


# -- the APIs -----------------------------------------------------------------------------------


async def test_api_me_shows_and_changes_the_callers_habits(room: Room) -> None:
    client = room.admin.client
    key = {"X-Auth-Token": room.api_key}
    me = await client.get("/api/me", headers=key)
    assert me.status_code == 200
    assert me.json()["name"] == "admin"
    assert me.json()["preferences"] == {"mark_read_on_scroll": False, "mark_read_on_open": True}
    changed = await client.patch(
        "/api/me", headers=key, json={"preferences": {"mark_read_on_scroll": True}}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["preferences"] == {"mark_read_on_scroll": True, "mark_read_on_open": True}
    assert room.desk.store.users.person("admin").preferences.mark_read_on_scroll
    for body, message in (
        ({"preferences": {"mark_read_on_view": False}}, "no preference named"),
        ({"preferences": {"mark_read_on_open": "no"}}, "is true or false"),
        ({"preferences": ["mark_read_on_open"]}, "preferences is an object"),
        ({"theme": "dark"}, "unknown fields: theme"),
    ):
        bad = await client.patch("/api/me", headers=key, json=body)
        assert bad.status_code == 400 and message in bad.json()["error"]["message"], body
    # bob's /api/me is his, and so is his change.
    bob = {"X-Auth-Token": room.bob_key}
    await client.patch("/api/me", headers=bob, json={"preferences": {"mark_read_on_open": False}})
    assert (await client.get("/api/me", headers=bob)).json()["preferences"] == {
        "mark_read_on_scroll": False,
        "mark_read_on_open": False,
    }
    assert room.desk.store.users.person("admin").preferences == Preferences(True, True)
    assert (await client.patch("/api/me", json={"preferences": {}})).status_code == 401


async def test_miniflux_mark_read_on_view_is_mark_read_on_open(room: Room) -> None:
    client = room.admin.client
    key = {"X-Auth-Token": room.api_key}
    me = (await client.get("/v1/me", headers=key)).json()
    assert me["mark_read_on_view"] is True
    admin_id = me["id"]
    changed = await client.put(
        f"/v1/users/{admin_id}", headers=key, json={"mark_read_on_view": False}
    )
    assert changed.status_code == 201 and changed.json()["mark_read_on_view"] is False
    assert not room.desk.store.users.person("admin").preferences.mark_read_on_open
    # An entry opened in the reading room now stays unread.
    entry_id = room.unread_ids()[0]
    await room.admin.get(f"/entry/{entry_id}")
    assert not room.entry(entry_id).read
    bad = await client.put(f"/v1/users/{admin_id}", headers=key, json={"mark_read_on_view": 0})
    assert bad.status_code == 400
    # bob (a member) may change his own, not admin's.
    bob = {"X-Auth-Token": room.bob_key}
    theirs = await client.put(
        f"/v1/users/{admin_id}", headers=bob, json={"mark_read_on_view": True}
    )
    assert theirs.status_code == 403
    assert not room.desk.store.users.person("admin").preferences.mark_read_on_open
    own = await client.put(
        f"/v1/users/{room.bob_id}", headers=bob, json={"mark_read_on_view": False}
    )
    assert own.status_code == 201 and own.json()["mark_read_on_view"] is False
    # An admin may change a member's, as in Miniflux.
    back = await client.put(
        f"/v1/users/{room.bob_id}", headers=key, json={"mark_read_on_view": True}
    )
    assert back.status_code == 201
    assert room.desk.store.users.person("bob").preferences.mark_read_on_open


async def test_desk_open_entry_follows_the_persons_habit(room: Room) -> None:
    """``Desk.open_entry`` (what the entry page calls) marks for a person who keeps the
    default, not for one who turned it off, and refuses an entry the person does not see."""
    mine = room.desk.for_name("admin")
    entry_id = room.unread_ids()[0]
    assert mine.open_entry(entry_id).read and room.entry(entry_id).read
    mine.set_preferences({"mark_read_on_open": False})
    other = room.unread_ids()[0]
    assert not mine.open_entry(other).read and not room.entry(other).read
    with pytest.raises(NewsdeskError):
        room.desk.for_name("bob").open_entry(other)  # not his to open

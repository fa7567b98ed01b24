"""Teams (issue 15) through the four APIs: each call acts as the person it authenticates.

Two people on one desk (SQLite and PostgreSQL): ``admin`` follows both seed feeds (one of
them theirs alone), ``bob`` (a member) follows the other one too. Through the native API, the
Miniflux API (API key and HTTP Basic), Google Reader (ClientLogin) and Fever, each lists only
their own feeds and entries, marks only their own state, and gets 404 for what only the other
follows; the people routes (``/v1/users``, ``/api/users``) are an admin's (403 for a member),
``/v1/me`` and ``/api/me`` are the caller."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from newsdesk.demo import SEED_FEEDS
from newsdesk.demo.server import SampleServer
from newsdesk.desk import Desk
from newsdesk.settings import load_settings
from newsdesk.store import EntryQuery
from newsdesk.store.server_key import server_key

PASSWORD = "correct horse battery"


@dataclass
class Person:
    name: str
    key: str
    feeds: set[int]
    client: httpx.AsyncClient | None = None
    google: str = ""

    @property
    def token(self) -> dict[str, str]:
        return {"X-Auth-Token": self.key}

    @property
    def basic(self) -> dict[str, str]:
        raw = base64.b64encode(f"{self.name}:{PASSWORD}".encode()).decode()
        return {"Authorization": f"Basic {raw}"}

    @property
    def fever_key(self) -> str:
        return hashlib.md5(f"{self.name}:{PASSWORD}".encode()).hexdigest()

    @property
    def reader(self) -> dict[str, str]:
        return {"Authorization": f"GoogleLogin auth={self.google}"}


@dataclass
class Team:
    desk: Desk
    admin: Person
    bob: Person
    private: int  # the feed only admin follows
    shared: int  # the feed both follow
    entries: dict[int, list[int]] = field(default_factory=dict)  # feed id → entry ids

    @property
    def client(self) -> httpx.AsyncClient:
        assert self.admin.client is not None
        return self.admin.client


@pytest.fixture
def built(store_url: str, seed_server: SampleServer) -> Iterator[Team]:
    settings = load_settings(
        env={},
        database_url=store_url,
        allow_private_networks=True,
        fulltext=False,
        stories=False,
        entities=False,
        timelines=False,
        alerts=False,
    )
    desk = Desk(settings)
    try:
        users = desk.store.users
        users.set_password("admin", PASSWORD)
        users.add_user("bob", PASSWORD, "member")
        known = server_key(settings)
        mine, bobs = desk.for_name("admin"), desk.for_name("bob")
        urls = [seed_server.base + path for path in SEED_FEEDS]
        for url in urls:
            asyncio.run(mine.subscribe(url, category="Mine", check=False))
        asyncio.run(desk.refresh_async(fulltext=False))
        # bob follows the feed with the most entries (one fetch, one set of entries: his too)
        busiest = max(
            mine.store.list_feeds(),
            key=lambda f: mine.store.count_entries(EntryQuery(feed_id=f.id)),
        )
        asyncio.run(bobs.subscribe(busiest.url, category="Bob's", check=False))
        people = {}
        for name, person_desk in (("admin", mine), ("bob", bobs)):
            users.set_fever(name, on=True, password=PASSWORD, server_key=known)
            _, key = person_desk.store.tokens.create_token(f"{name}'s key")
            feeds = {f.id for f in person_desk.store.list_feeds()}
            people[name] = Person(name, key, feeds)
        private = (people["admin"].feeds - people["bob"].feeds).pop()
        shared = (people["admin"].feeds & people["bob"].feeds).pop()
        team = Team(desk, people["admin"], people["bob"], private, shared)
        for feed_id in (private, shared):
            found = mine.store.list_entries(EntryQuery(feed_id=feed_id, limit=500))
            team.entries[feed_id] = sorted(e.id for e in found)
            assert team.entries[feed_id], "the seed has entries in every feed"
        yield team
    finally:
        desk.close()


@pytest.fixture
async def team(built: Team) -> AsyncIterator[Team]:
    from newsdesk.web.app import create_app

    app = create_app(built.desk.settings, desk=built.desk)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://newsdesk.test") as client:
        for person in (built.admin, built.bob):
            person.client = client
            login = await client.post(
                "/accounts/ClientLogin", data={"Email": person.name, "Passwd": PASSWORD}
            )
            assert login.status_code == 200, login.text
            person.google = login.text.split("Auth=")[1].strip()
        yield built
    jobs = app.state.ctx.jobs
    if jobs is not None:
        jobs.wait(timeout=30)


# -- who is calling --------------------------------------------------------------------------


async def test_me_is_the_caller_on_every_api(team: Team) -> None:
    c = team.client
    for person, admin in ((team.admin, True), (team.bob, False)):
        for headers in (person.token, person.basic):
            me = await c.get("/v1/me", headers=headers)
            assert me.status_code == 200, me.text
            assert me.json()["username"] == person.name
            assert me.json()["is_admin"] is admin
            assert "last_login_at" in me.json()
        native = (await c.get("/api/me", headers=person.token)).json()
        assert native["name"] == person.name
        assert native["role"] == ("admin" if admin else "member")
        info = (await c.get("/reader/api/0/user-info", headers=person.reader)).json()
        assert info["userName"] == person.name
        fever = (await c.post("/fever/?api", data={"api_key": person.fever_key})).json()
        assert fever["auth"] == 1


# -- people: an admin's ---------------------------------------------------------------------


async def test_miniflux_users_are_an_admins(team: Team) -> None:
    c, bob, admin = team.client, team.bob, team.admin
    bob_id = (await c.get("/v1/me", headers=bob.token)).json()["id"]
    admin_id = (await c.get("/v1/me", headers=admin.token)).json()["id"]
    for method, path, body in (
        ("GET", "/v1/users", None),
        ("POST", "/v1/users", {"username": "carol", "password": PASSWORD}),
        ("GET", f"/v1/users/{admin_id}", None),
        ("GET", "/v1/users/admin", None),
        ("PUT", f"/v1/users/{admin_id}", {"password": "another long one"}),
        ("DELETE", f"/v1/users/{admin_id}", None),
        ("PUT", f"/v1/users/{admin_id}/mark-all-as-read", None),
    ):
        for headers in (bob.token, bob.basic):
            answer = await c.request(method, path, headers=headers, json=body)
            assert answer.status_code == 403, (method, path, answer.text)
            assert answer.json() == {"error_message": "Access Forbidden"}
    # a member changes their own password, not their role
    own = await c.put(f"/v1/users/{bob_id}", headers=bob.token, json={"is_admin": True})
    assert own.status_code == 400
    listed = await c.get("/v1/users", headers=admin.token)
    assert {u["username"]: u["is_admin"] for u in listed.json()} == {"admin": True, "bob": False}
    made = await c.post(
        "/v1/users", headers=admin.basic, json={"username": "carol", "password": PASSWORD}
    )
    assert made.status_code == 201 and made.json()["is_admin"] is False
    carol = made.json()["id"]
    by_name = await c.get("/v1/users/carol", headers=admin.token)
    assert by_name.json()["id"] == carol
    assert (await c.get(f"/v1/users/{carol}", headers=admin.token)).json()["username"] == "carol"
    assert (await c.get("/v1/users/nobody", headers=admin.token)).status_code == 404
    promoted = await c.put(f"/v1/users/{carol}", headers=admin.token, json={"is_admin": True})
    assert promoted.status_code == 201 and promoted.json()["is_admin"] is True
    assert (await c.delete(f"/v1/users/{admin_id}", headers=admin.token)).status_code == 400
    assert (await c.delete(f"/v1/users/{carol}", headers=admin.token)).status_code == 204
    assert (await c.get(f"/v1/users/{carol}", headers=admin.token)).status_code == 404


async def test_native_users_are_an_admins(team: Team) -> None:
    c, bob, admin = team.client, team.bob, team.admin
    admin_id = (await c.get("/api/me", headers=admin.token)).json()["id"]
    for method, path, body in (
        ("GET", "/api/users", None),
        ("POST", "/api/users", {"name": "carol", "password": PASSWORD}),
        ("GET", f"/api/users/{admin_id}", None),
        ("PATCH", f"/api/users/{admin_id}", {"role": "member"}),
        ("DELETE", f"/api/users/{admin_id}", None),
    ):
        answer = await c.request(method, path, headers=bob.token, json=body)
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.json()["error"]["status"] == 403
    people = (await c.get("/api/users", headers=admin.token)).json()
    assert {p["name"]: p["role"] for p in people} == {"admin": "admin", "bob": "member"}
    made = await c.post(
        "/api/users", headers=admin.token, json={"name": "carol", "password": PASSWORD}
    )
    assert made.status_code == 201 and made.json()["role"] == "member"
    carol = made.json()["id"]
    again = await c.post(
        "/api/users", headers=admin.token, json={"name": "carol", "password": PASSWORD}
    )
    assert again.status_code == 400
    role = await c.patch(f"/api/users/{carol}", headers=admin.token, json={"role": "admin"})
    assert role.status_code == 200 and role.json()["role"] == "admin"
    own = await c.patch(f"/api/users/{admin_id}", headers=admin.token, json={"role": "member"})
    assert own.status_code == 400
    assert (await c.delete(f"/api/users/{admin_id}", headers=admin.token)).status_code == 400
    assert (await c.delete(f"/api/users/{carol}", headers=admin.token)).status_code == 204
    assert (await c.get(f"/api/users/{carol}", headers=admin.token)).status_code == 404


async def test_a_changed_role_or_password_counts_at_once_with_basic(team: Team) -> None:
    """HTTP Basic pairs are remembered a minute: a new role shows at once, a changed password
    ends the old pair at once."""
    c, bob, admin = team.client, team.bob, team.admin
    bob_id = (await c.get("/api/me", headers=bob.basic)).json()["id"]
    assert (await c.get("/v1/users", headers=bob.basic)).status_code == 403
    await c.patch(f"/api/users/{bob_id}", headers=admin.token, json={"role": "admin"})
    assert (await c.get("/v1/users", headers=bob.basic)).status_code == 200
    await c.patch(f"/api/users/{bob_id}", headers=admin.token, json={"password": "a new one!!"})
    assert (await c.get("/v1/me", headers=bob.basic)).status_code == 401
    assert (await c.get("/v1/me", headers=bob.token)).status_code == 200  # keys stay


# -- feeds: the caller's ----------------------------------------------------------------------


async def test_each_api_lists_the_callers_feeds(team: Team) -> None:
    c = team.client
    for person in (team.admin, team.bob):
        native = (await c.get("/api/subscriptions", headers=person.token)).json()
        assert {f["id"] for f in native} == person.feeds
        for headers in (person.token, person.basic):
            miniflux = (await c.get("/v1/feeds", headers=headers)).json()
            assert {f["id"] for f in miniflux} == person.feeds
        listed = await c.get("/reader/api/0/subscription/list?output=json", headers=person.reader)
        ids = {int(s["id"].removeprefix("feed/")) for s in listed.json()["subscriptions"]}
        assert ids == person.feeds
        fever = await c.post("/fever/?api&feeds&groups", data={"api_key": person.fever_key})
        assert {f["id"] for f in fever.json()["feeds"]} == person.feeds
        groups = {g["title"] for g in fever.json()["groups"]}
        assert groups == ({"Mine"} if person is team.admin else {"Bob's"})


async def test_another_persons_feed_is_not_there(team: Team) -> None:
    c, bob, private = team.client, team.bob, team.private
    for method, path in (
        ("GET", f"/api/subscriptions/{private}"),
        ("PATCH", f"/api/subscriptions/{private}"),
        ("DELETE", f"/api/subscriptions/{private}"),
        ("GET", f"/v1/feeds/{private}"),
        ("PUT", f"/v1/feeds/{private}"),
        ("DELETE", f"/v1/feeds/{private}"),
        ("GET", f"/v1/feeds/{private}/icon"),
        ("GET", f"/v1/feeds/{private}/entries"),
        ("PUT", f"/v1/feeds/{private}/refresh"),
        ("PUT", f"/v1/feeds/{private}/mark-all-as-read"),
    ):
        body = {"title": "mine now"} if method in {"PATCH", "PUT"} else None
        answer = await c.request(method, path, headers=bob.token, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
    refused = await c.post("/api/refresh", headers=bob.token, json={"feeds": [private]})
    assert refused.status_code == 404
    stream = await c.get(f"/reader/api/0/stream/contents/feed/{private}", headers=bob.reader)
    assert stream.status_code == 404
    admin_feeds = (await c.get("/api/subscriptions", headers=team.admin.token)).json()
    assert {f["id"] for f in admin_feeds} == team.admin.feeds  # nothing went


# -- entries and their state: the caller's -----------------------------------------------------


async def test_each_api_lists_the_callers_entries(team: Team) -> None:
    c, bob = team.client, team.bob
    theirs = set(team.entries[team.shared])
    native = await c.get("/api/entries?limit=500", headers=bob.token)
    assert {e["id"] for e in native.json()["entries"]} == theirs
    for headers in (bob.token, bob.basic):
        miniflux = await c.get("/v1/entries?limit=500", headers=headers)
        assert {e["id"] for e in miniflux.json()["entries"]} == theirs
    ids = await c.get("/reader/api/0/stream/items/ids?n=1000", headers=bob.reader)
    assert {int(i["id"]) for i in ids.json()["itemRefs"]} == theirs
    fever = await c.post("/fever/?api&unread_item_ids", data={"api_key": bob.fever_key})
    assert {int(i) for i in fever.json()["unread_item_ids"].split(",")} == theirs
    hidden = team.entries[team.private][0]
    assert (await c.get(f"/api/entries/{hidden}", headers=bob.token)).status_code == 404
    assert (await c.get(f"/v1/entries/{hidden}", headers=bob.token)).status_code == 404
    items = await c.post(f"/fever/?api&items&with_ids={hidden}", data={"api_key": bob.fever_key})
    assert items.json()["items"] == []
    contents = await c.post(
        "/reader/api/0/stream/items/contents", headers=bob.reader, data={"i": str(hidden)}
    )
    assert contents.json()["items"] == []


async def _admin_unread(team: Team) -> set[int]:
    answer = await team.client.get("/api/entries?status=unread&limit=500", headers=team.admin.token)
    return {e["id"] for e in answer.json()["entries"]}


async def test_marking_is_the_callers_on_every_api(team: Team) -> None:
    c, bob = team.client, team.bob
    everything = set(team.entries[team.private]) | set(team.entries[team.shared])
    assert await _admin_unread(team) == everything
    first, second, third, fourth = team.entries[team.shared][:4]
    hidden = team.entries[team.private][0]
    marked = await c.post(
        "/api/entries/state", headers=bob.token, json={"ids": [first, hidden], "read": True}
    )
    assert marked.json()["updated"] == 1
    put = await c.put(
        "/v1/entries", headers=bob.basic, json={"entry_ids": [second], "status": "read"}
    )
    assert put.status_code == 204
    tagged = await c.post(
        "/reader/api/0/edit-tag",
        headers=bob.reader,
        data={"i": str(third), "a": "user/-/state/com.google/read"},
    )
    assert tagged.status_code == 200
    await c.post(f"/fever/?api&mark=item&as=read&id={fourth}", data={"api_key": bob.fever_key})
    await c.post(f"/fever/?api&mark=item&as=saved&id={hidden}", data={"api_key": bob.fever_key})
    await c.post(
        f"/fever/?api&mark=feed&as=read&id={team.private}", data={"api_key": bob.fever_key}
    )
    bob_unread = await c.get("/api/entries?status=unread&limit=500", headers=bob.token)
    assert {e["id"] for e in bob_unread.json()["entries"]} == set(team.entries[team.shared]) - {
        first,
        second,
        third,
        fourth,
    }
    assert await _admin_unread(team) == everything  # bob's reading is bob's
    starred = await c.get("/api/entries?starred=true", headers=team.admin.token)
    assert starred.json()["entries"] == []
    # the admin marks everything read: bob's state stays
    done = await c.put(f"/v1/feeds/{team.shared}/mark-all-as-read", headers=team.admin.token)
    assert done.status_code == 204
    bob_after = await c.get("/api/entries?status=unread&limit=500", headers=bob.token)
    assert {e["id"] for e in bob_after.json()["entries"]} == {
        e["id"] for e in bob_unread.json()["entries"]
    }


async def test_api_keys_are_the_callers(team: Team) -> None:
    c, bob, admin = team.client, team.bob, team.admin
    admins = (await c.get("/api/tokens", headers=admin.token)).json()
    bobs = (await c.get("/api/tokens", headers=bob.token)).json()
    assert [t["name"] for t in admins] == ["admin's key"]
    assert [t["name"] for t in bobs] == ["bob's key"]
    gone = await c.delete(f"/api/tokens/{admins[0]['id']}", headers=bob.token)
    assert gone.status_code == 404
    assert (await c.get("/api/me", headers=admin.token)).status_code == 200

"""The reading room for several people (issue 15): the admin's People page, each person's
Account page (password, API keys) and shared categories, driven in-process like a browser."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette

from newsdesk.desk import Desk
from newsdesk.store.protocols.refresh import EntryQuery

from .session import PASSWORD, Browser, csrf_of

MEMBER_PASSWORD = "bobs own password"


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost")


async def log_in(client: httpx.AsyncClient, name: str, password: str) -> Browser:
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={"csrf_token": csrf_of(page.text), "username": name, "password": password},
    )
    assert response.status_code == 303, response.text
    home = await client.get("/")
    assert home.status_code == 200
    return Browser(client, csrf_of(home.text))


def _person_id(page: str, name: str) -> int:
    found = re.search(rf'<tr id="person-(\d+)">\s*<td><strong>{re.escape(name)}</strong>', page)
    assert found, f"{name} is not on the page"
    return int(found.group(1))


def _row(page: str, person_id: int) -> str:
    return page.split(f'<tr id="person-{person_id}">', 1)[1].split("</tr>", 1)[0]


async def test_admin_adds_a_member_who_logs_in_and_cannot_reach_admin_pages(
    user: Browser, app: Starlette, desk: Desk
) -> None:
    people = await user.get("/admin/people")
    assert people.status_code == 200 and "admin" in people.text
    added = await user.post(
        "/admin/people", {"username": "bob", "password": MEMBER_PASSWORD, "role": "member"}
    )
    assert added.status_code == 303
    page = (await user.get(added.headers["location"])).text
    assert "bob is added" in page
    bob_id = _person_id(page, "bob")
    assert "never" in _row(page, bob_id)  # not logged in yet
    again = await user.post("/admin/people", {"username": "bob", "password": MEMBER_PASSWORD})
    assert again.status_code == 400 and "already a user named" in again.text
    short = await user.post("/admin/people", {"username": "carol", "password": "short"})
    assert short.status_code == 400 and "at least 8" in short.text

    async with _client(app) as client:
        bob = await log_in(client, "bob", MEMBER_PASSWORD)
        for path in ("/admin", "/admin/people"):
            assert (await bob.get(path)).status_code == 403, path
        for path, data in (
            ("/admin/people", {"username": "eve", "password": "eve's password"}),
            (f"/admin/people/{bob_id}/role", {"role": "admin"}),
            (f"/admin/people/{bob_id}/password", {"password": "another password"}),
            (f"/admin/people/{bob_id}/remove", {}),
            (f"/admin/people/{bob_id}/two-factor-off", {}),
            ("/account/syndication-key", {}),  # the desk's key, not bob's
        ):
            assert (await bob.post(path, data)).status_code == 403, path
        account = await bob.get("/account")
        assert "bob" in account.text and "/admin/people" not in account.text
        assert "rotate-key" not in account.text
    bob_now = desk.store.users.get_user("bob")
    assert bob_now is not None and bob_now.role == "member" and bob_now.last_login_at
    assert desk.store.users.get_user("eve") is None
    # The admin sees when bob last logged in.
    page = (await user.get("/admin/people")).text
    assert bob_now.last_login_at.strftime('datetime="%Y-%m-%dT%H:%M') in _row(page, bob_id)


async def test_admin_resets_a_password_changes_a_role_and_removes(
    user: Browser, app: Starlette, desk: Desk
) -> None:
    bob_id = desk.store.users.add_user("bob", MEMBER_PASSWORD).id
    async with _client(app) as client:
        bob = await log_in(client, "bob", MEMBER_PASSWORD)
        reset = await user.post(f"/admin/people/{bob_id}/password", {"password": "a fresh one!"})
        assert reset.status_code == 303
        # bob's session ended with the reset; the old password no longer works.
        assert (await bob.get("/")).status_code == 303
        assert not desk.store.users.verify_password("bob", MEMBER_PASSWORD)
        await log_in(client, "bob", "a fresh one!")
    promoted = await user.post(f"/admin/people/{bob_id}/role", {"role": "admin"})
    assert promoted.status_code == 303
    assert "bob is now admin" in (await user.get(promoted.headers["location"])).text
    bad = await user.post(f"/admin/people/{bob_id}/role", {"role": "owner"})
    assert bad.status_code == 400 and "a role is one of" in bad.text
    removed = await user.post(f"/admin/people/{bob_id}/remove")
    assert removed.status_code == 303 and desk.store.users.get_user("bob") is None
    assert (await user.post("/admin/people/99999/remove")).status_code == 404


async def test_the_last_admin_stays(user: Browser, desk: Desk) -> None:
    me = desk.store.users.get_user()
    assert me is not None
    for path, data in (
        (f"/admin/people/{me.id}/role", {"role": "member"}),
        (f"/admin/people/{me.id}/remove", {}),
    ):
        refused = await user.post(path, data)
        assert refused.status_code == 400, path
        assert "at least one admin" in refused.text
    again = desk.store.users.get_user("admin")
    assert again is not None and again.is_admin


async def test_a_person_changes_their_password_and_keeps_this_session(
    user: Browser, desk: Desk
) -> None:
    wrong = await user.post(
        "/account/password",
        {"password": "not it at all", "new_password": "new pass 123", "confirm": "new pass 123"},
    )
    assert wrong.status_code == 400 and "wrong password" in wrong.text
    differ = await user.post(
        "/account/password",
        {"password": PASSWORD, "new_password": "new pass 123", "confirm": "new pass 456"},
    )
    assert differ.status_code == 400 and "differ" in differ.text
    done = await user.post(
        "/account/password",
        {"password": PASSWORD, "new_password": "new pass 123", "confirm": "new pass 123"},
    )
    assert done.status_code == 303
    page = await user.get("/account?done=password")  # the new session cookie was set
    assert page.status_code == 200 and "password is changed" in page.text
    assert desk.store.users.verify_password("admin", "new pass 123")


async def test_each_person_makes_and_revokes_their_own_api_keys(
    user: Browser, app: Starlette, desk: Desk
) -> None:
    made = await user.post("/account/keys", {"name": "work-laptop-key"})
    assert made.status_code == 200
    key = re.search(r'<code id="new-key">([^<]+)</code>', made.text)
    assert key is not None
    me = await user.client.get("/v1/me", headers={"X-Auth-Token": key.group(1)})
    assert me.status_code == 200 and me.json()["username"] == "admin"
    desk.store.users.add_user("bob", MEMBER_PASSWORD)
    token = desk.store.tokens.list_tokens()[0]
    async with _client(app) as client:
        bob = await log_in(client, "bob", MEMBER_PASSWORD)
        assert "work-laptop-key" not in (await bob.get("/account")).text
        # Another person's key looks like no key at all, and stays.
        assert (await bob.post(f"/account/keys/{token.id}/revoke")).status_code == 404
        assert [t.id for t in desk.store.tokens.list_tokens()] == [token.id]
    revoked = await user.post(f"/account/keys/{token.id}/revoke")
    assert revoked.status_code == 303
    assert desk.store.tokens.list_tokens() == []
    gone = await user.client.get("/v1/me", headers={"X-Auth-Token": key.group(1)})
    assert gone.status_code == 401


def _sidebar(page: str) -> str:
    return (
        page.split('class="side', 1)[1].split("</aside>", 1)[0] if 'class="side' in page else page
    )


async def _share_with_bob(user: Browser, category_id: int) -> None:
    sharing = await user.get(f"/account/sharing?category={category_id}")
    assert sharing.status_code == 200 and f'id="share-{category_id}"' in sharing.text
    shared = await user.post(
        "/account/sharing", {"category_id": str(category_id), "username": "bob", "access": "read"}
    )
    assert shared.status_code == 303
    assert "bob · reads" in (await user.get("/account/sharing")).text


async def test_sharing_a_category_shows_its_entries_to_the_member_with_their_own_state(
    user: Browser, app: Starlette, desk: Desk
) -> None:
    category_id, name = desk.store.sharing.own_categories()[0]
    bob_id = desk.store.users.add_user("bob", MEMBER_PASSWORD).id
    in_category = desk.entries(EntryQuery(category=name, limit=500))
    entry = in_category[0]
    async with _client(app) as client:
        bob = await log_in(client, "bob", MEMBER_PASSWORD)
        assert (await bob.get(f"/entry/{entry.id}")).status_code == 404
        # bob cannot share the admin's category, not even with himself.
        stolen = await bob.post(
            "/account/sharing", {"category_id": str(category_id), "username": "bob"}
        )
        assert stolen.status_code == 404
        assert desk.store.sharing.shares(category_id) == []

        await _share_with_bob(user, category_id)
        with_me = await bob.get("/account/sharing")
        assert name in with_me.text and "from admin" in with_me.text
        assert (await bob.get(f"/entry/{entry.id}")).status_code == 200
        river = await bob.get("/?show=all")
        assert f'href="/entry/{entry.id}' in river.text

        bob_desk = desk.as_person(desk.store.users.person("bob"))
        seen = bob_desk.entries(EntryQuery(category=name, limit=500))
        assert {e.id for e in seen} == {e.id for e in in_category}
        # Opening the entry marked it read for bob only.
        assert [e.id for e in seen if e.read] == [entry.id]
        assert not desk.store.get_entry(entry.id).read
        other = next(e for e in seen if e.id != entry.id)
        marked = await bob.post(f"/entry/{other.id}/star", {"value": "1"})
        assert marked.status_code in (200, 303)
        assert bob_desk.store.get_entry(other.id).starred
        assert not desk.store.get_entry(other.id).starred

        out = await user.post(f"/account/sharing/{category_id}/unshare", {"user_id": str(bob_id)})
        assert out.status_code == 303
        assert (await bob.get(f"/entry/{entry.id}")).status_code == 404


async def test_a_shared_category_appears_in_the_members_sidebar(
    user: Browser, app: Starlette, desk: Desk
) -> None:
    category_id, name = desk.store.sharing.own_categories()[0]
    desk.store.users.add_user("bob", MEMBER_PASSWORD)
    link = f'href="/category/{quote(name)}"'
    async with _client(app) as client:
        bob = await log_in(client, "bob", MEMBER_PASSWORD)
        assert link not in _sidebar((await bob.get("/")).text)
        assert (await bob.get(f"/category/{name}")).status_code == 404
        await _share_with_bob(user, category_id)
        assert link in _sidebar((await bob.get("/")).text)
        assert (await bob.get(f"/category/{name}?show=all")).status_code == 200


@pytest.mark.parametrize("access", ["read", "manage"])
def test_the_sharing_store(desk: Desk, access: str) -> None:
    owner = desk.store.sharing
    category_id, name = owner.own_categories()[0]
    bob = desk.store.users.add_user("bob", MEMBER_PASSWORD)
    share = owner.share(category_id, "bob", can_manage=access == "manage")
    assert (share.category, share.username, share.owner) == (name, "bob", "admin")
    assert share.can_manage == (access == "manage") and share.feeds > 0
    assert [s.user_id for s in owner.shares(category_id)] == [bob.id]
    theirs = desk.store.as_person(bob.id)
    assert [s.category_id for s in theirs.sharing.shared_with_me()] == [category_id]
    assert name in [c[1] for c in theirs.categories()]
    with pytest.raises(Exception, match="no category of yours"):
        theirs.sharing.shares(category_id)
    with pytest.raises(Exception, match="no category of yours"):
        theirs.sharing.unshare(category_id, bob.id)
    owner.unshare(category_id, bob.id)
    assert theirs.sharing.shared_with_me() == []
    assert name not in [c[1] for c in theirs.categories()]


def test_sharing_and_two_factor_stores_on_each_database(store_url: str) -> None:
    """``store.sharing`` and ``store.two_factor`` on SQLite and PostgreSQL."""
    from newsdesk.store import open_store
    from newsdesk.store.two_factor import seal, totp

    store = open_store(store_url)
    try:
        store.users.set_password("admin", PASSWORD)
        store.add_feed("https://example.org/feed.xml", category="World")
        category_id, name = store.sharing.own_categories()[0]
        bob = store.users.add_user("bob", MEMBER_PASSWORD)
        theirs = store.as_person(bob.id)
        assert [c[1] for c in theirs.categories()] == []
        store.sharing.share(category_id, "bob")
        assert store.sharing.share(category_id, "bob", can_manage=True).can_manage  # changed
        assert [(s.category, s.can_manage) for s in theirs.sharing.shared_with_me()] == [
            (name, True)
        ]
        assert [c[1] for c in theirs.categories()] == [name]
        assert [f.url for f in theirs.list_feeds()] == ["https://example.org/feed.xml"]
        with pytest.raises(Exception, match="no user named"):
            store.sharing.share(category_id, "nobody")
        with pytest.raises(Exception, match="yours already"):
            store.sharing.share(category_id, "admin")
        theirs.sharing.leave(category_id)
        assert store.sharing.shares(category_id) == []

        key, secret = b"k" * 32, b"s" * 20
        at = 1_700_000_000.0
        codes = store.two_factor.enable(bob.id, seal(key, secret), totp(secret, at), key, at=at)
        assert store.users.get_user("bob").two_factor  # type: ignore[union-attr]
        later = at + 30
        assert store.two_factor.verify(bob.id, totp(secret, later), key, at=later)
        assert not store.two_factor.verify(bob.id, totp(secret, later), key, at=later)  # replay
        assert store.two_factor.verify(bob.id, codes[0], key, at=later)
        assert not store.two_factor.verify(bob.id, codes[0], key, at=later)
        assert store.two_factor.recovery_codes_left(bob.id) == 9
        store.two_factor.disable(bob.id)
        assert not store.two_factor.verify(bob.id, codes[1], key, at=later)
    finally:
        store.close()

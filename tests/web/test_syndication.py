"""Republished feeds: Atom, RSS and JSON Feed of everything, a category, a feed, a tag and a
saved search, read back with our own parser and with feedparser."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import feedparser
import httpx
import pytest
from sqlalchemy import insert

from newsdesk.desk import Desk
from newsdesk.parse import parse_feed
from newsdesk.store import EntryQuery
from newsdesk.store.schema import users
from newsdesk.web.guard import SESSION_COOKIE

from .session import Browser


def _check(body: bytes, content_type: str, url: str, expected_ids: list[str]) -> None:
    parsed = parse_feed(body, url, content_type)
    assert [i.link for i in parsed.items if i.link] == expected_ids
    if "json" not in content_type:
        fp = feedparser.parse(body)
        assert not fp.bozo, fp.bozo_exception
        assert [e.get("link") for e in fp.entries if e.get("link")] == expected_ids


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
async def test_every_view_as_a_feed(user: Browser, desk: Desk, fmt: str) -> None:
    name = desk.store.categories()[0][1]
    feed = desk.store.list_feeds()[0]
    saved = desk.store.saved_searches.save_search("Russia", "Russia", {})
    views = {
        "all": EntryQuery(limit=50),
        f"category/{name}": EntryQuery(category=name, limit=50),
        f"feed/{feed.id}": EntryQuery(feed_id=feed.id, limit=50),
    }
    for path, query in views.items():
        response = await user.get(f"/syndicate/{path}.{fmt}")
        assert response.status_code == 200, path
        expected = [e.url for e in desk.entries(query) if e.url]
        _check(response.content, response.headers["content-type"], str(response.url), expected)
    response = await user.get(f"/syndicate/search/{saved.id}.{fmt}")
    found = desk.search("Russia", EntryQuery(limit=50))
    assert found
    found.sort(key=lambda e: (e.published, e.id), reverse=True)
    _check(
        response.content,
        response.headers["content-type"],
        str(response.url),
        [e.url for e in found if e.url],
    )


async def test_feed_content_is_full_and_titles_escaped(user: Browser, desk: Desk) -> None:
    atom = await user.get("/syndicate/all.atom")
    fp = feedparser.parse(atom.content)
    by_link = {e.link: e for e in fp.entries}
    for entry in desk.entries(EntryQuery(limit=50)):
        if entry.url and entry.kind == "article" and entry.content_text:
            item = by_link[entry.url]
            assert entry.content_text.split()[0] in item.content[0].value
    posts = [e for e in fp.entries if e.title.startswith("@")]
    assert posts, "posts get '@author: text' titles"
    document = json.loads((await user.get("/syndicate/all.json")).content)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert all(item["id"].startswith("urn:uuid:") for item in document["items"])


async def test_feeds_need_a_session_or_the_key(user: Browser, anon: httpx.AsyncClient) -> None:
    assert (await anon.get("/syndicate/all.atom")).status_code == 401
    assert (await anon.get("/syndicate/all.atom?key=wrong")).status_code == 401
    page = await user.get("/")
    href = re.search(r'href="(/syndicate/all\.rss\?key=[0-9a-f]+)"', page.text).group(1)  # type: ignore[union-attr]
    response = await anon.get(href)
    assert response.status_code == 200 and b"<rss" in response.content


async def test_unknown_feeds_are_404(user: Browser) -> None:
    for path in (
        "/syndicate/all.xml",
        "/syndicate/feed/99999.atom",
        "/syndicate/category/Nope.rss",
        "/syndicate/search/999.json",
        "/syndicate/whatever.atom",
    ):
        assert (await user.get(path)).status_code == 404, path


async def test_each_person_has_their_own_key_and_view(
    user: Browser, anon: httpx.AsyncClient, desk: Desk, password_hash: str
) -> None:
    """A reader key shows its own person's view (issue 15): bob's key gives the one feed bob
    follows, the admin's gives theirs, and neither opens the other's saved search."""
    feed = desk.store.list_feeds()[0]
    with desk.store.engine.begin() as conn:
        conn.execute(
            insert(users).values(
                username="bob", password_hash=password_hash, created_at=datetime.now(UTC)
            )
        )
    bob = desk.store.users.get_user("bob")
    assert bob is not None
    bob_desk = desk.as_person(bob)
    bob_desk.store.add_feed(feed.url, category="Bob's")
    bob_search = bob_desk.store.saved_searches.save_search("Mine", "Russia", {})
    admin_search = desk.store.saved_searches.save_search("Theirs", "Russia", {})

    def key_of(html: str) -> str:
        return html.split("/syndicate/all.json?key=", 1)[1][:32]

    admin_key = key_of((await user.get("/")).text)
    token = desk.store.users.create_session(bob.id, timedelta(days=1))
    anon.cookies.set(SESSION_COOKIE, token)
    bob_key = key_of((await anon.get("/")).text)
    anon.cookies.clear()
    assert bob_key != admin_key

    def links(response: httpx.Response) -> set[str]:
        assert response.status_code == 200
        return {item["url"] for item in response.json()["items"] if item.get("url")}

    bobs = links(await anon.get(f"/syndicate/all.json?key={bob_key}"))
    expected = {e.url for e in desk.entries(EntryQuery(feed_id=feed.id, limit=50)) if e.url}
    assert bobs == expected
    admins = links(await anon.get(f"/syndicate/all.json?key={admin_key}"))
    assert admins > bobs
    assert links(await anon.get(f"/syndicate/search/{bob_search.id}.json?key={bob_key}"))
    for search_id, key in ((admin_search.id, bob_key), (bob_search.id, admin_key)):
        response = await anon.get(f"/syndicate/search/{search_id}.json?key={key}")
        assert response.status_code == 404
    other = next(f for f in desk.store.list_feeds() if f.id != feed.id)
    response = await anon.get(f"/syndicate/feed/{other.id}.json?key={bob_key}")
    assert response.status_code == 404

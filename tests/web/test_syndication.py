"""Republished feeds: Atom, RSS and JSON Feed of everything, a category, a feed, a tag and a
saved search, read back with our own parser and with feedparser."""

from __future__ import annotations

import json
import re

import feedparser
import httpx
import pytest

from newsdesk.desk import Desk
from newsdesk.parse import parse_feed
from newsdesk.store import EntryQuery

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

"""Reading pages on a real SQLite file filled from the sample sources: river, filters,
pagination, entry page, read/star, mark all read, search, and bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from members import article
from newsdesk.desk import Desk
from newsdesk.model import Entry
from newsdesk.store import EntryQuery, FeedState
from newsdesk.web import pages

from .session import Browser


def _ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'id="entry-(\d+)"', html)]


async def test_river_shows_posts_with_shared_articles(user: Browser, desk: Desk) -> None:
    page = await user.get("/?show=all")
    assert page.status_code == 200
    entries = desk.entries(EntryQuery(limit=200))
    assert _ids(page.text) == [e.id for e in entries][: pages.PAGE_SIZE]
    post = next(e for e in entries if e.kind == "post" and desk.shared_articles(e))
    shared = desk.shared_articles(post)[0]
    card = page.text.split(f'id="entry-{post.id}"')[1].split("</article>")[0]
    who = (post.author or post.feed_title or "").lstrip("@")
    assert f">@{who}</a>:" in card
    assert "Shared article" in card and shared.url in card
    article = next(e for e in entries if e.kind == "article" and e.title)
    assert article.title.replace("&", "&amp;").replace("'", "&#39;")[:30] in page.text  # type: ignore[union-attr]
    # Autodiscovery of the republished feeds, with the reader key.
    assert re.search(
        r'<link rel="alternate" type="application/atom\+xml"[^>]+/syndicate/all\.atom\?key=',
        page.text,
    )


async def test_unread_starred_all_filters(user: Browser, desk: Desk) -> None:
    first, second = desk.entries(EntryQuery(limit=2))
    desk.store.set_flags([first.id], read=True)
    desk.store.set_flags([second.id], starred=True)
    unread = _ids((await user.get("/")).text)
    assert first.id not in unread and second.id in unread
    assert _ids((await user.get("/?show=starred")).text) == [second.id]
    assert first.id in _ids((await user.get("/?show=all")).text)
    assert (await user.get("/?show=bogus&page=x")).status_code == 200


async def test_infinite_scroll_pages(
    user: Browser, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "PAGE_SIZE", 5)
    every = [e.id for e in desk.entries(EntryQuery(limit=500))]
    first = await user.get("/?show=all")
    assert _ids(first.text) == every[:5]
    assert 'hx-trigger="revealed"' in first.text
    more = await user.get("/?show=all&page=2", headers={"HX-Request": "true"})
    assert "<html" not in more.text  # a fragment of cards for htmx
    assert _ids(more.text) == every[5:10]
    last_page = (len(every) + 4) // 5
    last = await user.get(f"/?show=all&page={last_page}", headers={"HX-Request": "true"})
    assert _ids(last.text) == every[(last_page - 1) * 5 :]
    assert "Load more" not in last.text


async def test_category_feed_and_tag_pages(user: Browser, desk: Desk) -> None:
    name = desk.store.categories()[0][1]
    page = await user.get(f"/category/{name}?show=all")
    assert page.status_code == 200
    in_category = desk.entries(EntryQuery(category=name, limit=500))
    assert set(_ids(page.text)) == {e.id for e in in_category[: pages.PAGE_SIZE]}
    # The category page lists its feeds.
    feeds = [f for f in desk.store.list_feeds() if f.category == name]
    for f in feeds:
        assert f'href="/feed/{f.id}"' in page.text
    feed = feeds[0]
    page = await user.get(f"/feed/{feed.id}?show=all")
    assert set(_ids(page.text)) == {
        e.id for e in desk.entries(EntryQuery(feed_id=feed.id, limit=30))
    }
    tagged = next((e for e in desk.entries(EntryQuery(limit=500)) if e.tags), None)
    if tagged is not None:
        page = await user.get(f"/tag/{tagged.tags[0]}?show=all")
        assert tagged.id in _ids(page.text)
    categories = await user.get("/categories")
    assert all(f'href="/feed/{f.id}"' in categories.text for f in desk.store.list_feeds())


async def test_unknown_ids_are_404_pages(user: Browser) -> None:
    for path in (
        "/entry/999999",
        "/feed/999999",
        "/category/No such thing",
        "/subscriptions/99999",
        "/nope",
    ):
        response = await user.get(path)
        assert response.status_code == 404, path
        assert "<!doctype html>" in response.text and "Traceback" not in response.text


async def test_entry_page(user: Browser, desk: Desk) -> None:
    entries = desk.entries(EntryQuery(limit=500))
    entry = next(e for e in entries if e.kind == "article" and e.url)
    index = entries.index(entry)
    page = await user.get(f"/entry/{entry.id}")
    assert page.status_code == 200
    assert desk.store.get_entry(entry.id).read  # opening marks it read
    assert f'href="{entry.url}" rel="noopener noreferrer"' in page.text
    if index > 0:
        assert f'href="/entry/{entries[index - 1].id}"' in page.text
    if index + 1 < len(entries):
        assert f'href="/entry/{entries[index + 1].id}"' in page.text
    # Neighbours within a category stay in that category.
    in_cat = desk.entries(EntryQuery(category=entry.category, limit=500))
    page = await user.get(f"/entry/{entry.id}?in=category:{entry.category}")
    pos = [e.id for e in in_cat].index(entry.id)
    if pos + 1 < len(in_cat):
        assert (
            f'id="older-link" rel="next" href="/entry/{in_cat[pos + 1].id}?in=category' in page.text
        )


def _store_entry(desk: Desk, **fields: object) -> int:
    feed = desk.store.list_feeds()[0]
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "key": "test-" + str(fields.get("title")),
        "url": "https://example.org/hostile",
        "title": "t",
        "author": "someone",
        "kind": "article",
        "published": now,
        "updated": None,
        "content_html": "<p>plain</p>",
        "content_text": "plain",
        "summary_html": None,
        "content_hash": str(hash(str(fields))),
    }
    values.update(fields)
    result = desk.store.save_refresh(feed.id, FeedState(last_fetched=now), [Entry(**values)], now)  # type: ignore[arg-type]
    return result.new_ids[0]


async def test_enclosures_play_in_place_and_titles_are_escaped(user: Browser, desk: Desk) -> None:
    from newsdesk.model import Enclosure

    entry_id = _store_entry(
        desk,
        title='<script>alert("x")</script> & more',
        enclosures=[
            Enclosure("https://cdn.example/a.mp3", "audio/mpeg", 100),
            Enclosure("https://cdn.example/v.mp4", "video/mp4"),
            Enclosure("https://cdn.example/p.jpg", None),
        ],
    )
    page = await user.get(f"/entry/{entry_id}")
    assert '<audio controls preload="none" src="https://cdn.example/a.mp3">' in page.text
    assert '<video controls preload="none" src="https://cdn.example/v.mp4">' in page.text
    assert '<img src="https://cdn.example/p.jpg"' in page.text
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in page.text


async def test_read_and_star_toggles(user: Browser, desk: Desk) -> None:
    entry = desk.entries(EntryQuery(limit=1))[0]
    hx = {"HX-Request": "true"}
    starred = await user.post(f"/entry/{entry.id}/star", {"value": "1"}, headers=hx)
    assert starred.status_code == 200 and 'data-starred="1"' in starred.text
    assert desk.store.get_entry(entry.id).starred
    toggled = await user.post(f"/entry/{entry.id}/star", headers=hx)
    assert 'data-starred="0"' in toggled.text and not desk.store.get_entry(entry.id).starred
    read = await user.post(f"/entry/{entry.id}/read", {"value": "1", "next": "/?show=all"})
    assert read.status_code == 303 and read.headers["location"] == "/?show=all"
    assert desk.store.get_entry(entry.id).read
    assert (await user.post("/entry/999999/read", {"value": "1"})).status_code == 404


async def test_mark_all_read_with_older_than(user: Browser, desk: Desk) -> None:
    name = desk.store.categories()[0][1]
    total = desk.store.count_entries(EntryQuery(category=name, read=False))
    assert total > 0
    # Sample entries are from 2024: "older than a week" takes them all, others untouched.
    other = desk.store.count_entries(EntryQuery(read=False)) - total
    response = await user.post("/mark-read", {"in": f"category:{name}", "older_than": "7d"})
    assert response.status_code == 303
    assert desk.store.count_entries(EntryQuery(category=name, read=False)) == 0
    assert desk.store.count_entries(EntryQuery(read=False)) == other
    fresh = _store_entry(desk, title="today")
    await user.post("/mark-read", {"in": "all", "older_than": "1d"})
    assert not desk.store.get_entry(fresh).read
    await user.post("/mark-read", {"in": "all"})
    assert desk.store.count_entries(EntryQuery(read=False)) == 0


async def test_search_with_filters_and_highlights(user: Browser, desk: Desk) -> None:
    entries = desk.entries(EntryQuery(limit=500))
    word = next(w for e in entries for w in e.content_text.split() if len(w) > 6 and w.isalpha())
    expected = desk.search(word, EntryQuery(limit=30))
    page = await user.get(f"/search?q={word}")
    assert page.status_code == 200
    assert set(_ids(page.text)) == {e.id for e in expected}
    assert "<mark>" in page.text
    kind = expected[0].kind
    filtered = await user.get(f"/search?q={word}&kind={kind}")
    assert set(_ids(filtered.text)) == {e.id for e in expected if e.kind == kind}
    nothing = await user.get(f"/search?q={word}&since=2099-01-01")
    assert _ids(nothing.text) == [] and "No entries match" in nothing.text
    bad = await user.get(f"/search?q={word}&since=yesterdayish")
    assert bad.status_code == 400 and "cannot read" in bad.text
    hostile = await user.get('/search?q=<img src=x onerror=alert(1)> "AND OR')
    assert hostile.status_code == 200 and "<img src=x" not in hostile.text


async def test_search_says_what_a_first_import_left_unindexed(user: Browser, desk: Desk) -> None:
    """Entries a first import queued for the search index are not found until the background
    job indexes them; the page says how many wait."""
    feed = desk.store.add_feed("https://example.org/queued.rss")
    state = FeedState(last_fetched=datetime.now(UTC), last_status=200)
    queued = article("queued", 1, state.last_fetched, "Zanzibar ferry", "Zanzibar ferry reported")
    desk.store.save_refresh_batch(
        [(feed.id, state, [queued])], state.last_fetched, index_later=True
    )
    page = await user.get("/search?q=zanzibar")
    assert "No entries match" in page.text
    assert "1 new entry is not searchable yet" in page.text
    desk.index_queued_search()
    page = await user.get("/search?q=zanzibar")
    assert len(_ids(page.text)) == 1 and "not searchable yet" not in page.text


def test_snippet_marks_are_escaped() -> None:
    from newsdesk.web.filters import snippet_html

    html = str(snippet_html("a <b>[Moscow]</b> and [1] [talks]", ["moscow", "talks"]))
    assert html == "a &lt;b&gt;<mark>Moscow</mark>&lt;/b&gt; and [1] <mark>talks</mark>"


async def test_saved_search(user: Browser, desk: Desk) -> None:
    response = await user.post(
        "/saved-searches", {"q": "Russia", "name": "Russia watch", "kind": "article"}
    )
    assert response.status_code == 303
    page = await user.get("/search?q=Russia")
    assert "Russia watch" in page.text
    saved_id = re.search(r"/syndicate/search/(\d+)\.atom", page.text).group(1)  # type: ignore[union-attr]
    assert (await user.post("/saved-searches", {"q": " ", "name": "x"})).status_code == 400
    assert (await user.post(f"/saved-searches/{saved_id}/delete")).status_code == 303
    assert (await user.post(f"/saved-searches/{saved_id}/delete")).status_code == 404


def _title(html: str) -> tuple[str, str]:
    head = re.search(r"<title>(.*?) · Newsdesk</title>", html)
    h1 = re.search(r"<h1>(.*?)</h1>", html)
    assert head and h1
    return head.group(1), h1.group(1)


def _side_counts(html: str) -> dict[str, int]:
    side = html.split('<aside class="side"')[1].split("</aside>")[0]
    found = re.findall(
        r'<li><a href="/category/[^"]*"[^>]*>([^<]*)</a>(?:<span class="count"[^>]*>(\d+)</span>)?',
        side,
    )
    return {name: int(count or 0) for name, count in found}


async def test_sidebar_counts_unread_entries(user: Browser, desk: Desk) -> None:
    feed = desk.store.list_feeds()[0]
    desk.store.update_feed(feed.id, category="World")
    every = desk.entries(EntryQuery(limit=500))
    in_world = [e for e in every if e.feed_id == feed.id]
    assert in_world and len(in_world) < len(every)
    counts = _side_counts((await user.get("/")).text)
    assert counts == {"General": len(every) - len(in_world), "World": len(in_world)}
    desk.store.set_flags([in_world[0].id], read=True)
    counts = _side_counts((await user.get("/")).text)
    assert counts["World"] == len(in_world) - 1
    await user.post("/mark-read", {"in": "category:World"})
    counts = _side_counts((await user.get("/")).text)
    assert counts == {"General": len(every) - len(in_world), "World": 0}


async def test_each_view_has_its_own_title(user: Browser, desk: Desk) -> None:
    feed = desk.store.list_feeds()[0]
    tag = next(t for e in desk.entries(EntryQuery(limit=500)) for t in e.tags)
    expected = {
        "/": "Unread",
        "/?show=all": "All entries",
        "/?show=starred": "Starred",
        "/category/General": "General · unread",
        "/category/General?show=all": "General",
        "/category/General?show=starred": "General · starred",
        f"/feed/{feed.id}?show=all": feed.display_title,
        f"/tag/{tag}?show=all": f"#{tag}",
        "/search": "Search",
        "/search?q=Russia": "Search: Russia",
    }
    for url, title in expected.items():
        page = await user.get(url)
        assert page.status_code == 200, url
        assert _title(page.text) == (title, title), url
    await user.post("/saved-searches", {"q": "Russia", "name": "Russia watch", "kind": "article"})
    page = await user.get("/search?q=Russia&kind=article")
    assert _title(page.text) == ("Saved search: Russia watch",) * 2
    assert _title((await user.get("/search?q=Russia")).text)[0] == "Search: Russia"

"""Managing the desk from the web: subscribe (with discovery), bad URLs, edit, remove,
refresh with progress, OPML both ways, the digest view."""

from __future__ import annotations

import asyncio
import re

from newsdesk.demo.server import SampleServer
from newsdesk.desk import Desk
from newsdesk.parse import parse_opml
from newsdesk.store import EntryQuery

from .session import Browser


async def _wait_for_job(user: Browser, job_id: str) -> str:
    for _ in range(200):
        fragment = await user.get(f"/refresh/{job_id}", headers={"HX-Request": "true"})
        assert fragment.status_code == 200
        if 'data-finished="1"' in fragment.text:
            return fragment.text
        assert 'hx-trigger="load delay:600ms"' in fragment.text  # keeps polling
        await asyncio.sleep(0.05)
    raise AssertionError("the refresh did not finish")


async def test_add_feed_by_site_address_discovers_it(
    user: Browser, desk: Desk, blog_server: SampleServer
) -> None:
    response = await user.post(
        "/subscriptions/add", {"url": blog_server.base + "/blog/", "category": "Gardens"}
    )
    assert response.status_code == 303, response.text
    feed = desk.store.get_feed(blog_server.base + "/blog/feed.xml")
    assert feed.category == "Gardens"
    job_id = re.search(r"job=(\d+)", response.headers["location"]).group(1)  # type: ignore[union-attr]
    done = await _wait_for_job(user, job_id)
    assert "1 feeds, 1 new entries" in done
    page = await user.get("/category/Gardens")
    entry = desk.entries(EntryQuery(feed_id=feed.id))[0]
    assert f'id="entry-{entry.id}"' in page.text and "Blog words about gardens" in page.text
    listing = await user.get("/subscriptions")
    assert "A blog &amp; more" in listing.text and "OK (HTTP 200)" in listing.text


async def test_add_feed_bad_input_saves_nothing(
    user: Browser, desk: Desk, samples: SampleServer
) -> None:
    before = len(desk.store.list_feeds())
    for url, message in (
        ("", "Give the address"),
        ("http://127.0.0.1:9/feed", "cannot fetch"),
        (samples.base + "/no/such/feed", "cannot fetch"),
        ("ftp://example.org/feed", "not an http(s) URL"),
        (samples.base + "/feeds/mikenov.rss", "already subscribed"),
    ):
        response = await user.post("/subscriptions/add", {"url": url})
        assert response.status_code == 400, url
        assert message in response.text, (url, response.text[:500])
        assert 'value="' + url.replace("&", "&amp;") + '"' in response.text  # the form again
    assert len(desk.store.list_feeds()) == before


async def test_edit_and_remove_feed(user: Browser, desk: Desk) -> None:
    feed = desk.store.list_feeds()[0]
    page = await user.get(f"/subscriptions/{feed.id}")
    assert page.status_code == 200 and feed.url in page.text and "Next check" in page.text
    response = await user.post(
        f"/subscriptions/{feed.id}", {"title": "My title", "category": "Mine"}
    )
    assert response.status_code == 303
    changed = desk.store.get_feed(feed.id)
    assert changed.display_title == "My title" and changed.category == "Mine"
    too_long = await user.post(f"/subscriptions/{feed.id}", {"title": "x" * 2000, "category": ""})
    assert too_long.status_code == 400 and "too long" in too_long.text
    removed = await user.post(f"/subscriptions/{feed.id}/remove")
    assert removed.status_code == 303
    assert feed.id not in {f.id for f in desk.store.list_feeds()}
    assert (await user.post(f"/subscriptions/{feed.id}/remove")).status_code == 404


async def test_refresh_now_shows_progress(user: Browser) -> None:
    started = await user.post("/refresh", headers={"HX-Request": "true"})
    assert started.status_code == 200 and "progress-box" in started.text
    job_id = re.search(r'id="job-(\d+)"', started.text).group(1)  # type: ignore[union-attr]
    done = await _wait_for_job(user, job_id)
    assert "6 feeds" in done and "0 errors" in done
    page = await user.get(f"/refresh/{job_id}")
    assert page.status_code == 200 and "<html" in page.text
    assert (await user.get("/refresh/999999")).status_code == 404


async def test_opml_export_and_import(user: Browser, desk: Desk) -> None:
    exported = await user.get("/opml")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    outlines = parse_opml(exported.content)
    assert {o.url for o in outlines} == {f.url for f in desk.store.list_feeds()}
    for feed in desk.store.list_feeds():
        desk.store.remove_feed(feed.id)
    response = await user.post(
        "/opml", files={"file": ("subs.opml", exported.content, "text/x-opml")}
    )
    assert response.status_code == 303
    assert "Imported+6+feeds" in response.headers["location"]
    assert {f.url for f in desk.store.list_feeds()} == {o.url for o in outlines}
    broken = await user.post("/opml", files={"file": ("x.opml", b"<opml><body", "text/xml")})
    assert broken.status_code == 400 and "Cannot import" in broken.text
    empty = await user.post("/opml", data={})
    assert empty.status_code == 400 and "Choose an OPML file" in empty.text


async def test_digest_view_and_download(user: Browser, desk: Desk) -> None:
    name = desk.store.categories()[0][1]
    page = await user.get(f"/digest?since=3000d&category={name}&format=markdown")
    assert page.status_code == 200
    assert "# Digest" in page.text  # the Markdown source, escaped in a textarea
    assert 'id="copy-digest"' in page.text
    download = await user.get(f"/digest?since=3000d&category={name}&format=html&download=1")
    assert download.headers["content-type"].startswith("text/html")
    assert "attachment" in download.headers["content-disposition"]
    assert "sandbox" in download.headers["content-security-policy"]
    assert "<h1>Digest</h1>" in download.text
    bad = await user.get("/digest?since=whenever")
    assert bad.status_code == 400 and "cannot read" in bad.text

"""``Desk.subscribe``: the one way every face subscribes (discovery, then saving), awaited on the
caller's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from newsdesk.desk import Desk
from newsdesk.errors import AlreadySubscribedError, NewsdeskError
from newsdesk.settings import load_settings
from newsdesk.store import open_store
from routes_server import Answer, RoutesServer, rss

PAGE = (
    b"<!doctype html><html><head><title>A site</title>"
    b'<link rel="alternate" type="application/rss+xml" href="/feed.rss"></head>'
    b"<body>Hello</body></html>"
)


@pytest.fixture
def desk(sqlite_url: str) -> Iterator[Desk]:
    settings = load_settings(env={}, database_url=sqlite_url, allow_private_networks=True)
    desk = Desk(settings, open_store(sqlite_url))
    yield desk
    desk.close()


def _hits(server: RoutesServer) -> int:
    return len(server.hits)


async def test_subscribe_discovers_the_feed_a_page_links_to(
    desk: Desk, server: RoutesServer
) -> None:
    page = server.route("/site/", Answer(PAGE, content_type="text/html"))
    feed_url = server.route("/feed.rss", Answer(rss("News")))
    feed = await desk.subscribe(page, category="World")
    assert feed.url == feed_url and feed.category == "World"
    assert feed.display_title == "News"  # read while finding it, before the first refresh
    assert [f.url for f in desk.store.list_feeds()] == [feed_url]


async def test_subscribing_twice_names_the_subscription(desk: Desk, server: RoutesServer) -> None:
    page = server.route("/site/", Answer(PAGE, content_type="text/html"))
    feed_url = server.route("/feed.rss", Answer(rss("News")))
    feed = await desk.subscribe(page)
    with pytest.raises(AlreadySubscribedError, match="already subscribed") as by_page:
        await desk.subscribe(page)
    assert by_page.value.feed is not None and by_page.value.feed.id == feed.id
    before = _hits(server)
    with pytest.raises(AlreadySubscribedError) as by_url:
        await desk.subscribe(feed_url)
    assert by_url.value.feed is not None and by_url.value.feed.id == feed.id
    assert _hits(server) == before  # known already: nothing fetched
    assert len(desk.store.list_feeds()) == 1


async def test_nothing_is_saved_when_no_feed_is_found(desk: Desk, server: RoutesServer) -> None:
    lonely = server.route(
        "/lonely/", Answer(b"<html><body>no feeds here</body></html>", content_type="text/html")
    )
    for url in (lonely, server.base + "/missing.rss", "ftp://example.org/feed"):
        with pytest.raises(NewsdeskError):
            await desk.subscribe(url)
    assert desk.store.list_feeds() == []


async def test_subscribe_without_check_fetches_nothing(desk: Desk, server: RoutesServer) -> None:
    url = server.base + "/not-yet.rss"
    feed = await desk.subscribe(url, title="Later", check=False)
    assert feed.url == url and feed.display_title == "Later" and not server.hits


def test_add_feed_is_the_synchronous_subscribe(desk: Desk, server: RoutesServer) -> None:
    feed_url = server.route("/feed.rss", Answer(rss("News")))
    assert asyncio.run(desk.subscribe(feed_url)).url == feed_url
    with pytest.raises(AlreadySubscribedError):
        asyncio.run(desk.subscribe(feed_url, check=False))

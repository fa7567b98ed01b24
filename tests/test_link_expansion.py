"""Short links shared by several feeds end expanded on every post that shares them: in one
refresh, when two enrichers (Celery tasks, two refreshes) resolve the same link at once, and
after the shortener was down for a while."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from newsdesk.refresh import refresh_feeds
from newsdesk.settings import Settings
from newsdesk.store import EntryQuery, open_store
from newsdesk.workers.tasks import enrich_batch
from routes_server import Answer, RoutesServer, post_feed

RUNS = 20


def _share(server: RoutesServer, run: str, short: str, **answer: Any) -> tuple[str, str, str]:
    """Two feeds sharing the short link ``short``, which redirects to a page of its own."""
    final = f"/articles/{run}"
    server.route(final, Answer(b"<html><body><p>An article.</p></body></html>", 200, "text/html"))
    server.route(short, Answer(b"", 301, "text/plain", {"Location": server.base + final}, **answer))
    a = server.route(f"/{run}/a.rss", Answer(post_feed(server.base, f"{run}a", short)))
    b = server.route(f"/{run}/b.rss", Answer(post_feed(server.base, f"{run}b", short)))
    return a, b, server.base + final


def _links_by_feed(store_url: str, feed_ids: list[int]) -> list[list[str]]:
    store = open_store(store_url)
    try:
        return [store.list_entries(EntryQuery(feed_id=f, limit=5))[0].links for f in feed_ids]
    finally:
        store.close()


def test_a_short_link_two_feeds_share_is_expanded_on_both(
    cli: Any, server: RoutesServer, store_url: str
) -> None:
    for run in range(RUNS):
        short = f"/s/run{run}"
        feed_a, feed_b, final = _share(server, f"run{run}", short)
        ids = []
        for url in (feed_a, feed_b):
            added = cli("add", url, "--no-check", "--db", store_url)
            ids.append(int(added.out.split(":")[0].split()[-1]))
        args = ["refresh", "--no-fulltext", "--db", store_url]
        refreshed = cli(*args, "--feed", str(ids[0]), "--feed", str(ids[1]))
        assert refreshed.code == 0, refreshed.out + refreshed.err
        assert _links_by_feed(store_url, ids) == [[final], [final]], f"run {run}"


def test_two_enrichers_resolving_one_link_at_once(server: RoutesServer, settings: Settings) -> None:
    """Two enrichment tasks (distributed mode) each hold a post sharing one short link; both
    ask the shortener before either has stored the answer (the server holds each request until
    both arrived), and both posts end expanded."""
    feed_a, feed_b, final = _share(server, "both", "/s/both", barrier=threading.Barrier(2))
    store = open_store(settings.resolved_database_url)
    try:
        feeds = [store.add_feed(feed_a).id, store.add_feed(feed_b).id]
        report = asyncio.run(refresh_feeds(store, settings, enrich=False, intel=False))
        assert len(report.new_ids) == 2
        with ThreadPoolExecutor(max_workers=2) as pool:
            tasks = [pool.submit(enrich_batch, store, settings, [i]) for i in report.new_ids]
            results = [t.result() for t in tasks]
        assert [r.links_expanded for r in results] == [1, 1]
        links = [store.list_entries(EntryQuery(feed_id=f, limit=1))[0].links for f in feeds]
        assert links == [[final], [final]]
    finally:
        store.close()


def test_a_shortener_that_was_down_is_asked_again(
    cli: Any, server: RoutesServer, store_url: str
) -> None:
    """A link that could not be resolved is not remembered as one that does not redirect."""
    feed_a, feed_b, final = _share(server, "down", "/s/down")
    server.answers["/s/down"].status = 503
    added = cli("add", feed_a, "--no-check", "--db", store_url)
    first = int(added.out.split(":")[0].split()[-1])
    assert cli("refresh", "--no-fulltext", "--db", store_url).code == 0
    assert _links_by_feed(store_url, [first]) == [[server.base + "/s/down"]]
    server.answers["/s/down"].status = 301
    added = cli("add", feed_b, "--no-check", "--db", store_url)
    second = int(added.out.split(":")[0].split()[-1])
    assert cli("refresh", "--no-fulltext", "--feed", str(second), "--db", store_url).code == 0
    assert _links_by_feed(store_url, [second]) == [[final]]

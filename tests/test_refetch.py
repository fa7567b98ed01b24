"""`newsdesk refetch ENTRY…`: extraction again on demand, the page fetched anew (not read from
the pages cache), with clear answers for unknown ids and failed pages."""

from __future__ import annotations

from typing import Any

from newsdesk.store import EntryQuery, open_store
from routes_server import Answer, RoutesServer, article_page, post_feed, summary_feed


def _article_id(cli: Any, server: RoutesServer, store_url: str) -> int:
    """A summary-only article extracted once from /article/one."""
    server.route("/article/one", Answer(article_page("The vote", "parks"), 200, "text/html"))
    feed = server.route("/feed.xml", Answer(summary_feed(server.base, "/article/one", "Short.")))
    assert cli("add", feed, "--db", store_url).code == 0
    assert cli("refresh", "--db", store_url).code == 0
    (entry,) = cli("entries", "--json", "--db", store_url).json()
    assert entry["fulltext_status"] == "done" and "parks budget" in entry["content_text"]
    return int(entry["id"])


def _hits(server: RoutesServer, path: str) -> int:
    return [p for p, _ in server.hits].count(path)


def test_refetch_reads_the_page_again(cli: Any, server: RoutesServer, store_url: str) -> None:
    entry_id = _article_id(cli, server, store_url)
    server.answers["/article/one"].body = article_page("The vote, corrected", "gardens")
    # A refresh reads the page from the cache: nothing changes.
    assert cli("refresh", "--db", store_url).code == 0
    assert _hits(server, "/article/one") == 1
    done = cli("refetch", str(entry_id), "--json", "--db", store_url)
    assert done.code == 0, done.out + done.err
    report = done.json()
    assert report["pages_fetched"] == 1 and report["fulltext_done"] == 1
    (item,) = report["entries"]
    assert item["id"] == entry_id and item["fulltext_status"] == "done"
    assert _hits(server, "/article/one") == 2
    (entry,) = cli("entries", "--json", "--db", store_url).json()
    assert "gardens budget" in entry["content_text"] and "parks" not in entry["content_text"]
    assert entry["page"]["title"] == "The vote, corrected"
    plain = cli("refetch", str(entry_id), "--db", store_url)
    assert plain.code == 0 and f"entry {entry_id}: full text extracted from" in plain.out


def test_refetch_of_a_page_now_gone_fails_clearly(
    cli: Any, server: RoutesServer, store_url: str
) -> None:
    entry_id = _article_id(cli, server, store_url)
    server.answers["/article/one"].status = 404
    failed = cli("refetch", str(entry_id), "--json", "--db", store_url)
    assert failed.code == 1
    (item,) = failed.json()["entries"]
    assert item["fulltext_status"] == "failed" and "404" in item["fulltext_error"]


def test_unknown_ids_are_named_and_nothing_is_fetched(
    cli: Any, server: RoutesServer, store_url: str
) -> None:
    entry_id = _article_id(cli, server, store_url)
    alone = cli("refetch", "987654", "--db", store_url)
    assert alone.code == 2 and "no entry with id 987654" in alone.err
    mixed = cli("refetch", str(entry_id), "987654", "987655", "--json", "--db", store_url)
    assert mixed.code == 2 and "no entries with ids 987654, 987655" in mixed.err
    assert mixed.out == ""
    assert _hits(server, "/article/one") == 1
    assert cli("refetch", "twelve", "--db", store_url).code == 2  # not an id at all


def test_refetch_of_a_post_reads_its_shared_pages_again(
    cli: Any, server: RoutesServer, store_url: str
) -> None:
    server.route("/shared", Answer(article_page("First title", "parks"), 200, "text/html"))
    feed = server.route("/posts.xml", Answer(post_feed(server.base, "desk", "/shared")))
    assert cli("add", feed, "--db", store_url).code == 0
    assert cli("refresh", "--db", store_url).code == 0
    server.answers["/shared"].body = article_page("Second title", "parks")
    (post,) = cli("entries", "--json", "--db", store_url).json()
    done = cli("refetch", str(post["id"]), "--json", "--db", store_url)
    assert done.code == 0 and done.json()["pages_fetched"] == 1
    store = open_store(store_url)
    try:
        (stored,) = store.list_entries(EntryQuery(limit=1))
        assert store.get_pages(stored.links)[stored.links[0]].title == "Second title"
    finally:
        store.close()

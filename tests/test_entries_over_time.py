"""Entries over time: a feed that edits an item (same GUID, new summary) keeps the full text
extracted from its page, and an item moved to a new page gets that page's text; all through
real refreshes against loopback servers."""

from __future__ import annotations

from typing import Any

from newsdesk.store import EntryQuery, open_store
from routes_server import Answer, RoutesServer, article_page, summary_feed


def _one_entry(store_url: str) -> Any:
    store = open_store(store_url)
    try:
        (entry,) = store.list_entries(EntryQuery(limit=10))
        return entry
    finally:
        store.close()


def _setup(cli: Any, server: RoutesServer, store_url: str) -> None:
    server.route("/article/one", Answer(article_page("The vote", "parks"), 200, "text/html"))
    server.route("/article/two", Answer(article_page("The recount", "roads"), 200, "text/html"))
    feed = server.route("/feed.xml", Answer(summary_feed(server.base, "/article/one", "Short.")))
    assert cli("add", feed, "--db", store_url).code == 0
    first = cli("refresh", "--db", store_url)
    assert first.code == 0, first.out + first.err
    entry = _one_entry(store_url)
    assert entry.fulltext_status == "done", entry.fulltext_error
    assert "parks budget line by line" in entry.content_text


def test_edited_summary_keeps_the_full_text(cli: Any, server: RoutesServer, store_url: str) -> None:
    _setup(cli, server, store_url)
    server.answers["/feed.xml"].body = summary_feed(
        server.base, "/article/one", "A reworded summary."
    )
    second = cli("refresh", "--db", store_url)
    assert second.code == 0 and "1 updated" in second.out, second.out + second.err
    entry = _one_entry(store_url)
    assert entry.fulltext_status == "done"
    assert "parks budget line by line" in entry.content_text
    assert "A reworded summary." in (entry.summary_html or "")
    assert entry.page is not None and str(entry.page["url"]).endswith("/article/one")
    # The page was read once: the edit kept its text, nothing asked for it again.
    assert [path for path, _ in server.hits].count("/article/one") == 1
    found = cli("search", "parks budget", "--json", "--db", store_url).json()
    assert [e["id"] for e in found] == [entry.id]


def test_edited_link_extracts_the_new_page(cli: Any, server: RoutesServer, store_url: str) -> None:
    _setup(cli, server, store_url)
    server.answers["/feed.xml"].body = summary_feed(server.base, "/article/two", "Moved.")
    second = cli("refresh", "--db", store_url)
    assert second.code == 0 and "1 updated" in second.out, second.out + second.err
    entry = _one_entry(store_url)
    assert entry.url.endswith("/article/two")
    assert entry.fulltext_status == "done", entry.fulltext_error
    assert "roads budget line by line" in entry.content_text
    assert "parks" not in entry.content_text
    assert entry.page is not None and str(entry.page["url"]).endswith("/article/two")
    assert not cli("search", "parks", "--json", "--db", store_url).json()


def test_edited_link_to_a_dead_page_says_so(cli: Any, server: RoutesServer, store_url: str) -> None:
    """The old page's text does not stay under a link that now points elsewhere."""
    _setup(cli, server, store_url)
    server.answers["/feed.xml"].body = summary_feed(server.base, "/article/gone", "Moved.")
    assert cli("refresh", "--db", store_url).code == 0
    entry = _one_entry(store_url)
    assert entry.fulltext_status == "failed" and "404" in (entry.fulltext_error or "")
    assert "parks" not in entry.content_text and "Moved." in entry.content_text
    assert entry.page is None

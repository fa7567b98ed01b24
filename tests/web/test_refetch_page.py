"""The entry page's Re-extract action: a CSRF-protected POST that fetches the page again and
extracts its text, then shows the entry with it; unknown entries are a 404."""

from __future__ import annotations

import re

from newsdesk.desk import Desk
from newsdesk.store import EntryQuery
from routes_server import Answer, RoutesServer, article_page, summary_feed

from .session import Browser


async def _summary_only_article(desk: Desk, server: RoutesServer) -> int:
    server.route("/article/one", Answer(article_page("The vote", "parks"), 200, "text/html"))
    url = server.route("/feed.xml", Answer(summary_feed(server.base, "/article/one", "Short.")))
    feed = desk.store.add_feed(url)
    # the reading room's settings: no full text at refresh
    report = await desk.refresh_async(feed_ids=[feed.id])
    (entry,) = desk.entries(EntryQuery(ids=report.new_ids, limit=1))
    assert entry.fulltext_status == "pending" and "parks" not in entry.content_text
    return entry.id


async def test_re_extract_fetches_the_page_and_shows_its_text(
    user: Browser, desk: Desk, server: RoutesServer
) -> None:
    entry_id = await _summary_only_article(desk, server)
    page = await user.get(f"/entry/{entry_id}")
    assert re.search(rf'<form method="post" action="/entry/{entry_id}/refetch"', page.text)
    assert "Re-extract" in page.text
    done = await user.post(f"/entry/{entry_id}/refetch")
    assert done.status_code == 303
    assert done.headers["location"] == f"/entry/{entry_id}?refetched=done"
    shown = await user.get(done.headers["location"])
    assert "parks budget line by line" in shown.text
    assert "Extracted again" in shown.text
    assert [p for p, _ in server.hits].count("/article/one") == 1
    assert desk.store.get_entry(entry_id).fulltext_status == "done"


async def test_re_extract_of_a_page_gone_says_why(
    user: Browser, desk: Desk, server: RoutesServer
) -> None:
    entry_id = await _summary_only_article(desk, server)
    server.answers["/article/one"].status = 404
    done = await user.post(f"/entry/{entry_id}/refetch", data={"in": "category:Council"})
    assert done.status_code == 303
    assert done.headers["location"] == f"/entry/{entry_id}?in=category%3ACouncil&refetched=failed"
    shown = await user.get(done.headers["location"])
    assert "Full text could not be extracted: HTTP 404" in shown.text


async def test_re_extract_of_an_unknown_entry_is_404_and_needs_the_token(
    user: Browser, desk: Desk, server: RoutesServer
) -> None:
    assert (await user.post("/entry/987654/refetch")).status_code == 404
    entry_id = await _summary_only_article(desk, server)
    forged = await user.client.post(f"/entry/{entry_id}/refetch", data={"csrf_token": "0" * 64})
    assert forged.status_code == 403
    assert not [p for p, _ in server.hits if p == "/article/one"]

"""The search page and saved searches read the query language (docs/query.md)."""

from __future__ import annotations

import html
import re

from newsdesk.desk import Desk
from newsdesk.store import EntryQuery

from .session import Browser


def _ids(page: str) -> list[int]:
    return [int(x) for x in re.findall(r'id="entry-(\d+)"', page)]


async def test_search_page_reads_the_language(user: Browser, desk: Desk) -> None:
    entries = desk.entries(EntryQuery(limit=500))
    word = next(
        w
        for e in entries
        if e.kind == "article"
        for w in e.title.split()
        if len(w) > 6 and w.isalpha()
    )
    for query in (f"{word} -kind:post", f"kind:post OR {word}", f'title~"(?i){word[:4]}"'):
        found = {e.id for e in desk.search(query, EntryQuery(limit=30))}
        assert found and found <= set(desk.store.matching_ids(query)), query
        page = await user.get("/search", params={"q": query, "group": "none"})
        assert page.status_code == 200, query
        assert set(_ids(page.text)) == found
    marked = await user.get("/search", params={"q": f"title:{word} -zzz", "group": "none"})
    assert "<mark>zzz" not in marked.text
    bad = await user.get("/search", params={"q": 'title~"(a+"'})
    assert bad.status_code == 400
    assert "invalid regular expression" in html.unescape(bad.text)
    refused = await user.post("/saved-searches", {"q": "kind:video", "name": "Videos"})
    assert refused.status_code == 400
    saved = await user.post("/saved-searches", {"q": f"{word} -kind:post", "name": "Mine"})
    assert saved.status_code == 303

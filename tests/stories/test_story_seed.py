"""The seed, refreshed through the CLI: the two tweets that share an article (through t.co
links the refresh expands) land in that article's story; nothing else joins them, and no other
seed entries are grouped (the two Russia-as-mediator articles are different stories)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from newsdesk.demo import SEED_DIR, SEED_FEEDS
from newsdesk.demo.server import SampleServer
from newsdesk.settings import load_settings
from newsdesk.store import SqlStore, open_store
from newsdesk.store.schema import entries as entries_table
from newsdesk.stories import cluster_entries

EXPECTED: list[dict[str, Any]] = json.loads((SEED_DIR / "expected.json").read_text())


def test_tweets_sharing_an_article_join_its_story(
    cli: Any, store_url: str, seed_server: SampleServer
) -> None:
    for path in SEED_FEEDS:
        assert cli("add", seed_server.base + path, "--db", store_url).code == 0
    refreshed = cli("refresh", "--db", store_url)
    assert refreshed.code == 0, refreshed.err
    listed = cli("entries", "--json", "--limit", "100", "--db", store_url)
    entries: list[dict[str, Any]] = listed.json()
    assert len(entries) == len(EXPECTED) == 10

    store = open_store(store_url)
    try:
        settings = load_settings(env={}, database_url=store_url)
        report = cluster_entries(store.intel, settings, [e["id"] for e in entries])
        assert report.entries == 10
        stories = _stories(store)
        by_url = {e["url"]: e for e in entries}
        pairs = []
        for entry, want in zip(entries, EXPECTED, strict=True):
            for target in want.get("links_to") or []:
                article = by_url[target.replace("{{BASE}}", seed_server.base)]
                pairs.append((entry["id"], article["id"]))
        assert len(pairs) == 2
        for post, article in pairs:
            assert stories[post] == stories[article] is not None
            story = store.stories.get_story(stories[article])
            assert story is not None
            assert story.size == 2 and story.sources == 2
            assert story.lead_entry_id == article  # the article leads, not the tweet
            assert story.title == by_url_id(entries, article)["title"]
        grouped = {s.id for s in store.stories.list_stories()}
        assert grouped == {stories[article] for _post, article in pairs}
        assert len(set(stories.values())) == 8  # two stories of two, six of one
    finally:
        store.close()


def by_url_id(entries: list[dict[str, Any]], entry_id: int) -> dict[str, Any]:
    return next(e for e in entries if e["id"] == entry_id)


def _stories(store: SqlStore) -> dict[int, int | None]:
    with store.engine.connect() as conn:
        return dict(conn.execute(select(entries_table.c.id, entries_table.c.story_id)).all())

"""The store queries behind the reader APIs (``store.sync``) and API keys (``store.tokens``), on
SQLite and on PostgreSQL: id ranges, sort orders, search as a filter, counts, marking read."""

from __future__ import annotations

import asyncio

from newsdesk.demo import SEED_CATEGORIES, SEED_FEEDS
from newsdesk.demo.server import SampleServer
from newsdesk.desk import Desk
from newsdesk.settings import Settings
from newsdesk.store import EntryQuery
from newsdesk.store import sync as sync_store


def test_sync_queries(settings: Settings, seed_server: SampleServer) -> None:
    desk = Desk(settings.replace(fulltext=False))
    try:
        for path in SEED_FEEDS:
            asyncio.run(
                desk.subscribe(seed_server.base + path, category=SEED_CATEGORIES[path], check=False)
            )
        asyncio.run(desk.refresh_async(fulltext=False))
        store = desk.store
        total = store.count_entries(EntryQuery())
        assert total > 5

        by_id = store.sync.entry_ids(sync_store.SyncQuery(sort="id", descending=False))
        assert by_id == sorted(by_id) and len(by_id) == total
        after = store.sync.entry_ids(
            sync_store.SyncQuery(after_id=by_id[2], sort="id", descending=False)
        )
        assert after == by_id[3:]
        before = store.sync.entry_ids(sync_store.SyncQuery(before_id=by_id[2], sort="id"))
        assert before == list(reversed(by_id[:2]))
        page = store.sync.list_entries(sync_store.SyncQuery(sort="id"), 3, 1)
        assert [e.id for e in page] == list(reversed(by_id))[1:4]
        newest = store.sync.list_entries(sync_store.SyncQuery(), total)
        stamps = [e.published for e in newest]
        assert stamps == sorted(stamps, reverse=True)

        feed = store.list_feeds()[0]
        assert feed.category_id is not None
        in_category = store.sync.count_entries(sync_store.SyncQuery(category_id=feed.category_id))
        assert in_category == store.count_entries(EntryQuery(feed_id=feed.id))

        word = (newest[0].title or "").split()[2]
        found = store.sync.count_entries(sync_store.SyncQuery(search=word))
        assert 1 <= found <= total
        assert store.sync.count_entries(sync_store.SyncQuery(search="!!!")) == 0

        changed = store.sync.mark_read(sync_store.SyncQuery(base=EntryQuery(feed_id=feed.id)))
        assert changed == store.count_entries(EntryQuery(feed_id=feed.id)) > 0
        counts = store.sync.feed_counts()
        assert counts[feed.id].unread == 0 and counts[feed.id].read == changed
        assert sum(c.unread for c in counts.values()) == total - changed
        again = store.sync.mark_read(sync_store.SyncQuery(base=EntryQuery(feed_id=feed.id)))
        assert again == 0
        assert store.sync.max_entry_id() == max(by_id)
        shuffled = [by_id[3], by_id[0], 999999]
        assert [e.id for e in store.sync.entries_by_ids(shuffled)] == shuffled[:2]
    finally:
        desk.close()


def test_tokens(settings: Settings) -> None:
    desk = Desk(settings)
    try:
        store = desk.store
        token, key = store.tokens.create_token("reader")
        found = store.tokens.token_for_key(key)
        assert found is not None and found.id == token.id and found.name == "reader"
        assert store.tokens.token_for_key(key + "x") is None
        assert [t.name for t in store.tokens.list_tokens()] == ["reader"]
        assert store.tokens.revoke_token(str(token.id)).name == "reader"
        assert store.tokens.token_for_key(key) is None
    finally:
        desk.close()


def test_keyset_positions_and_labels(settings: Settings, seed_server: SampleServer) -> None:
    """Keyset paging by (published, id) and user labels (``store.labels``) on both databases:
    microsecond times compare exactly, and the label prefix is matched with case."""

    desk = Desk(settings.replace(fulltext=False))
    try:
        for path in SEED_FEEDS:
            asyncio.run(
                desk.subscribe(seed_server.base + path, category=SEED_CATEGORIES[path], check=False)
            )
        asyncio.run(desk.refresh_async(fulltext=False))
        store = desk.store
        for descending in (True, False):
            every = store.sync.entry_positions(sync_store.SyncQuery(descending=descending), 10_000)
            walked: list[int] = []
            q = sync_store.SyncQuery(descending=descending)
            while page := store.sync.entry_positions(q, 3):
                walked.extend(i for i, _ in page)
                q.after = (page[-1][1], page[-1][0])
            assert walked == [i for i, _ in every]

        ids = [e.id for e in store.list_entries(EntryQuery(limit=3))]
        assert store.labels.add_label(ids, "Later") == 3
        assert store.labels.add_label(ids, "Later") == 0
        labelled = store.sync.entry_ids(sync_store.SyncQuery(label="Later"))
        assert sorted(labelled) == sorted(ids)
        assert store.sync.entry_ids(sync_store.SyncQuery(label="later")) == []
        assert [c.name for c in store.labels.label_counts()] == ["Later"]
        assert store.labels.rename("Later", "Soon") and not store.labels.rename("Later", "X")
        assert store.labels.labels_of(ids[:1]) == {ids[0]: ["Soon"]}
        assert store.labels.remove_label(ids[:1], "Soon") == 1
        assert store.labels.remove("Soon") and store.labels.label_counts() == []
    finally:
        desk.close()

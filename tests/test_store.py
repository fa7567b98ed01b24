"""The store, on SQLite and PostgreSQL alike: deduplication by constraint, updates, rotating
GUIDs, search in the same transaction, flags, categories, migrations, bad URLs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from newsdesk.errors import FeedNotFoundError, NewsdeskError, StoreError
from newsdesk.model import Entry
from newsdesk.store import EntryQuery, FeedState, open_store
from newsdesk.store.migrations import MIGRATIONS, migrate

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def _entry(key: str, title: str = "A title", text_: str = "Body text", **kw: object) -> Entry:
    values: dict[str, object] = dict(
        key=key,
        url=f"https://example.org/{key}",
        title=title,
        author="Ann",
        kind="article",
        published=NOW - timedelta(minutes=len(key)),
        updated=None,
        content_html=f"<p>{text_}</p>",
        content_text=text_,
        summary_html=None,
        content_hash=f"h-{key}-{title}-{text_}",
        tags=["news"],
        links=[],
        enclosures=[],
    )
    values.update(kw)
    return Entry(**values)  # type: ignore[arg-type]


def _state(**kw: object) -> FeedState:
    return FeedState(last_fetched=NOW, last_status=200, title="Feed title", **kw)  # type: ignore[arg-type]


def test_entries_are_deduplicated_and_updated(store_url: str) -> None:
    store = open_store(store_url)
    feed = store.add_feed("https://example.org/feed")
    first = store.save_refresh(feed.id, _state(), [_entry("a"), _entry("b")], NOW)
    assert len(first.new_ids) == 2
    again = store.save_refresh(feed.id, _state(), [_entry("a"), _entry("b")], NOW)
    assert again.new_ids == [] and again.updated_ids == []
    changed = store.save_refresh(feed.id, _state(), [_entry("a", title="A new title")], NOW)
    assert changed.updated_ids == [first.new_ids[0]]
    assert store.get_entry(first.new_ids[0]).title == "A new title"
    assert store.count_entries(EntryQuery()) == 2
    # the unique constraint holds even if code tried to insert twice
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from newsdesk.store.schema import entries

    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(
            insert(entries).values(
                feed_id=feed.id,
                key="a",
                kind="post",
                published=NOW,
                first_seen=NOW,
                content_hash="x",
                content_html="",
                content_text="",
                tags=[],
                links=[],
                enclosures=[],
                read=False,
                starred=False,
                wants_fulltext=False,
            )
        )
    store.close()


def test_rotating_guids_do_not_flood(store_url: str) -> None:
    store = open_store(store_url)
    feed = store.add_feed("https://example.org/feed")
    store.save_refresh(feed.id, _state(), [_entry("a", content_hash="same")], NOW)
    rotated = store.save_refresh(feed.id, _state(), [_entry("a-rotated", content_hash="same")], NOW)
    assert rotated.new_ids == []
    assert store.count_entries(EntryQuery()) == 1
    store.close()


def test_a_batch_keeps_each_feed_whole_when_one_conflicts(store_url: str) -> None:
    """The bulk write of a batch falls back to a savepoint per feed: the feed that conflicts
    is discarded whole with an error, the others are stored; a feed given twice in one batch
    sees its first copy."""
    store = open_store(store_url)
    a, b, c = (store.add_feed(f"https://example.org/{n}") for n in "abc")
    twice = store.save_refresh_batch(
        [(a.id, _state(), [_entry("x")]), (a.id, _state(), [_entry("x"), _entry("y")])], NOW
    )
    assert [len(r.new_ids) for r in twice] == [1, 1]
    clash = [_entry("dup"), _entry("dup", title="Other")]  # unique (feed_id, key) refuses it
    results = store.save_refresh_batch(
        [
            (b.id, _state(), [_entry("b1")]),
            (c.id, _state(), clash),
            (a.id, _state(), [_entry("z")]),
        ],
        NOW,
    )
    assert results[1].error is not None and "another refresh" in results[1].error
    assert len(results[0].new_ids) == 1 and len(results[2].new_ids) == 1
    assert store.count_entries(EntryQuery(feed_id=c.id)) == 0
    assert store.count_entries(EntryQuery(feed_id=a.id)) == 3
    store.close()


def test_bulk_rows_are_stored_as_sqlalchemy_stores_them(store_url: str) -> None:
    """Dates compare equal to bound datetimes (SQLite keeps them as text, microseconds
    included); links and tags are canonical and deduplicated, JSON lists read back."""
    from sqlalchemy import func, select

    from newsdesk.process.pipeline import ProcessedEntries, stored_form
    from newsdesk.store.schema import entries, entry_links, entry_tags

    store = open_store(store_url)
    feed = store.add_feed("https://example.org/feed")
    published = datetime(2024, 2, 1, 8, 30, tzinfo=UTC)
    links = ["https://Example.org/a?utm_source=x", "https://example.org/a#top", "https://b.org"]
    entry = _entry("k", published=published, links=links, tags=["news", "news", "x" * 150])
    prepared = ProcessedEntries([entry])
    prepared.forms = [stored_form(entry)]
    (entry_id,) = store.save_refresh(feed.id, _state(), prepared, NOW).new_ids
    with store.engine.connect() as conn:
        count = select(func.count()).select_from(entries)
        assert conn.execute(count.where(entries.c.published == published)).scalar() == 1
        assert conn.execute(count.where(entries.c.first_seen == NOW)).scalar() == 1
        stored_links = conn.execute(
            select(entry_links.c.url, entry_links.c.position).order_by(entry_links.c.position)
        ).all()
        tags = conn.execute(select(entry_tags.c.tag).order_by(entry_tags.c.tag)).scalars()
        assert list(tags) == ["news", "x" * 100]
    assert [tuple(r) for r in stored_links] == [("https://example.org/a", 0), ("https://b.org/", 2)]
    stored = store.get_entry(entry_id)
    assert stored.published == published and stored.first_seen == NOW
    assert stored.links == ["https://example.org/a", "https://example.org/a", "https://b.org/"]
    assert stored.tags == ["news", "news", "x" * 150]
    store.close()


def test_search_is_ranked_with_snippets(store_url: str) -> None:
    store = open_store(store_url)
    feed = store.add_feed("https://example.org/feed")
    store.save_refresh(
        feed.id,
        _state(),
        [
            _entry("title-hit", title="Smirnov detention hearing", text_="Judge ruled on release."),
            _entry("body-hit", title="Other news", text_="A long piece. Smirnov appears once."),
            _entry("miss", title="Weather", text_="Rain tomorrow."),
        ],
        NOW,
    )
    hits = store.search("smirnov", EntryQuery())
    assert [h.title for h in hits] == ["Smirnov detention hearing", "Other news"]
    assert all(h.snippet is not None for h in hits)
    assert store.search("detention hear", EntryQuery())[0].title.startswith("Smirnov")  # prefix
    assert store.search('"; DROP TABLE entries; --', EntryQuery()) == []
    assert store.search("smirnov", EntryQuery(kind="post")) == []
    # updates reach the index in the same transaction
    store.save_refresh(
        feed.id, _state(), [_entry("miss", title="Weather", text_="Smirnov rain")], NOW
    )
    assert len(store.search("smirnov", EntryQuery())) == 3
    store.close()


def test_flags_filters_and_categories(store_url: str) -> None:
    store = open_store(store_url)
    feed = store.add_feed("https://example.org/feed", category="World")
    ids = store.save_refresh(
        feed.id, _state(), [_entry("a"), _entry("bb"), _entry("ccc")], NOW
    ).new_ids
    assert store.set_flags(ids[:2], read=True) == 2
    assert store.set_flags(ids[2:], starred=True) == 1
    assert len(store.list_entries(EntryQuery(read=False))) == 1
    assert [e.id for e in store.list_entries(EntryQuery(starred=True))] == ids[2:]
    assert len(store.list_entries(EntryQuery(category="World"))) == 3
    assert store.list_entries(EntryQuery(category="Nope")) == []
    assert len(store.list_entries(EntryQuery(tag="NEWS"))) == 3
    assert store.categories() == [(store.get_feed(feed.id).category_id, "World", 1)]
    newest = store.list_entries(EntryQuery(limit=3))
    assert [e.published for e in newest] == sorted((e.published for e in newest), reverse=True)
    store.close()


def test_feed_lifecycle(store_url: str) -> None:
    store = open_store(store_url)
    feed = store.add_feed("https://example.org/feed")
    with pytest.raises(NewsdeskError, match="already subscribed"):
        store.add_feed("https://example.org/feed")
    store.save_refresh(feed.id, _state(), [_entry("a")], NOW)
    assert store.get_feed(feed.id).category == "General"  # one default category, not the title
    assert store.get_feed("https://example.org/feed").id == feed.id
    store.update_feed(feed.id, category="Renamed", custom_title="Mine")
    got = store.get_feed(feed.id)
    assert (got.category, got.display_title) == ("Renamed", "Mine")
    failed = replace(_state(), error="HTTP 500", last_status=500)
    store.save_fetch_states([(feed.id, failed), (feed.id, failed)])
    got = store.get_feed(feed.id)
    assert got.error_count == 2 and got.last_error == "HTTP 500" and got.error_since == NOW
    store.remove_feed(feed.id)
    with pytest.raises(FeedNotFoundError):
        store.get_feed(feed.id)
    assert store.count_entries(EntryQuery()) == 0
    assert store.categories() == []
    store.close()


def test_feed_move_after_consecutive_redirects(store_url: str) -> None:
    store = open_store(store_url)
    feed = store.add_feed("https://old.example/feed")
    store.save_fetch_states([(feed.id, _state(new_url="https://new.example/feed"))])
    moved = store.get_feed(feed.id)
    assert moved.url == "https://new.example/feed"
    assert moved.moved_from == "https://old.example/feed"
    assert store.get_feed("https://old.example/feed").id == feed.id
    store.close()


def test_migrations_are_idempotent(store_url: str) -> None:
    store = open_store(store_url)
    assert migrate(store.engine) == len(MIGRATIONS)
    store.close()
    again = open_store(store_url)
    with again.engine.connect() as conn:
        version = conn.execute(text("SELECT version FROM schema_version")).scalar()
    assert version == len(MIGRATIONS)
    again.close()


def test_sqlite_pragmas(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    store.close()


@pytest.mark.parametrize(
    "url", ["nonsense://x", "mysql://u@h/db", "postgresql://nobody@127.0.0.1:1/x"]
)
def test_bad_database_urls_give_clear_errors(url: str) -> None:
    with pytest.raises(StoreError):
        open_store(url)


def test_a_common_last_word_is_matched_as_typed(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last word of a search is a prefix, except a word found as typed in more entries
    than the rank window holds: its prefix is not expanded (cost), the window is full anyway."""
    import newsdesk.store.sql_entries as sql_entries

    monkeypatch.setattr(sql_entries, "RANK_WINDOW", 3)
    store = open_store(sqlite_url)
    feed = store.add_feed("https://example.org/feed")
    common = [_entry("k" * n, title=f"Budget vote {n}") for n in range(1, 5)]
    rare = [_entry("theory", title="Budgetary theory"), _entry("x", title="Vote on budgets")]
    store.save_refresh(feed.id, _state(), [*common, *rare], NOW)
    found = {e.title for e in store.search("budget", EntryQuery())}
    # 4 found as typed, more than the window: "budget" is not expanded, the newest 3 ranked
    assert "Budgetary theory" not in found and len(found) == 3
    assert {e.title for e in store.search("budge", EntryQuery())} >= {"Budgetary theory"}
    assert {e.title for e in store.search("theo", EntryQuery())} == {"Budgetary theory"}
    store.close()

"""Issue 17: a big refresh's parse workers queue their new entries for SQLite's search index
instead of indexing them row by row in their turns to write (``store.search.queue_search``).
An entry is in the index or in the queue, never both, whatever happens to it while it waits;
the refresh indexes a small batch at its end, and leaves a first import's to the background
job, which indexes before anything else."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from members import article, member_views
from newsdesk import refresh
from newsdesk.desk import Desk
from newsdesk.intel import run_intel
from newsdesk.refresh import refresh_sync
from newsdesk.settings import load_settings
from newsdesk.store import EntryQuery, FeedState, SqlStore, open_store
from routes_server import Answer, RoutesServer, rss

NOW = datetime(2026, 12, 1, tzinfo=UTC)
STATE = FeedState(last_fetched=NOW, last_status=200, title="A feed")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'n.db'}")
    yield opened
    opened.close()


def _titles(store: SqlStore, words: str) -> list[str]:
    return sorted(e.title or "" for e in store.search(words, EntryQuery()))


def _queue(store: SqlStore) -> list[int]:
    with store.engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql("SELECT entry_id FROM entries_fts_queue")]


def _index_is_whole(store: SqlStore) -> None:
    """FTS5's own check of an external-content index against its table: every entry indexed
    with its current text, nothing else (raises when not)."""
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO entries_fts(entries_fts, rank) VALUES('integrity-check', 1)"
        )


def _save(store: SqlStore, feed: str, titles: list[str], *, later: bool) -> list[int]:
    """A new feed ``feed`` with an article per title; the articles' ids."""
    found = store.add_feed(f"https://example.org/{feed}.rss")
    return _store(store, found.id, feed, titles, later=later).new_ids


def _store(store: SqlStore, feed_id: int, feed: str, titles: list[str], *, later: bool) -> Any:
    """The feed's articles, one per title, as a refresh stores them: an article whose title
    changed is an edit (its key stays, its content hash changes)."""
    entries = [article(feed, n, NOW, title, f"{title} reported") for n, title in enumerate(titles)]
    for entry in entries:
        entry.content_hash = f"{entry.key}:{entry.title}"
    (result,) = store.save_refresh_batch([(feed_id, STATE, entries)], NOW, index_later=later)
    return result


def _feed_id(store: SqlStore, feed: str) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.exec_driver_sql(
                "SELECT id FROM feeds WHERE url = ?", (f"https://example.org/{feed}.rss",)
            ).scalar_one()
        )


def test_queued_entries_are_found_once_indexed(store: SqlStore) -> None:
    now_ids = _save(store, "now", ["Harbour fire"], later=False)
    later_ids = _save(store, "later", ["Harbour strike", "Glacier melt"], later=True)
    assert _titles(store, "harbour") == ["Harbour fire"]  # the queued one waits
    assert _queue(store) == later_ids and not set(now_ids) & set(_queue(store))
    with store.engine.connect() as conn:  # the switch is never left on
        assert conn.exec_driver_sql("SELECT later FROM entries_fts_switch").scalar() == 0
    assert store.queued_search_count() == 2
    assert store.index_queued_search() == 2
    assert _titles(store, "harbour") == ["Harbour fire", "Harbour strike"]
    assert _titles(store, "glacier") == ["Glacier melt"]
    assert _queue(store) == [] and store.index_queued_search() == 0
    _index_is_whole(store)


def test_an_entry_edited_or_deleted_while_queued_leaves_the_index_whole(
    store: SqlStore,
) -> None:
    _save(store, "indexed", ["Orchard frost"], later=False)
    _save(store, "edited", ["Harbour strike"], later=True)
    _save(store, "gone", ["Satellite launch"], later=True)
    # the queued entry's text changes: it stays queued and is indexed with its new text
    edited = _store(store, _feed_id(store, "edited"), "edited", ["Harbour reopens"], later=True)
    assert edited.updated_ids
    store.remove_feed(_feed_id(store, "gone"))  # queued: out of the queue, index untouched
    assert len(_queue(store)) == 1
    store.remove_feed(_feed_id(store, "indexed"))  # indexed: out of the index
    store.index_queued_search()
    assert _titles(store, "harbour") == ["Harbour reopens"]
    assert _titles(store, "strike") == [] and _titles(store, "satellite") == []
    assert _titles(store, "orchard") == []
    _index_is_whole(store)


def test_an_indexed_entry_edited_later_is_indexed_again(store: SqlStore) -> None:
    (entry_id,) = _save(store, "feed", ["Harbour strike"], later=True)
    store.index_queued_search()
    edited = _store(store, _feed_id(store, "feed"), "feed", ["Harbour reopens"], later=True)
    assert edited.updated_ids == [entry_id] and _queue(store) == []
    assert _titles(store, "reopens") == ["Harbour reopens"] and _titles(store, "strike") == []
    _index_is_whole(store)


def test_indexing_goes_in_chunks_from_an_id_on(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsdesk.store import search

    monkeypatch.setattr(search, "INDEX_CHUNK", 2)
    old = _save(store, "old", ["Glacier one", "Glacier two", "Glacier three"], later=True)
    new = _save(store, "new", ["Glacier four", "Glacier five", "Glacier six"], later=True)
    assert store.index_queued_search(min(new)) == 3
    assert _queue(store) == old
    assert _titles(store, "glacier") == ["Glacier five", "Glacier four", "Glacier six"]
    assert store.index_queued_search() == 3
    assert len(_titles(store, "glacier")) == 6
    _index_is_whole(store)


def test_an_export_imported_again_has_nothing_queued(store: SqlStore, tmp_path: Path) -> None:
    _save(store, "feed", ["Harbour strike"], later=True)
    out = tmp_path / "export.jsonl"
    with out.open("w") as stream:
        store.portable.export_all(stream)
    again = open_store(f"sqlite:///{tmp_path / 'again.db'}")
    try:
        with out.open() as stream:
            again.portable.import_all(stream)
        assert _queue(again) == []
        assert _titles(again, "harbour") == ["Harbour strike"]
        _index_is_whole(again)
    finally:
        again.close()


def _farm(server: RoutesServer, feeds: int) -> list[str]:
    return [server.route(f"/q{n}.rss", Answer(rss(f"Feed {n}", items=3))) for n in range(feeds)]


def _settings(**changes: Any) -> Any:
    """Loopback feeds allowed; no icons, no entity model."""
    env = {"NEWSDESK_ALLOW_PRIVATE_NETWORKS": "1"}
    return load_settings(env=env).replace(icons=False, entities=False, **changes)


def _refresh(store: SqlStore, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(refresh, "PARSE_POOL_MIN_FEEDS", 1)  # the parse workers store
    return refresh_sync(store, settings, fulltext=False)


def test_a_refresh_indexes_what_its_workers_queued_before_it_returns(
    store: SqlStore, server: RoutesServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for url in _farm(server, 4):
        store.add_feed(url)
    indexed: list[int] = []
    real = SqlStore.index_queued_search

    def counted(self: SqlStore, from_id: int = 0) -> int:
        indexed.append(real(self, from_id))
        return indexed[-1]

    monkeypatch.setattr(SqlStore, "index_queued_search", counted)
    report = _refresh(store, _settings(), monkeypatch)
    assert report.new_entries == 12 and report.search_deferred == 0
    assert indexed == [12]  # the workers queued them, the refresh indexed them at its end
    assert _queue(store) == [] and len(store.search("feed", EntryQuery())) == 12
    _index_is_whole(store)


def test_a_first_import_leaves_its_index_to_the_background_job(
    store: SqlStore, server: RoutesServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for url in _farm(server, 4):
        store.add_feed(url)
    settings = _settings(timelines=False, alerts=False, intel_inline_max=5)
    report = _refresh(store, settings, monkeypatch)
    assert report.new_entries == 12 and report.search_deferred == 12
    assert "search index" in report.summary and report.intel_deferred == 12
    assert store.search("feed", EntryQuery()) == [] and len(_queue(store)) == 12
    done = run_intel(store.intel, settings, None)  # the background job: the index first
    assert done.indexed == 12 and "12 entries indexed for search" in done.summary
    assert len(store.search("feed", EntryQuery())) == 12 and _queue(store) == []
    _index_is_whole(store)


def test_rules_make_a_first_import_index_before_the_refresh_returns(
    store: SqlStore, server: RoutesServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rules run on a first import before the refresh returns, and their words search the
    index: it cannot wait for the background job."""
    settings = _settings(timelines=False, alerts=False, intel_inline_max=5)
    member_views(store, ("alice",), NOW)
    alice = store.users.get_user("alice")
    assert alice is not None
    Desk(settings, store).as_person(alice).add_rule("feed", "star")
    for url in _farm(server, 4):
        store.add_feed(url)
    report = _refresh(store, settings, monkeypatch)
    assert report.intel_deferred == 12 and report.search_deferred == 0
    assert _queue(store) == [] and len(store.search("feed", EntryQuery())) == 12


def test_the_search_command_indexes_what_is_queued_first(
    store: SqlStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from newsdesk.cli import main

    _save(store, "feed", ["Harbour strike"], later=True)
    assert main(["search", "harbour", "--db", f"sqlite:///{tmp_path / 'n.db'}"]) == 0
    assert "Harbour strike" in capsys.readouterr().out
    assert _queue(store) == []


def test_a_database_of_before_the_queue_keeps_its_index(tmp_path: Path) -> None:
    """Migration 14 on a database of migration 13: its triggers replaced, what it indexed
    still found, edited and deleted as before."""
    from newsdesk.store.search import create_search

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = open_store(url)
    with old.engine.begin() as conn:  # back to migration 13's search triggers
        conn.exec_driver_sql("DROP TABLE entries_fts_queue")
        conn.exec_driver_sql("DROP TABLE entries_fts_switch")
        for name in ("insert", "queue_insert", "delete", "update"):
            conn.exec_driver_sql(f"DROP TRIGGER entries_fts_{name}")
        create_search(conn)
        conn.exec_driver_sql("UPDATE schema_version SET version = 13")
    _save(old, "kept", ["Harbour strike"], later=False)
    _save(old, "gone", ["Glacier melt"], later=False)
    old.close()
    store = open_store(url)
    try:
        assert _titles(store, "harbour") == ["Harbour strike"] and _queue(store) == []
        _store(store, _feed_id(store, "kept"), "kept", ["Harbour reopens"], later=True)
        store.remove_feed(_feed_id(store, "gone"))
        _save(store, "new", ["Orchard frost"], later=True)
        store.index_queued_search()
        assert _titles(store, "harbour") == ["Harbour reopens"]
        assert _titles(store, "glacier") == [] and _titles(store, "orchard") == ["Orchard frost"]
        _index_is_whole(store)
    finally:
        store.close()


def test_postgresql_indexes_as_it_writes(store_url: str) -> None:
    """The queue is SQLite's: PostgreSQL's search column is computed with the row, so an entry
    stored for later indexing is found at once there, and nothing ever waits."""
    store = open_store(store_url)
    try:
        _save(store, "feed", ["Harbour strike"], later=True)
        if store.dialect == "sqlite":
            assert store.queued_search_count() == 1 and _titles(store, "harbour") == []
            store.index_queued_search()
        assert store.queued_search_count() == 0 and store.index_queued_search() == 0
        assert _titles(store, "harbour") == ["Harbour strike"]
    finally:
        store.close()

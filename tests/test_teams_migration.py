"""Migration 11 (issue 15) on a real version-10 database, on SQLite and PostgreSQL.

The databases were made by the code of version 10 (the last single-user commit, e15c124) with
tests/data/make_version10.py: two accounts (alice first, bob second), feeds in categories with
custom titles, entries read and starred, user labels, a saved search, two API keys, a watchlist
with an alert, Fever on for alice. They are bundled as SQL (an ``iterdump`` of the SQLite file, a
``pg_dump`` of the PostgreSQL one), so no old code runs here. Opened with this code, alice (the
first) owns everything, as it was, and nothing is lost.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, inspect, text

from newsdesk.store import EntryQuery, open_store
from newsdesk.store.migrations import MIGRATIONS, current_version, migrate
from newsdesk.store.sql import SqlStore

DATA = Path(__file__).parent / "data"
SECRETS = json.loads((DATA / "version10.json").read_text())


def load_version10(url: str) -> None:
    """Fill the empty database at ``url`` with the bundled version-10 database."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            conn.executescript((DATA / "version10.sqlite.sql").read_text())
        finally:
            conn.close()
        return
    import psycopg

    # pg_dump's script empties the session's search_path: a connection of its own.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute((DATA / "version10.pg.sql").read_text().encode())


@dataclass
class Legacy:
    """What version 10 held, read from its own columns before the migration."""

    read: dict[int, Any]  # entry id -> read_at
    starred: dict[int, Any]  # entry id -> starred_at
    feeds: dict[str, tuple[str | None, str | None]]  # url -> (custom title, category)
    labels: set[tuple[int, str]]
    counts: dict[str, int]


def _counts(conn: Connection) -> dict[str, int]:
    queries = {
        "feeds": "SELECT count(*) FROM feeds",
        "entries": "SELECT count(*) FROM entries",
        "entry_links": "SELECT count(*) FROM entry_links",
        "tags": "SELECT count(*) FROM entry_tags WHERE tag NOT LIKE 'Label:%'",
        "alerts": "SELECT count(*) FROM alerts",
        "categories": "SELECT count(*) FROM categories",
    }
    return {name: int(conn.execute(text(q)).scalar() or 0) for name, q in queries.items()}


def _legacy(url: str) -> Legacy:
    from newsdesk.store.engine import create_store_engine  # an engine: no migration

    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            assert current_version(conn) == 10
            flags = conn.execute(text("SELECT id, read, starred, read_at, starred_at FROM entries"))
            rows = flags.all()
            feeds = conn.execute(
                text(
                    "SELECT f.url, f.custom_title, c.title FROM feeds f "
                    "LEFT JOIN categories c ON c.id = f.category_id"
                )
            ).all()
            labels = conn.execute(
                text("SELECT entry_id, tag FROM entry_tags WHERE tag LIKE 'Label:%'")
            ).all()
            return Legacy(
                read={r[0]: r[3] for r in rows if r[1]},
                starred={r[0]: r[4] for r in rows if r[2]},
                feeds={r[0]: (r[1], r[2]) for r in feeds},
                labels={(r[0], r[1].removeprefix("Label:")) for r in labels},
                counts=_counts(conn),
            )
    finally:
        engine.dispose()


@pytest.fixture
def version10(store_url: str) -> Iterator[tuple[str, Legacy, dict[str, Any]]]:
    load_version10(store_url)
    secrets = SECRETS["sqlite" if store_url.startswith("sqlite") else "postgresql"]
    yield store_url, _legacy(store_url), secrets


@pytest.fixture
def migrated(
    version10: tuple[str, Legacy, dict[str, Any]],
) -> Iterator[tuple[SqlStore, Legacy, dict[str, Any]]]:
    url, legacy, secrets = version10
    store = open_store(url)
    yield store, legacy, secrets
    store.close()


def test_the_bundled_database_is_what_version_10_made(
    version10: tuple[str, Legacy, dict[str, Any]],
) -> None:
    _url, legacy, _secrets = version10
    assert len(legacy.read) == 5 and len(legacy.starred) == 3
    assert legacy.feeds["http://news.example/world.xml"] == ("World desk", "World")
    assert legacy.feeds["http://blog.example/rss"] == (None, "General")
    assert {label for _e, label in legacy.labels} == {"Important", "Later"}
    assert legacy.counts["entries"] == 12 and legacy.counts["feeds"] == 4


def test_everyone_is_an_admin_and_the_first_owns_everything(
    migrated: tuple[SqlStore, Legacy, dict[str, Any]],
) -> None:
    store, legacy, _secrets = migrated
    with store.engine.connect() as conn:
        assert current_version(conn) == len(MIGRATIONS)
    people = store.users.list_users()
    assert [(u.username, u.role) for u in people] == [("alice", "admin"), ("bob", "admin")]
    alice, bob = people
    assert store.person_id == alice.id  # a store just opened is the first admin's view
    assert store.users.has_users() and all(u.has_password for u in people)
    mine = store.as_person(alice.id)
    seen = {f.url: (f.custom_title, f.category) for f in mine.list_feeds()}
    assert seen == legacy.feeds
    assert store.as_person(bob.id).list_feeds() == []
    with store.engine.connect() as conn:
        owners = {
            table: set(conn.execute(text(f"SELECT DISTINCT user_id FROM {table}")).scalars())
            for table in (
                "subscriptions",
                "categories",
                "saved_searches",
                "api_tokens",
                "watchlists",
            )
        }
        legacy_left = conn.execute(
            text("SELECT count(*) FROM feeds WHERE custom_title IS NOT NULL OR category_id > 0")
        ).scalar()
    assert owners == {table: {alice.id} for table in owners}
    assert legacy_left == 0


def test_read_starred_and_labels_become_the_first_persons(
    migrated: tuple[SqlStore, Legacy, dict[str, Any]],
) -> None:
    store, legacy, _secrets = migrated
    alice = store.users.person("alice")
    with store.engine.connect() as conn:
        states = conn.execute(
            text("SELECT user_id, entry_id, read, starred, read_at, starred_at FROM entry_states")
        ).all()
        labels = conn.execute(text("SELECT user_id, entry_id, label FROM entry_labels")).all()
        label_tags = conn.execute(
            text("SELECT count(*) FROM entry_tags WHERE tag LIKE 'Label:%'")
        ).scalar()
    assert {r[0] for r in states} == {alice.id}
    assert {r[1]: r[4] for r in states if r[2]} == legacy.read
    assert {r[1]: r[5] for r in states if r[3]} == legacy.starred
    assert {r[1] for r in states} == set(legacy.read) | set(legacy.starred)
    assert {(r[1], r[2]) for r in labels} == legacy.labels
    assert {r[0] for r in labels} == {alice.id}
    assert label_tags == 0
    mine = store.as_person(alice.id)
    every = EntryQuery(limit=100)
    assert {e.id for e in mine.list_entries(EntryQuery(read=True, limit=100))} == set(legacy.read)
    assert {e.id for e in mine.list_entries(EntryQuery(starred=True, limit=100))} == set(
        legacy.starred
    )
    assert mine.count_entries(every) == legacy.counts["entries"]
    bob = store.as_person(store.users.person("bob").id)
    assert bob.count_entries(every) == 0 and bob.set_flags(list(legacy.read), read=False) == 0


def test_keys_fever_and_owned_things_still_work(
    migrated: tuple[SqlStore, Legacy, dict[str, Any]],
) -> None:
    store, _legacy, secrets = migrated
    alice, bob = store.users.list_users()
    for key in secrets["api_keys"].values():
        token = store.tokens.token_for_key(key)
        assert token is not None and token.user_id == alice.id
    assert {t.name for t in store.as_person(alice.id).tokens.list_tokens()} == {"phone", "laptop"}
    assert store.as_person(bob.id).tokens.list_tokens() == []
    password = secrets["passwords"]["alice"]
    fever = hashlib.md5(f"alice:{password}".encode()).hexdigest()
    found = store.users.user_by_fever_key(fever, bytes.fromhex(secrets["server_key"]))
    assert found is not None and found.id == alice.id and found.fever and not bob.fever
    assert store.users.verify_password("bob", secrets["passwords"]["bob"])
    with store.engine.connect() as conn:
        alerts = conn.execute(
            text(
                "SELECT w.user_id, w.name FROM alerts a JOIN watchlists w ON w.id = a.watchlist_id"
            )
        ).all()
        searches = conn.execute(text("SELECT user_id, name FROM saved_searches")).all()
    assert [tuple(r) for r in alerts] == [(alice.id, "Glaciers")]
    assert [tuple(r) for r in searches] == [(alice.id, "Climate")]


def test_names_are_unique_per_person_now(
    migrated: tuple[SqlStore, Legacy, dict[str, Any]],
) -> None:
    """What was unique for the whole desk (category titles, names of saved searches, keys and
    watchlists) is unique per person: bob takes the names alice has."""
    store, legacy, _secrets = migrated
    alice, bob = store.users.list_users()
    theirs = store.as_person(bob.id)
    feed = theirs.add_feed("http://tech.example/atom", title="Bob's tech", category="Tech")
    assert (feed.custom_title, feed.category) == ("Bob's tech", "Tech")
    assert theirs.tokens.create_token("phone")[0].user_id == bob.id
    with store.engine.begin() as conn:
        for table in ("saved_searches", "watchlists"):
            extra = ", query" if table == "saved_searches" else ", query, mode, enabled"
            values = ", 'climate'" if table == "saved_searches" else ", '', 'instant', false"
            conn.execute(
                text(
                    f"INSERT INTO {table} (user_id, name, filters, created_at{extra}) "
                    f"VALUES (:bob, :name, '{{}}', '2024-05-01 00:00:00'{values})"
                    if table == "saved_searches"
                    else f"INSERT INTO {table} (user_id, name, entity_ids, categories, feed_ids,"
                    f" channels, created_at{extra}) VALUES (:bob, :name, '[]', '[]', '[]', '{{}}',"
                    f" '2024-05-01 00:00:00'{values})"
                ),
                {"bob": bob.id, "name": "Climate" if table == "saved_searches" else "Glaciers"},
            )
        tech = conn.execute(
            text("SELECT user_id, id FROM categories WHERE title = 'Tech' ORDER BY user_id")
        ).all()
        feeds = conn.execute(text("SELECT count(*) FROM feeds")).scalar()
    assert [r[0] for r in tech] == [alice.id, bob.id] and tech[0][1] != tech[1][1]
    assert feeds == legacy.counts["feeds"]  # one feed row, two subscriptions
    mine = store.as_person(alice.id).get_feed(feed.id)
    assert (mine.custom_title, mine.category) == ("Gadgets", "Tech")


def test_nothing_is_lost_and_search_still_finds(
    migrated: tuple[SqlStore, Legacy, dict[str, Any]],
) -> None:
    store, legacy, _secrets = migrated
    with store.engine.connect() as conn:
        assert _counts(conn) == legacy.counts
        indexes = {i["name"] for i in inspect(conn).get_indexes("entries")}
    assert not indexes & {"ix_entries_unread", "ix_entries_feed_state"}
    found = store.search("glacier", EntryQuery(limit=50))
    assert found and all("glacier" in (e.title or "").lower() for e in found)
    everyone = store.as_system().search("glacier", EntryQuery())
    assert {e.id for e in found} == {e.id for e in everyone}


def test_sqlite_foreign_keys_hold_and_stay_on(
    migrated: tuple[SqlStore, Legacy, dict[str, Any]],
) -> None:
    store, _legacy, _secrets = migrated
    if store.dialect != "sqlite":
        pytest.skip("SQLite's rebuild of tables")
    for _ in range(3):  # whichever pooled connection comes back
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    path = store.engine.url.database
    assert path
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ddl = raw.execute("SELECT sql FROM sqlite_master WHERE name = 'categories'").fetchone()[0]
    finally:
        raw.close()
    assert "uq_categories_user_title" in ddl


def test_migrating_again_changes_nothing(
    migrated: tuple[SqlStore, Legacy, dict[str, Any]],
) -> None:
    store, _legacy, _secrets = migrated

    def everything(conn: Connection) -> list[Any]:
        tables = ("users", "subscriptions", "categories", "entry_states", "entry_labels")
        return [
            sorted(map(tuple, conn.execute(text(f"SELECT * FROM {t}")).all()), key=repr)
            for t in tables
        ]

    with store.engine.connect() as conn:
        before = everything(conn)
    assert migrate(store.engine) == len(MIGRATIONS)
    again = open_store(store.url)
    try:
        with again.engine.connect() as conn:
            assert everything(conn) == before
    finally:
        again.close()


def test_a_new_desk_has_an_admin_who_cannot_log_in_yet(store_url: str) -> None:
    store = open_store(store_url)
    try:
        (admin,) = store.users.list_users()
        assert (admin.username, admin.role, admin.has_password) == ("admin", "admin", False)
        assert not store.users.has_users()
        assert store.person_id == admin.id
        with store.engine.connect() as conn:
            assert current_version(conn) == len(MIGRATIONS)
    finally:
        store.close()


def test_a_desk_without_accounts_gets_an_admin_who_owns_it(
    version10: tuple[str, Legacy, dict[str, Any]],
) -> None:
    """A version-10 desk used only from the command line had no account: its new admin (no
    password yet: the first-run page) owns everything."""
    from newsdesk.store.engine import create_store_engine

    url, legacy, secrets = version10
    engine = create_store_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users"))
    engine.dispose()
    store = open_store(url)
    try:
        (admin,) = store.users.list_users()
        assert (admin.username, admin.role, admin.has_password) == ("admin", "admin", False)
        assert not store.users.has_users() and store.person_id == admin.id
        seen = {f.url: (f.custom_title, f.category) for f in store.list_feeds()}
        assert seen == legacy.feeds
        assert {e.id for e in store.list_entries(EntryQuery(read=True, limit=100))} == set(
            legacy.read
        )
        token = store.tokens.token_for_key(secrets["api_keys"]["phone"])
        assert token is not None and token.user_id == admin.id
    finally:
        store.close()


def _schema(url: str) -> dict[str, Any]:
    """Each table's columns (name, type, NULL or not), unique constraints, indexes and foreign
    keys: what a database accepts."""
    store = open_store(url)
    try:
        found = inspect(store.engine)
        return {
            table: (
                sorted(
                    (c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)
                ),
                sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(table)),
                sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in found.get_indexes(table)
                ),
                sorted(
                    (
                        tuple(f["constrained_columns"]),
                        f["referred_table"],
                        tuple(f["referred_columns"]),
                        str(f.get("options")),
                    )
                    for f in found.get_foreign_keys(table)
                ),
            )
            for table in found.get_table_names()
            if not table.startswith("entries_fts")
        }
    finally:
        store.close()


def _schema_of_a_new_postgresql_database(url: str) -> dict[str, Any]:
    """``_schema`` of a second database on the same server (as tests/conftest.py makes them)."""
    import psycopg

    base, _, name = url.rpartition("/")
    other = f"{name}_new"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{other}"')
    try:
        return _schema(f"{base}/{other}")
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{other}" WITH (FORCE)')


def test_a_migrated_database_has_the_schema_of_a_new_one(
    version10: tuple[str, Legacy, dict[str, Any]], tmp_path: Path
) -> None:
    url, _legacy, _secrets = version10
    migrated = _schema(url)
    if url.startswith("sqlite"):
        new = _schema(f"sqlite:///{tmp_path / 'new.db'}")
    else:
        new = _schema_of_a_new_postgresql_database(url)
    assert migrated.keys() == new.keys()
    for table, shape in new.items():
        assert migrated[table] == shape, table


def _sqlite_version10(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'v10.db'}"
    load_version10(url)
    return url


def test_an_old_broken_key_does_not_stop_the_migration(tmp_path: Path) -> None:
    """A row another tool wrote with SQLite's foreign keys off (an orphan link) was there
    before: the migration neither refuses the database for it nor touches it."""
    url = _sqlite_version10(tmp_path)
    raw = sqlite3.connect(url.removeprefix("sqlite:///"))
    raw.execute("INSERT INTO entry_links (entry_id, url, position) VALUES (999, 'http://x/', 0)")
    raw.commit()
    raw.close()
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            assert current_version(conn) == len(MIGRATIONS)
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
        assert [(r[0], r[2]) for r in broken] == [("entry_links", "entries")]
    finally:
        store.close()


def test_a_migration_that_breaks_a_key_leaves_the_database_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 11 rebuilds tables with SQLite's foreign keys off; had it broken one, it is
    rolled back whole (SQLite's DDL is transactional) and the desk says so."""
    from newsdesk.errors import StoreError
    from newsdesk.store import migrations

    url = _sqlite_version10(tmp_path)
    teams = migrations.MIGRATIONS[10]

    def breaking(conn: Connection) -> None:
        teams(conn)
        conn.exec_driver_sql(
            "INSERT INTO subscriptions (user_id, feed_id, created_at) VALUES (1, 999, '2024-01-01')"
        )

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS[:10], breaking])
    with pytest.raises(StoreError, match="migration 11 broke a foreign key of subscriptions"):
        open_store(url)
    raw = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        assert raw.execute("SELECT version FROM schema_version").fetchone() == (10,)
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        columns = {r[1] for r in raw.execute("PRAGMA table_info(categories)")}
        assert "subscriptions" not in tables and "categories__new" not in tables
        assert columns == {"id", "title"}
        assert raw.execute("SELECT count(*) FROM entry_tags WHERE tag LIKE 'Label:%'").fetchone()[0]
    finally:
        raw.close()
    monkeypatch.undo()
    store = open_store(url)
    try:
        assert store.users.list_users()[0].username == "alice"
    finally:
        store.close()

"""Numbered schema migrations, tracked in ``schema_version``, applied automatically at start,
one transaction each. Add a migration by appending a function to ``MIGRATIONS``; never edit a
released one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    Table,
    case,
    inspect,
    select,
    update,
)

import newsdesk.store.schema as schema
from newsdesk.errors import StoreError
from newsdesk.store.search import (
    SEARCH_AUTOMERGE,
    accent_insensitive_search,
    create_search,
    queue_search,
)
from newsdesk.store.throttle import create_throttle_table

_version_meta = MetaData()
schema_version = Table("schema_version", _version_meta, Column("version", Integer, nullable=False))


def _m001_core(conn: Connection) -> None:
    schema.metadata.create_all(conn, tables=list(schema.CORE_TABLES))
    create_search(conn)


def _m002_web(conn: Connection) -> None:
    schema.metadata.create_all(conn, tables=list(schema.WEB_TABLES))
    # Category pages and the sidebar's feed counts look feeds up by category; without it
    # SQLite builds a temporary index on every such query.
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_feeds_category ON feeds (category_id)")


def _m003_api_tokens(conn: Connection) -> None:
    """API keys (issue 4), and an index the reader APIs count with on every sync (unread and
    starred per feed, unread ids): the counts read the index instead of every entry row."""
    schema.metadata.create_all(conn, tables=list(schema.API_TABLES))
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_entries_feed_state "
        "ON entries (feed_id, read, starred, published)"
    )


def _m004_scheduler(conn: Connection) -> None:
    """Always-on refresh (issue 5): an index for the due-feeds query the scheduler and the beat
    run every tick; on PostgreSQL, accent-insensitive search like SQLite's FTS5."""
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_feeds_due ON feeds (paused, next_check)")
    accent_insensitive_search(conn)


def _m005_intel(conn: Connection) -> None:
    """Stories, entities, timelines and watchlists (issue 7)."""
    schema.metadata.create_all(conn, tables=list(schema.INTEL_TABLES))


def _m006_login_throttle(conn: Connection) -> None:
    """The failed-login budget per client address and per account (issue 12), in the database
    so every process of a deployment shares it."""
    create_throttle_table(conn)


def _m007_plain_text_and_fever(conn: Connection) -> None:
    """Security hardening (issue 12): titles, authors, feed, category and tag names stored with
    markup in them are made plain text, as ingest now makes them; and the clear Fever key
    (md5 of name and password: a copy of the database logged into Fever with it, and it cracks
    at md5 speed) is dropped. Fever is off until the user turns it on again, which needs the
    password (``newsdesk user fever on``, or the Account page)."""
    from newsdesk.store.cleanup import clean_plain_text  # the sanitizer, for this one migration

    clean_plain_text(conn)
    columns = {c["name"] for c in inspect(conn).get_columns("users")}
    if "fever_verifier" not in columns:
        conn.exec_driver_sql("ALTER TABLE users ADD COLUMN fever_verifier VARCHAR(64)")
    if "fever_key" in columns:
        conn.exec_driver_sql("ALTER TABLE users DROP COLUMN fever_key")


def _m008_icons(conn: Connection) -> None:
    """Site icons (issue 14): one row per site, fetched during refresh; feeds point at theirs."""
    schema.metadata.create_all(conn, tables=list(schema.ICON_TABLES))
    columns = {c["name"] for c in inspect(conn).get_columns("feeds")}
    if "icon_id" not in columns:
        conn.exec_driver_sql("ALTER TABLE feeds ADD COLUMN icon_id INTEGER")


def _m009_changed_at(conn: Connection) -> None:
    """``entries.changed_at`` (issue 14): when an entry last changed, its content or its state,
    for the reader APIs' incremental sync (Miniflux's ``changed_after``). Existing entries get
    the latest of when they were first seen, read and starred."""
    columns = {c["name"] for c in inspect(conn).get_columns("entries")}
    if "changed_at" not in columns:
        kind = schema.entries.c.changed_at.type.compile(dialect=conn.dialect)
        conn.exec_driver_sql(f"ALTER TABLE entries ADD COLUMN changed_at {kind}")
    entries = schema.entries
    latest: Any = entries.c.first_seen
    for moment in (entries.c.read_at, entries.c.starred_at):
        latest = case((moment > latest, moment), else_=latest)
    conn.execute(update(entries).where(entries.c.changed_at.is_(None)).values(changed_at=latest))
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_entries_changed ON entries (changed_at)")


def _m010_unread_index(conn: Connection) -> None:
    """The unread river (issue 17): a partial index of unread entries by publication, so a
    page of unread entries is read from it even when nearly every entry is read (the river
    walked the whole publication index then: 20 ms on 300,000 entries, all of it when none
    is unread). Migration 11 drops it: read state is per person since."""
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_entries_unread ON entries (published, id) WHERE NOT read"
    )


def _m011_teams(conn: Connection) -> None:
    """Teams (issue 15): several people on one desk. See ``store.teams_migration``."""
    from newsdesk.store.teams_migration import migrate_to_teams

    migrate_to_teams(conn)


def _m012_curation(conn: Connection) -> None:
    """Rules, retention and per-feed control (issue 16). See ``store.curation_migration``."""
    from newsdesk.store.curation_migration import migrate_curation

    migrate_curation(conn)


def _m013_search_merges(conn: Connection) -> None:
    """SQLite's search index merges 16 of its segments at a time, not 4 (FTS5's
    ``automerge``; issue 17). Each commit adds a segment, and with 4 every entry's terms were
    written again at each of about eight levels; with 16, at about four. The first refresh of
    10,000 feeds spent about a third less in the index; searches read as fast."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "INSERT INTO entries_fts(entries_fts, rank) VALUES ('automerge', ?)",
            (SEARCH_AUTOMERGE,),
        )


def _m014_search_queue(conn: Connection) -> None:
    """SQLite: a big refresh may queue its new entries for the search index, indexed in bulk
    after it (``search.queue_search``; issue 17): the queue, the switch, and the triggers that
    keep an entry in the index or in the queue."""
    queue_search(conn)


MIGRATIONS: list[Callable[[Connection], None]] = [
    _m001_core,
    _m002_web,
    _m003_api_tokens,
    _m004_scheduler,
    _m005_intel,
    _m006_login_throttle,
    _m007_plain_text_and_fever,
    _m008_icons,
    _m009_changed_at,
    _m010_unread_index,
    _m011_teams,
    _m012_curation,
    _m013_search_merges,
    _m014_search_queue,
]
# Migrations that rebuild SQLite tables (to change a unique constraint): run with SQLite's
# foreign keys off, as its documentation asks, and checked before they commit.
REBUILDS = {11, 12}


def current_version(conn: Connection) -> int:
    _version_meta.create_all(conn)
    version = conn.execute(select(schema_version.c.version)).scalar()
    return int(version or 0)


def _broken_keys(conn: Connection) -> set[tuple[Any, ...]]:
    """SQLite's foreign-key violations (table, rowid, parent, key). A database may hold some
    from before (rows written with the keys off, by another tool): a rebuild must add none, and
    is not refused for those."""
    return {tuple(row) for row in conn.exec_driver_sql("PRAGMA foreign_key_check")}


def migrate(engine: Engine) -> int:
    """Apply the migrations not yet applied; return the schema version."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # One migrator at a time when several processes start together.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7405123)")
        version = current_version(conn)
        if version == 0:
            conn.execute(schema_version.insert().values(version=0))
    for number, migration in enumerate(MIGRATIONS, start=1):
        if number <= version:
            continue
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            keys_off = sqlite and number in REBUILDS
            if keys_off:  # outside a transaction, where SQLite applies it
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            try:
                with conn.begin():
                    if not sqlite:
                        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7405123)")
                        if current_version(conn) >= number:
                            continue
                    broken = _broken_keys(conn) if keys_off else set()
                    migration(conn)
                    if keys_off and (new := _broken_keys(conn) - broken):
                        table = sorted(new)[0][0]
                        raise StoreError(f"migration {number} broke a foreign key of {table}")
                    conn.execute(schema_version.update().values(version=number))
            finally:
                if keys_off:
                    conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
        version = number
    return version

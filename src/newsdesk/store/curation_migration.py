"""Migration 12 (issue 16): rules, retention and per-feed control.

- ``rules``, ``entry_filings`` (entries a rule filed under a category) and ``removed_entries``
  (what retention removed, so a fetch does not bring it back) are new tables.
- ``entry_states.hidden``: an entry one of the person's rules blocked (and its partial index,
  ``ix_entry_states_hidden``, through which every person-facing query leaves those out).
- ``users.retention`` and ``subscriptions.retention``: a person's retention, by default and per
  feed (JSON; NULL keeps everything).
- ``feeds.fetch_options`` and ``feeds.fetch_secret`` (encrypted): per-feed control; and
  ``feeds.owner_key``, so that a URL fetched with someone's credentials is their private feed,
  beside the public one: the feed's URL is unique with it instead of alone. SQLite cannot drop a
  unique constraint, so ``feeds`` is rebuilt there (with foreign keys off, as migration 11 did).
- ``ix_alerts_entry``: alerts by entry, for the cascade when retention removes entries.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect

import newsdesk.store.schema as schema
from newsdesk.store.teams_migration import rebuild_sqlite_table

_COLUMNS: dict[str, dict[str, str | None]] = {
    "entry_states": {"hidden": "BOOLEAN NOT NULL DEFAULT false", "hidden_by": "INTEGER"},
    "users": {"retention": None},
    "subscriptions": {"retention": None},
    "feeds": {"fetch_options": None, "fetch_secret": "TEXT"},
}
# Indexes of ``feeds`` made by earlier migrations' own SQL, which a rebuild drops.
_FEED_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_feeds_category ON feeds (category_id)",
    "CREATE INDEX IF NOT EXISTS ix_feeds_due ON feeds (paused, next_check)",
)


def _columns(conn: Connection, table: str) -> set[str]:
    return {c["name"] for c in inspect(conn).get_columns(table)}


def _add_columns(conn: Connection) -> None:
    for table, wanted in _COLUMNS.items():
        present = _columns(conn, table)
        for name, ddl in wanted.items():
            if name in present:
                continue
            if ddl is None:
                ddl = schema.metadata.tables[table].c[name].type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}")


def _feed_owner_key(conn: Connection) -> None:
    if "owner_key" in _columns(conn, "feeds"):
        return  # a database made by this version
    if conn.dialect.name == "sqlite":
        rebuild_sqlite_table(conn, schema.feeds)
        for ddl in _FEED_INDEXES:
            conn.exec_driver_sql(ddl)
        return
    conn.exec_driver_sql("ALTER TABLE feeds ADD COLUMN owner_key INTEGER NOT NULL DEFAULT 0")
    conn.exec_driver_sql("ALTER TABLE feeds DROP CONSTRAINT IF EXISTS feeds_url_key")
    conn.exec_driver_sql(
        "ALTER TABLE feeds ADD CONSTRAINT uq_feeds_url_owner UNIQUE (url, owner_key)"
    )


def migrate_curation(conn: Connection) -> None:
    schema.metadata.create_all(conn, tables=list(schema.CURATION_TABLES))
    _add_columns(conn)
    _feed_owner_key(conn)
    # the blocked entries' partial index (a database made by this version has it already)
    schema.HIDDEN_STATES.create(conn, checkfirst=True)
    # Retention deletes entries: their alerts go by cascade, found through this index.
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_alerts_entry ON alerts (entry_id)")

"""Migration 11 (issue 15): a single-user desk becomes a desk of people, nothing lost.

- Every existing account becomes an admin; the first one (or, on a desk that had none, a new
  ``admin`` with no password yet) owns everything that was there.
- Categories, saved searches, API keys and watchlists gain an owner; their names become unique
  per person (on SQLite the tables are rebuilt, foreign keys off, as SQLite's documentation
  asks; on PostgreSQL the constraints are swapped).
- Each feed becomes the owner's subscription (with its custom title and category); read and
  starred flags become the owner's entry states; user labels (``Label:`` tags) become the owner's
  labels.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Integer, Table, func, insert, inspect, literal, select, update
from sqlalchemy.schema import CreateTable

import newsdesk.store.schema as schema

OWNER_NAME = "admin"  # store.users.DEFAULT_USERNAME (not imported: users imports argon2)

# Tables whose names were unique for the whole desk and are now unique per person.
_OWNED = (
    (schema.categories, "title", False),
    (schema.saved_searches, "name", True),
    (schema.api_tokens, "name", True),
    (schema.watchlists, "name", True),
)
# NOT NULL columns are added with a default, as SQLite requires (and a database made new has
# them NOT NULL: a migrated one must not accept what a new one refuses).
_USER_COLUMNS = {
    "role": "VARCHAR(16) NOT NULL DEFAULT 'member'",
    "last_login_at": None,  # the dialect's type of the column
    "totp_secret": "TEXT",
    "recovery_codes": "JSON NOT NULL DEFAULT '[]'",
    "preferences": "JSON NOT NULL DEFAULT '{}'",
}


def migrate_to_teams(conn: Connection) -> None:
    _add_user_columns(conn)
    owner = _owner(conn)
    for table, unique, references_users in _OWNED:
        if "user_id" not in _columns(conn, table.name):
            if conn.dialect.name == "sqlite":
                rebuild_sqlite_table(conn, table)
            else:
                _own_postgresql(conn, table, unique, references_users)
        conn.execute(update(table).where(table.c.user_id.is_(None)).values(user_id=owner))
    schema.metadata.create_all(conn, tables=list(schema.TEAM_TABLES))
    _subscriptions(conn, owner)
    _states(conn, owner)
    _labels(conn, owner)
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_entries_unread")
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_entries_feed_state")


def _columns(conn: Connection, table: str) -> set[str]:
    return {c["name"] for c in inspect(conn).get_columns(table)}


def _add_user_columns(conn: Connection) -> None:
    present = _columns(conn, "users")
    for name, ddl in _USER_COLUMNS.items():
        if name in present:
            continue
        if ddl is None:
            ddl = schema.users.c[name].type.compile(dialect=conn.dialect)
        conn.exec_driver_sql(f"ALTER TABLE users ADD COLUMN {name} {ddl}")
    users = schema.users
    conn.execute(update(users).where(users.c.recovery_codes.is_(None)).values(recovery_codes=[]))
    conn.execute(update(users).where(users.c.preferences.is_(None)).values(preferences={}))


def _owner(conn: Connection) -> int:
    """Every account there was could do everything: each stays an admin. The first owns the
    data; a desk with none gets its admin now (no password until one is set)."""
    users = schema.users
    conn.execute(update(users).values(role="admin"))
    first = conn.execute(select(users.c.id).order_by(users.c.id).limit(1)).scalar()
    if first is not None:
        return int(first)
    result = conn.execute(
        insert(users).values(
            username=OWNER_NAME,
            password_hash="",
            created_at=datetime.now(UTC),
            role="admin",
            recovery_codes=[],
            preferences={},
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def rebuild_sqlite_table(conn: Connection, table: Table) -> None:
    """SQLite cannot drop a unique constraint: make the table anew, copy, swap."""
    old = _columns(conn, table.name)
    temporary = f"{table.name}__new"
    ddl = str(CreateTable(table).compile(dialect=conn.dialect))
    conn.exec_driver_sql(
        ddl.replace(f"CREATE TABLE {table.name} ", f"CREATE TABLE {temporary} ", 1)
    )
    kept = ", ".join(c.name for c in table.columns if c.name in old)
    conn.exec_driver_sql(f"INSERT INTO {temporary} ({kept}) SELECT {kept} FROM {table.name}")
    conn.exec_driver_sql(f"DROP TABLE {table.name}")
    conn.exec_driver_sql(f"ALTER TABLE {temporary} RENAME TO {table.name}")
    for index in table.indexes:
        index.create(conn)


def _own_postgresql(conn: Connection, table: Table, unique: str, references_users: bool) -> None:
    reference = " REFERENCES users (id) ON DELETE CASCADE" if references_users else ""
    conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN user_id INTEGER{reference}")
    conn.exec_driver_sql(
        f"ALTER TABLE {table.name} DROP CONSTRAINT IF EXISTS {table.name}_{unique}_key"
    )
    conn.exec_driver_sql(
        f"ALTER TABLE {table.name} ADD CONSTRAINT uq_{table.name}_user_{unique} "
        f"UNIQUE (user_id, {unique})"
    )


def _subscriptions(conn: Connection, owner: int) -> None:
    feeds, subscriptions = schema.feeds, schema.subscriptions
    followed = select(subscriptions.c.feed_id)
    conn.execute(
        insert(subscriptions).from_select(
            ["user_id", "feed_id", "title", "category_id", "created_at"],
            select(
                _literal(owner),
                feeds.c.id,
                feeds.c.custom_title,
                feeds.c.category_id,
                feeds.c.created_at,
            ).where(feeds.c.id.not_in(followed)),
        )
    )
    conn.execute(update(feeds).values(custom_title=None, category_id=None))


def _states(conn: Connection, owner: int) -> None:
    entries, states = schema.entries, schema.entry_states
    conn.execute(
        insert(states).from_select(
            [
                "user_id",
                "entry_id",
                "feed_id",
                "read",
                "starred",
                "read_at",
                "starred_at",
                "changed_at",
            ],
            select(
                _literal(owner),
                entries.c.id,
                entries.c.feed_id,
                entries.c.read,
                entries.c.starred,
                entries.c.read_at,
                entries.c.starred_at,
                func.coalesce(entries.c.changed_at, entries.c.first_seen),
            ).where((entries.c.read.is_(True)) | (entries.c.starred.is_(True))),
        )
    )


def _labels(conn: Connection, owner: int) -> None:
    tags, labels = schema.entry_tags, schema.entry_labels
    prefix = schema.USER_LABEL
    is_label = func.substr(tags.c.tag, 1, len(prefix)) == prefix
    conn.execute(
        insert(labels).from_select(
            ["user_id", "entry_id", "label"],
            select(_literal(owner), tags.c.entry_id, func.substr(tags.c.tag, len(prefix) + 1))
            .where(is_label)
            .distinct(),
        )
    )
    conn.execute(tags.delete().where(is_label))


def _literal(value: int) -> Any:
    return literal(value, Integer)

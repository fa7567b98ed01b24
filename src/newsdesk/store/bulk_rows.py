"""The refresh writer's bulk statements: plain SQL written once per dialect and run with the
driver's executemany on rows that are tuples (no statement built, compiled or bound value
processed per feed or per row by SQLAlchemy). The rows' derived values (canonical URLs, JSON
texts, link and tag rows) come made with the entries (``process.pipeline.StoredForm``), usually
from a parse worker process; the writer adds ids and dates.

Everything here runs inside the caller's transaction: a batch stands or falls whole."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, func
from sqlalchemy.engine import Dialect

import newsdesk.store.bulk_pg as bulk_pg
from newsdesk.model import Entry
from newsdesk.process.pipeline import StoredForm, stored_form
from newsdesk.store.schema import USER_LABEL, UTCDateTime, entry_links, entry_tags
from newsdesk.store.search import queued_inserts
from newsdesk.util import chunks

# The columns a new entry is written with, in the order of ``entry_row``; the others (full
# text error, page, read/starred times, story) start empty.
ENTRY_COLUMNS = (
    "feed_id",
    "key",
    "kind",
    "published",
    "first_seen",
    "changed_at",
    "reposted_by",
    "reply_to",
    "language",
    "read",
    "starred",
    "title",
    "author",
    "url",
    "url_canonical",
    "updated",
    "content_html",
    "content_text",
    "summary_html",
    "content_hash",
    "tags",
    "links",
    "enclosures",
    "wants_fulltext",
    "fulltext_status",
)
_JSON_COLUMNS = frozenset({"tags", "links", "enclosures"})
# Rows per INSERT on SQLite (and within its limit of bound variables per statement).
ROWS_PER_INSERT = 1000
# Rows of (feed_id, key) looked up per statement: two parameters each, far below SQLite's and
# PostgreSQL's limits.
PAIRS_PER_QUERY = 250
# New entries of one feed looked up per statement, by content hash and by key (tombstones):
# two parameters each, within even an old SQLite's 999 bound variables.
KEYS_PER_QUERY = 400


class Existing(NamedTuple):
    """What an upsert needs to know of an entry already stored under the same key."""

    id: int
    content_hash: str
    url_canonical: str | None
    fulltext_status: str | None


@dataclass(frozen=True, slots=True)
class Statements:
    """One dialect's SQL for the bulk writer, made once per dialect."""

    sqlite: bool
    mark: str  # the driver's placeholder: ? (sqlite3) or %s (psycopg)
    insert_entry: str
    # SQLite: most bound variables in one statement (0 on PostgreSQL)
    variable_limit: int
    insert_link: str
    insert_tag: str
    # a date as the dialect stores it (SQLAlchemy's own bind processing, once per value)
    datetime: Callable[[datetime | None], Any]

    def marks(self, count: int) -> str:
        return ", ".join([self.mark] * count)


_STATEMENTS: dict[tuple[str, str], Statements] = {}


def statements(dialect: Dialect) -> Statements:
    key = (dialect.name, dialect.driver)
    if key not in _STATEMENTS:
        _STATEMENTS[key] = _make_statements(dialect)
    return _STATEMENTS[key]


def _make_statements(dialect: Dialect) -> Statements:
    sqlite = dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    json_mark = mark if sqlite else f"CAST({mark} AS JSON)"
    values = ", ".join(json_mark if c in _JSON_COLUMNS else mark for c in ENTRY_COLUMNS)
    columns = ", ".join(f'"{c}"' for c in ENTRY_COLUMNS)
    processor = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    if sqlite:
        processor = _sqlite_datetime  # the same text, made without SQLAlchemy's two steps
    variable_limit = 0
    if sqlite:
        with sqlite3.connect(":memory:") as probe:
            variable_limit = probe.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return Statements(
        sqlite=sqlite,
        mark=mark,
        insert_entry=f"INSERT INTO entries ({columns}) VALUES ({values})",
        variable_limit=variable_limit,
        insert_link=(
            f"INSERT INTO entry_links (entry_id, url, position) VALUES ({mark}, {mark}, {mark})"
        ),
        insert_tag=f"INSERT INTO entry_tags (entry_id, tag) VALUES ({mark}, {mark})",
        datetime=processor if processor is not None else (lambda value: value),
    )


def _sqlite_datetime(value: datetime | None) -> str | None:
    """A date as SQLAlchemy writes a ``UTCDateTime`` to SQLite: naive UTC, microseconds always
    (``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def forms_of(batch: Sequence[Entry]) -> list[StoredForm]:
    """The stored forms that came with the entries, else made here."""
    forms: list[StoredForm] | None = getattr(batch, "forms", None)
    if forms is not None and len(forms) == len(batch):
        return forms
    return [stored_form(e) for e in batch]


class Plan(NamedTuple):
    """What one feed's refresh writes: new entries, edited ones (with their ids), and what is
    stored of the edited ones."""

    feed_id: int
    fresh: list[tuple[Entry, StoredForm]]
    changed: list[tuple[int, Entry, StoredForm]]
    existing: dict[str, Existing]


def feeds_holding(conn: Connection, sql: Statements, feed_ids: Sequence[int]) -> set[int]:
    """The feeds among ``feed_ids`` that hold an entry or a tombstone: for the others (a first
    refresh) every entry is new, with no lookup."""
    found: set[int] = set()
    for chunk in chunks(feed_ids):
        rows = conn.exec_driver_sql(
            f"SELECT id FROM feeds WHERE id IN ({sql.marks(len(chunk))}) AND ("
            "EXISTS (SELECT 1 FROM entries WHERE entries.feed_id = feeds.id) OR "
            "EXISTS (SELECT 1 FROM removed_entries WHERE removed_entries.feed_id = feeds.id))",
            tuple(chunk),
        ).fetchall()
        found.update(r[0] for r in rows)
    return found


def plan(
    conn: Connection, sql: Statements, feed_id: int, batch: Sequence[Entry], *, stored: bool = True
) -> Plan:
    """Sort a feed's entries into new, edited and already stored (by key); an entry under a
    new key whose content the feed already has is a rotating GUID, not new; one retention
    removed (a tombstone in ``removed_entries``) is not new either. ``stored`` false: the feed
    holds no entry nor tombstone (``feeds_holding``), so all are new."""
    if not batch:
        return Plan(feed_id, [], [], {})
    forms = forms_of(batch)
    if not stored:
        return Plan(feed_id, list(zip(batch, forms, strict=True)), [], {})
    m = sql.mark
    existing: dict[str, Existing] = {}
    for keys in chunks([e.key for e in batch]):
        rows = conn.exec_driver_sql(
            'SELECT "key", id, content_hash, url_canonical, fulltext_status FROM entries '
            f'WHERE feed_id = {m} AND "key" IN ({sql.marks(len(keys))})',
            (feed_id, *keys),
        ).fetchall()
        existing.update({r[0]: Existing(r[1], r[2], r[3], r[4]) for r in rows})
    fresh = [(e, f) for e, f in zip(batch, forms, strict=True) if e.key not in existing]
    if fresh:
        fresh = _not_known(conn, sql, feed_id, fresh)
    changed = [
        (existing[e.key].id, e, f)
        for e, f in zip(batch, forms, strict=True)
        if e.key in existing and existing[e.key].content_hash != e.content_hash
    ]
    return Plan(feed_id, fresh, changed, existing)


def _not_known(
    conn: Connection, sql: Statements, feed_id: int, fresh: list[tuple[Entry, StoredForm]]
) -> list[tuple[Entry, StoredForm]]:
    """The new keys whose content the feed does not hold already and that retention did not
    remove: one statement for both (the tombstones cost the refresh no round trip)."""
    m = sql.mark
    known: set[str] = set()
    removed: set[str] = set()
    for part in chunks(fresh, KEYS_PER_QUERY):
        hashes = list({e.content_hash for e, _ in part})
        keys = [e.key for e, _ in part]
        rows = conn.exec_driver_sql(
            "SELECT 0, content_hash FROM entries "
            f"WHERE feed_id = {m} AND content_hash IN ({sql.marks(len(hashes))}) UNION ALL "
            'SELECT 1, "key" FROM removed_entries '
            f'WHERE feed_id = {m} AND "key" IN ({sql.marks(len(keys))})',
            (feed_id, *hashes, feed_id, *keys),
        ).fetchall()
        for tombstone, value in rows:
            (removed if tombstone else known).add(value)
    if not known and not removed:
        return fresh
    return [(e, f) for e, f in fresh if e.content_hash not in known and e.key not in removed]


def last_entry_id(conn: Connection, sql: Statements) -> int:
    """SQLite: the highest entry id before a write (0 on PostgreSQL, where it is not used)."""
    if not sql.sqlite:
        return 0
    return int(conn.exec_driver_sql("SELECT max(id) FROM entries").scalar() or 0)


def insert_entries(
    conn: Connection,
    sql: Statements,
    fresh: Sequence[tuple[int, Entry, StoredForm]],
    now: datetime,
    last_id: int,
    *,
    index_later: bool = False,
) -> dict[tuple[int, str], int]:
    """Insert new entries and return their ids by (feed_id, key); with ``index_later``, SQLite
    queues them for the search index (``search.queued_inserts``)."""
    first_seen = sql.datetime(now)
    rows = [entry_row(sql, fid, e, f, first_seen) for fid, e, f in fresh]
    if not sql.sqlite:  # one COPY, the ids drawn beforehand (store.bulk_pg)
        return bulk_pg.insert_entries(conn, sql.insert_entry, rows)
    with queued_inserts(conn, later=index_later):
        insert_rows(conn, sql, sql.insert_entry, rows)
    return new_ids(conn, sql, last_id, [(feed_id, e.key) for feed_id, e, _ in fresh])


def insert_rows(
    conn: Connection, sql: Statements, statement: str, rows: Sequence[tuple[Any, ...]]
) -> None:
    """``statement`` (an INSERT of one row) for every row. PostgreSQL: one COPY (``bulk_pg``).
    SQLite: many rows per INSERT … VALUES (…), (…), because each statement of a transaction
    that touched the search index makes FTS5 write its pending terms out (at the statement's
    savepoint): row by row, that is a segment per entry, merged over and over, and the index
    costs seven times what it costs written in big statements."""
    if not rows:
        return
    if not sql.sqlite:
        bulk_pg.copy_rows(conn, statement, rows)
        return
    head, one = statement.split(" VALUES ")
    per_statement = max(1, min(ROWS_PER_INSERT, sql.variable_limit // len(rows[0])))
    for chunk in chunks(rows, per_statement):
        conn.exec_driver_sql(
            f"{head} VALUES {', '.join([one] * len(chunk))}",
            tuple(chain.from_iterable(chunk)),
        )


def entry_row(sql: Statements, feed_id: int, e: Entry, f: StoredForm, now: Any) -> tuple[Any, ...]:
    """A new entry's values in the order of ``ENTRY_COLUMNS``."""
    return (
        feed_id,
        e.key,
        e.kind,
        sql.datetime(e.published),
        now,
        now,
        e.reposted_by,
        e.reply_to,
        e.language,
        False,
        False,
        e.title,
        e.author,
        e.url,
        f.url_canonical,
        sql.datetime(e.updated) if e.updated is not None else None,
        e.content_html,
        e.content_text,
        e.summary_html,
        e.content_hash,
        f.tags_json,
        f.links_json,
        f.enclosures_json,
        e.wants_fulltext,
        "pending" if e.wants_fulltext else None,
    )


def new_ids(
    conn: Connection, sql: Statements, last_id: int, pairs: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], int]:
    """The ids of rows just inserted, by (feed_id, key). SQLite: one query for every row above
    the highest id before the insert (the write lock is held since BEGIN IMMEDIATE, so they are
    all ours); any pair not found that way (and every pair on PostgreSQL) by key."""
    ids: dict[tuple[int, str], int] = {}
    if sql.sqlite:
        rows = conn.exec_driver_sql(
            'SELECT feed_id, "key", id FROM entries WHERE id > ?', (last_id,)
        ).fetchall()
        ids = {(r[0], r[1]): r[2] for r in rows}
    missing = [pair for pair in pairs if pair not in ids]
    for chunk in chunks(missing, PAIRS_PER_QUERY):
        values = ", ".join([f"({sql.mark}, {sql.mark})"] * len(chunk))
        rows = conn.exec_driver_sql(
            f'SELECT feed_id, "key", id FROM entries WHERE (feed_id, "key") IN (VALUES {values})',
            tuple(v for pair in chunk for v in pair),
        ).fetchall()
        ids.update({(r[0], r[1]): r[2] for r in rows})
    return ids


def write_links_and_tags(
    conn: Connection, sql: Statements, pairs: Sequence[tuple[int, StoredForm]]
) -> None:
    """The link and tag rows of entries, in bulk."""
    links = [(entry_id, url, position) for entry_id, f in pairs for url, position in f.link_rows]
    tags = [(entry_id, tag) for entry_id, f in pairs for tag in f.tag_rows]
    insert_rows(conn, sql, sql.insert_link, links)
    insert_rows(conn, sql, sql.insert_tag, tags)


def write_new_links_and_tags(
    conn: Connection, sql: Statements, last_id: int, pairs: Sequence[tuple[int, StoredForm]]
) -> None:
    """The link and tag rows of the entries just inserted. SQLite: read from the JSON of their
    ``links`` and ``tags`` columns (written from the same stored forms) in two statements
    over the rows above ``last_id``, no row made or bound in Python; elsewhere as
    ``write_links_and_tags``."""
    if not sql.sqlite:
        write_links_and_tags(conn, sql, pairs)
        return
    conn.exec_driver_sql(
        "INSERT INTO entry_links (entry_id, url, position) "
        "SELECT e.id, j.value, min(j.key) FROM entries AS e, json_each(e.links) AS j "
        "WHERE e.id > ? GROUP BY e.id, j.value",
        (last_id,),
    )
    conn.exec_driver_sql(
        "INSERT INTO entry_tags (entry_id, tag) "
        "SELECT DISTINCT e.id, substr(j.value, 1, 100) FROM entries AS e, json_each(e.tags) AS j "
        "WHERE e.id > ?",
        (last_id,),
    )


def delete_links_and_tags(conn: Connection, ids: Sequence[int]) -> None:
    """Before an edited entry's links and tags are written again. The feed's tags are
    rewritten; the reader's own labels stay (store.labels)."""
    for chunk in chunks(ids):
        conn.execute(delete(entry_links).where(entry_links.c.entry_id.in_(chunk)))
        conn.execute(
            delete(entry_tags).where(
                entry_tags.c.entry_id.in_(chunk),
                func.substr(entry_tags.c.tag, 1, len(USER_LABEL)) != USER_LABEL,
            )
        )

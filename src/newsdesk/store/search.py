"""Full-text search: the only SQL here that differs per database.

SQLite: an FTS5 table kept in step with ``entries`` by triggers, so the index changes in the
same transaction as the rows. PostgreSQL: a weighted tsvector column with a GIN index.

SQLite, a big refresh: its writer may queue its new entries instead (``queued_inserts``):
their ids go to ``entries_fts_queue`` and ``index_queued`` indexes them later, in bulk (at the
refresh's end, or in the background job for a first import). The triggers keep the invariant
"an entry is in the index or in the queue, never both"; searches read the index as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.exc import DBAPIError

# Segments of the SQLite search index merged at a time (FTS5's automerge; migration 13).
SEARCH_AUTOMERGE = 16
_WORD = re.compile(r"[\w][\w'’-]*", re.UNICODE)
# Letters and digits: "_" is \w to Python but a separator to both indexes, so "foo_bar" kept
# whole would become a phrase, which FTS5 with detail=none refuses.
_TERM = re.compile(r"[^\W_]+", re.UNICODE)
# Queued entries indexed per transaction by ``index_queued`` (about 0.15 s of work each).
INDEX_CHUNK = 5000


def create_search(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        # External content: the index reads text from `entries` instead of keeping a copy (a
        # third of the database). No positions (detail=none): half the indexing cost; bm25,
        # snippets and prefix queries still work, phrase queries do not.
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE IF NOT EXISTS entries_fts USING fts5("
            "title, author, content_text, content='entries', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2', detail=none)"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER IF NOT EXISTS entries_fts_insert AFTER INSERT ON entries BEGIN "
            "INSERT INTO entries_fts(rowid, title, author, content_text) "
            "VALUES (new.id, new.title, new.author, new.content_text); END"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER IF NOT EXISTS entries_fts_delete AFTER DELETE ON entries BEGIN "
            "INSERT INTO entries_fts(entries_fts, rowid, title, author, content_text) "
            "VALUES ('delete', old.id, old.title, old.author, old.content_text); END"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER IF NOT EXISTS entries_fts_update AFTER UPDATE OF title, author, "
            "content_text ON entries BEGIN "
            "INSERT INTO entries_fts(entries_fts, rowid, title, author, content_text) "
            "VALUES ('delete', old.id, old.title, old.author, old.content_text); "
            "INSERT INTO entries_fts(rowid, title, author, content_text) "
            "VALUES (new.id, new.title, new.author, new.content_text); END"
        )
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "ALTER TABLE entries ADD COLUMN IF NOT EXISTS search_vector tsvector "
            "GENERATED ALWAYS AS ("
            "setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('simple', coalesce(author, '')), 'B') || "
            "setweight(to_tsvector('simple', coalesce(content_text, '')), 'C')) STORED"
        )
        conn.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS ix_entries_search ON entries USING GIN (search_vector)"
        )


def queue_search(conn: Connection) -> None:
    """SQLite (migration 14): the queue of entries waiting for the index, and the triggers that
    keep each entry in exactly one of the two.

    ``entries_fts_switch`` holds one row: ``later`` is 1 only inside a writer's transaction,
    around its INSERT of new entries (``queued_inserts``); every other insert, by anyone,
    indexes at once. An entry deleted or edited while queued changes the queue, never the
    index (FTS5's external-content "delete" must only ever see rows it indexed)."""
    if conn.dialect.name != "sqlite":
        return
    conn.exec_driver_sql(
        "CREATE TABLE IF NOT EXISTS entries_fts_queue (entry_id INTEGER PRIMARY KEY)"
    )
    conn.exec_driver_sql(
        "CREATE TABLE IF NOT EXISTS entries_fts_switch (later INTEGER NOT NULL DEFAULT 0)"
    )
    conn.exec_driver_sql(
        "INSERT INTO entries_fts_switch (later) SELECT 0 "
        "WHERE NOT EXISTS (SELECT 1 FROM entries_fts_switch)"
    )
    for name in ("insert", "queue_insert", "delete", "update"):  # (run again: the same)
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS entries_fts_{name}")
    later = "(SELECT later FROM entries_fts_switch)"
    queued = "EXISTS (SELECT 1 FROM entries_fts_queue WHERE entry_id = old.id)"
    conn.exec_driver_sql(
        f"CREATE TRIGGER entries_fts_insert AFTER INSERT ON entries WHEN {later} IS NOT 1 "
        "BEGIN INSERT INTO entries_fts(rowid, title, author, content_text) "
        "VALUES (new.id, new.title, new.author, new.content_text); END"
    )
    conn.exec_driver_sql(
        f"CREATE TRIGGER entries_fts_queue_insert AFTER INSERT ON entries WHEN {later} IS 1 "
        "BEGIN INSERT INTO entries_fts_queue (entry_id) VALUES (new.id); END"
    )
    conn.exec_driver_sql(
        "CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries BEGIN "
        "INSERT INTO entries_fts(entries_fts, rowid, title, author, content_text) "
        f"SELECT 'delete', old.id, old.title, old.author, old.content_text WHERE NOT {queued}; "
        "DELETE FROM entries_fts_queue WHERE entry_id = old.id; END"
    )
    conn.exec_driver_sql(
        "CREATE TRIGGER entries_fts_update AFTER UPDATE OF title, author, content_text "
        f"ON entries WHEN NOT {queued} BEGIN "
        "INSERT INTO entries_fts(entries_fts, rowid, title, author, content_text) "
        "VALUES ('delete', old.id, old.title, old.author, old.content_text); "
        "INSERT INTO entries_fts(rowid, title, author, content_text) "
        "VALUES (new.id, new.title, new.author, new.content_text); END"
    )


@contextmanager
def queued_inserts(conn: Connection, *, later: bool) -> Iterator[None]:
    """Inside a write transaction: the entries inserted in the block are queued for the index
    (SQLite, ``later``) instead of indexed row by row. The switch is set and reset in the same
    transaction, so no other connection ever sees it set."""
    if not later or conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql("UPDATE entries_fts_switch SET later = 1")
    try:
        yield
    finally:
        conn.exec_driver_sql("UPDATE entries_fts_switch SET later = 0")


def queued_count(conn: Connection) -> int:
    """Entries waiting for the index (0 on PostgreSQL, which indexes as it writes)."""
    if conn.dialect.name != "sqlite":
        return 0
    return int(conn.exec_driver_sql("SELECT count(*) FROM entries_fts_queue").scalar() or 0)


def index_queued(engine: Engine, *, from_id: int = 0) -> int:
    """Index the queued entries with ids from ``from_id`` on, ``INDEX_CHUNK`` a transaction
    (each statement indexes a whole chunk: FTS5 writes one segment for it); how many."""
    if engine.dialect.name != "sqlite":
        return 0
    from newsdesk.store.engine import write_transaction

    done = 0
    while True:
        with write_transaction(engine) as conn:
            upto = conn.exec_driver_sql(
                "SELECT max(entry_id) FROM (SELECT entry_id FROM entries_fts_queue "
                "WHERE entry_id >= ? ORDER BY entry_id LIMIT ?)",
                (from_id, INDEX_CHUNK),
            ).scalar()
            if upto is None:
                return done
            span = (from_id, upto)
            conn.exec_driver_sql(
                "INSERT INTO entries_fts(rowid, title, author, content_text) "
                "SELECT e.id, e.title, e.author, e.content_text FROM entries_fts_queue q "
                "JOIN entries e ON e.id = q.entry_id WHERE q.entry_id BETWEEN ? AND ?",
                span,
            )
            done += conn.exec_driver_sql(
                "DELETE FROM entries_fts_queue WHERE entry_id BETWEEN ? AND ?", span
            ).rowcount
        from_id = upto + 1


def accent_insensitive_search(conn: Connection) -> None:
    """PostgreSQL: rebuild the search column through ``newsdesk_unaccent`` so that "cafe" finds
    "Café" as FTS5's remove_diacritics does on SQLite. The function wraps the ``unaccent``
    extension when it can be installed (it is a trusted extension, PostgreSQL 13+), and is the
    identity otherwise; queries always go through it."""
    if conn.dialect.name != "postgresql":
        return
    schema_name = None
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
            schema_name = conn.exec_driver_sql(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                "ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'"
            ).scalar()
    except DBAPIError:
        schema_name = None  # no privilege or no contrib package: accents stay significant
    body = (
        f"SELECT {_quote(schema_name)}.unaccent('{schema_name}.unaccent'::regdictionary, $1)"
        if schema_name
        else "SELECT $1"
    )
    conn.exec_driver_sql(
        "CREATE OR REPLACE FUNCTION newsdesk_unaccent(text) RETURNS text "
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $fn$ {body} $fn$"
    )
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_entries_search")
    conn.exec_driver_sql("ALTER TABLE entries DROP COLUMN IF EXISTS search_vector")
    conn.exec_driver_sql(
        "ALTER TABLE entries ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('simple', newsdesk_unaccent(coalesce(title, ''))), 'A') || "
        "setweight(to_tsvector('simple', newsdesk_unaccent(coalesce(author, ''))), 'B') || "
        "setweight(to_tsvector('simple', newsdesk_unaccent(coalesce(content_text, ''))), 'C')"
        ") STORED"
    )
    conn.exec_driver_sql("CREATE INDEX ix_entries_search ON entries USING GIN (search_vector)")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def search_statement(dialect: str, match: str, source: Any, filters: list[Any]) -> Select[Any]:
    """(id, rank, snippet) of the best matches, best first; ``source`` is the entries join the
    filters refer to."""
    from newsdesk.store.schema import entries

    if dialect == "sqlite":
        fts_table = table("entries_fts", column("rowid"))
        return (
            select(
                entries.c.id,
                literal_column("bm25(entries_fts, 10.0, 2.0, 1.0)").label("rank"),
                literal_column("snippet(entries_fts, 2, '[', ']', '…', 24)").label("snippet"),
            )
            .select_from(source.join(fts_table, fts_table.c.rowid == entries.c.id))
            .where(text("entries_fts MATCH :match").bindparams(match=match), *filters)
            .order_by(literal_column("rank"))
        )
    query = func.to_tsquery("simple", func.newsdesk_unaccent(match))
    vector: Any = literal_column("entries.search_vector")
    return (
        select(
            entries.c.id,
            (-func.ts_rank_cd(vector, query)).label("rank"),
            func.ts_headline(
                "simple",
                entries.c.content_text,
                query,
                "StartSel=[, StopSel=], MaxWords=30, MinWords=10, MaxFragments=1",
            ).label("snippet"),
        )
        .select_from(source)
        .where(vector.op("@@")(query), *filters)
        .order_by(literal_column("rank"), entries.c.published.desc())
    )


def query_words(query: str) -> list[str]:
    return _WORD.findall(query)


def index_terms(query: str) -> list[str]:
    """The query cut the way both indexes cut text (runs of letters and digits), so that
    "harbour's" or "e-mail" become terms each index holds, never a phrase."""
    return _TERM.findall(query)


def fts5_match(query: str, *, prefix: bool = True) -> str:
    """A user's query as a safe FTS5 MATCH expression: every word must appear (with
    ``prefix``, the last word as a prefix), quotes and operators neutralised."""
    words = index_terms(query)
    if not words:
        return ""
    terms = ['"' + w + '"' for w in words]
    if prefix:
        terms[-1] += "*"
    return " AND ".join(terms)


def match_expression(dialect: str, query: str) -> str:
    if dialect == "sqlite":
        return fts5_match(query)
    words = index_terms(query)
    if not words:
        return ""
    words[-1] += ":*"
    return " & ".join(words)


def rebuild(conn: Connection) -> None:
    """Rebuild the index from the entries (after an import): nothing is left queued."""
    if conn.dialect.name == "sqlite":
        conn.execute(text("INSERT INTO entries_fts(entries_fts) VALUES ('rebuild')"))
        conn.exec_driver_sql("DELETE FROM entries_fts_queue")

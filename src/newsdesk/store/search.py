"""Full-text search: the only SQL here that differs per database.

SQLite: an FTS5 table kept in step with ``entries`` by triggers, so the index changes in the
same transaction as the rows. PostgreSQL: a weighted tsvector column with a GIN index.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, Select, column, func, literal_column, select, table, text

_WORD = re.compile(r"[\w][\w'’-]*", re.UNICODE)


def create_search(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE IF NOT EXISTS entries_fts USING fts5("
            "title, author, text, tokenize='unicode61 remove_diacritics 2', detail=none)"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER IF NOT EXISTS entries_fts_insert AFTER INSERT ON entries BEGIN "
            "INSERT INTO entries_fts(rowid, title, author, text) "
            "VALUES (new.id, new.title, new.author, new.content_text); END"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER IF NOT EXISTS entries_fts_delete AFTER DELETE ON entries BEGIN "
            "DELETE FROM entries_fts WHERE rowid = old.id; END"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER IF NOT EXISTS entries_fts_update AFTER UPDATE OF title, author, "
            "content_text ON entries BEGIN "
            "UPDATE entries_fts SET title = new.title, author = new.author, "
            "text = new.content_text WHERE rowid = new.id; END"
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
    query = func.to_tsquery("simple", match)
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


def fts5_match(query: str) -> str:
    """A user's query as a safe FTS5 MATCH expression: every word must appear (prefix match on
    the last word), quotes and operators neutralised."""
    words = query_words(query)
    if not words:
        return ""
    terms = ['"' + w.replace('"', '""') + '"' for w in words]
    terms[-1] += "*"
    return " AND ".join(terms)


def match_expression(dialect: str, query: str) -> str:
    if dialect == "sqlite":
        return fts5_match(query)
    words = [re.sub(r"[^\w]", "", w) for w in query_words(query)]
    words = [w for w in words if w]
    if not words:
        return ""
    words[-1] += ":*"
    return " & ".join(words)


def rebuild(conn: Connection) -> None:
    """Rebuild the index from the entries (after an import)."""
    if conn.dialect.name == "sqlite":
        conn.execute(text("DELETE FROM entries_fts"))
        conn.execute(
            text(
                "INSERT INTO entries_fts(rowid, title, author, text) "
                "SELECT id, title, author, content_text FROM entries"
            )
        )

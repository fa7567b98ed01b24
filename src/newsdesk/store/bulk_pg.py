"""The refresh writer's bulk rows on PostgreSQL: COPY instead of INSERT (no statement parsed,
bound and executed per row; the rows stream to the server in one go), and the new entries' ids
taken from their sequence beforehand, in one query, so no lookup by (feed_id, key) follows.

It runs inside the caller's transaction, on its connection: a batch stands or falls whole. A
row that breaks a constraint (a concurrent refresh stored the same (feed_id, key)) fails the
COPY with SQLAlchemy's ``IntegrityError``, as an INSERT would, and the writer writes the batch
again with a savepoint per feed (``store.sql_refresh``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


def _copy_head(statement: str) -> str:
    """``table (columns)`` of one of the writer's ``INSERT INTO table (columns) VALUES (…)``."""
    return statement.split(" VALUES ", 1)[0].removeprefix("INSERT INTO ")


def copy_rows(conn: Connection, statement: str, rows: Sequence[Sequence[Any]]) -> None:
    """The rows ``statement`` (an INSERT of one row) would write, written with one COPY."""
    if rows:
        _copy(conn, f"COPY {_copy_head(statement)} FROM STDIN", rows)


def insert_entries(
    conn: Connection, insert_entry: str, rows: Sequence[tuple[Any, ...]]
) -> dict[tuple[int, str], int]:
    """New entries (rows that start with feed_id and key, as ``bulk_rows.entry_row`` makes
    them) written with one COPY under ids drawn from the entries' sequence, in order; their
    ids by (feed_id, key)."""
    if not rows:
        return {}
    ids = sorted(
        r[0]
        for r in conn.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence('entries', 'id')) FROM generate_series(1, %s)",
            (len(rows),),
        )
    )
    table, columns = _copy_head(insert_entry).split(" (", 1)
    _copy(
        conn,
        f'COPY {table} ("id", {columns} FROM STDIN',
        [(entry_id, *row) for entry_id, row in zip(ids, rows, strict=True)],
    )
    return {(row[0], row[1]): entry_id for entry_id, row in zip(ids, rows, strict=True)}


def _copy(conn: Connection, statement: str, rows: Sequence[Sequence[Any]]) -> None:
    """One COPY … FROM STDIN on the transaction's own psycopg connection; the driver's errors
    become SQLAlchemy's (``IntegrityError``, ``OperationalError`` …), as for any statement."""
    import psycopg

    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc

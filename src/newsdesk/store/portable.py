"""Export and import everything as JSON Lines: every table Newsdesk keeps (feeds, entries, links
and tags, pages, settings; the people with their roles, password hashes, Fever verifiers,
two-factor secrets, recovery codes and preferences; each person's subscriptions, categories and
their shares, entry states, labels, saved searches, API key hashes and watchlists …), one row a
line, so a database can move between machines and between SQLite and PostgreSQL without losing a
bit.

The file: a header line ``{"newsdesk_export": 1, "schema_version": N, …}``, then one line per
row ``{"table": NAME, "row": {COLUMN: VALUE}}`` in dependency order (a row's foreign keys point
at rows already written), then a footer ``{"end": true, "rows": {NAME: COUNT}}``: an import
refuses a file without its footer or with counts that do not match (a truncated copy).
Values are JSON; datetimes are ISO 8601, bytes base64, decimals strings, decoded by the column's
type on import. Search indexes are not exported: they are rebuilt from the rows.

An export made before teams (schema 10 or older: one user, state kept on the entries and feeds)
imports as a migrated database would be: everything goes to its first account (or to a new
``admin`` without a password when it had none), every account an admin (``teams_migration``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    Table,
    delete,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeDecorator

from newsdesk import __version__
from newsdesk.errors import StoreError
from newsdesk.store.engine import write_transaction
from newsdesk.store.migrations import current_version
from newsdesk.store.schema import metadata, users
from newsdesk.store.search import rebuild as rebuild_search
from newsdesk.store.teams_migration import migrate_to_teams

FORMAT_VERSION = 1
BATCH = 1000
_INTERNAL = ("schema_version",)
TEAMS_SCHEMA = 11  # migration 11 (issue 15): people, per-person state and ownership


@dataclass(slots=True)
class PortableReport:
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _virtual_tables(conn: Connection) -> set[str]:
    if conn.dialect.name != "sqlite":
        return set()
    rows = conn.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'"
    )
    return {r[0] for r in rows}


def data_tables(conn: Connection) -> list[Table]:
    """The tables holding data, parents before children. Declared tables (``store.schema``)
    keep their declared types; any other table in the database is included as reflected."""
    names = set(inspect(conn).get_table_names())
    virtual = _virtual_tables(conn)
    keep = [
        n
        for n in names
        if n not in _INTERNAL
        and not n.startswith("sqlite_")
        and n not in virtual
        and not any(n.startswith(v + "_") for v in virtual)  # FTS5 shadow tables
    ]
    reflected = MetaData()
    reflected.reflect(conn, only=keep)
    return [metadata.tables.get(t.name, t) for t in reflected.sorted_tables]


def _columns(table: Table) -> list[Column[Any]]:
    return [c for c in table.columns if c.computed is None]


def _python_type(column: Column[Any]) -> type | None:
    kind = column.type
    if isinstance(kind, TypeDecorator):  # UTCDateTime and friends: the stored type decides
        kind = kind.impl_instance
    try:
        return kind.python_type
    except NotImplementedError:
        return None


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    return value


def _decode(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    kind = _python_type(column)
    if kind is datetime and isinstance(value, str):
        return datetime.fromisoformat(value)
    if kind is date and isinstance(value, str):
        return date.fromisoformat(value)
    if kind is time and isinstance(value, str):
        return time.fromisoformat(value)
    if kind is bytes and isinstance(value, str):
        return base64.b64decode(value)
    if kind is Decimal and isinstance(value, str):
        return Decimal(value)
    return value


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=True) + "\n"


def _records(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise StoreError(f"line {number} of the export is not JSON: {exc}") from None
        if not isinstance(record, dict):
            raise StoreError(f"line {number} of the export is not a JSON object")
        yield number, record


def _check_target(conn: Connection, header: dict[str, Any]) -> None:
    """The export is not newer than this Newsdesk and the database is new: nothing in it but
    the admin a new desk starts with (no password yet), who makes way for the export's people."""
    version = current_version(conn)
    theirs = header.get("schema_version")
    if not isinstance(theirs, int) or theirs > version:
        raise StoreError(
            f"the export comes from a newer Newsdesk (schema {theirs}, this one has {version}): "
            "upgrade first"
        )
    for table in data_tables(conn):
        rows = select(func.count()).select_from(table)
        if table.name == "users":
            rows = rows.where(users.c.password_hash != "")
        if conn.execute(rows).scalar():
            raise StoreError(
                f"the database is not empty (table {table.name} has rows): import into a new one"
            )
    conn.execute(delete(users))


# Columns older schemas had and this one dropped on purpose: an older export's values are left
# out. users.fever_key held Fever's key in clear (migration 7): Fever comes back off.
_DROPPED = {"users": frozenset({"fever_key"})}


def _row(table: Table, row: dict[str, Any], number: int) -> dict[str, Any]:
    for name in _DROPPED.get(table.name, ()):
        row.pop(name, None)
    unknown = set(row) - set(table.columns.keys())
    if unknown:
        raise StoreError(f"line {number}: {table.name} has no column {sorted(unknown)}")
    return {name: _decode(table.columns[name], value) for name, value in row.items()}


def _flush(conn: Connection, table: Table | None, rows: list[dict[str, Any]]) -> None:
    if table is None or not rows:
        return
    # Rows of one table may name different columns (an older export): insert by shape.
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_shape.setdefault(tuple(sorted(row)), []).append(row)
    for group in by_shape.values():
        conn.execute(insert(table), group)


def _after_import(conn: Connection, tables: list[Table]) -> None:
    rebuild_search(conn)
    if conn.dialect.name != "postgresql":
        return
    # Rows came with their ids: move each id sequence past the largest one.
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) == 1 and _python_type(keys[0]) is int:
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{keys[0].name}'), "
                f'COALESCE(MAX("{keys[0].name}"), 1), MAX("{keys[0].name}") IS NOT NULL) '
                f'FROM "{table.name}"'
            )


class PortableStore:
    """Export and import of the whole database (``store.portable``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def export_lines(self) -> Iterator[str]:
        """Every row of every data table as JSON Lines, read in one consistent snapshot."""
        counts: dict[str, int] = {}
        with self.engine.connect() as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            tables = data_tables(conn)
            yield _line(
                {
                    "newsdesk_export": FORMAT_VERSION,
                    "schema_version": current_version(conn),
                    "newsdesk_version": __version__,
                    "exported_at": datetime.now(UTC).isoformat(),
                    "source": conn.dialect.name,
                    "tables": [t.name for t in tables],
                }
            )
            for table in tables:
                columns = _columns(table)
                order = list(table.primary_key.columns) or columns
                stmt = select(*columns).order_by(*order)
                counts[table.name] = 0
                rows = conn.execution_options(yield_per=BATCH).execute(stmt)
                for row in rows:
                    values = {c.name: _encode(v) for c, v in zip(columns, row, strict=True)}
                    yield _line({"table": table.name, "row": values})
                    counts[table.name] += 1
        yield _line({"end": True, "rows": counts})

    def export_all(self, out: IO[str]) -> PortableReport:
        report = PortableReport()
        for line in self.export_lines():
            out.write(line)
            if line.startswith('{"end":'):
                report.rows = json.loads(line)["rows"]
        return report

    def import_all(self, lines: Iterable[str]) -> PortableReport:
        """Load an export into an empty database, in one transaction: on any problem (a bad line,
        a truncated file, rows that break a constraint) nothing is imported."""
        report = PortableReport()
        records = _records(lines)
        first = next(records, None)
        if first is None or first[1].get("newsdesk_export") != FORMAT_VERSION:
            raise StoreError("not a Newsdesk export (the first line is not its header)")
        header = first[1]
        try:
            with write_transaction(self.engine) as conn:
                _check_target(conn, header)
                tables = {t.name: t for t in data_tables(conn)}
                pending: list[dict[str, Any]] = []
                current: Table | None = None
                footer: dict[str, Any] | None = None
                for number, record in records:
                    if footer is not None:
                        raise StoreError(f"line {number}: data after the end of the export")
                    if record.get("end") is True:
                        footer = record
                        continue
                    table = tables.get(str(record.get("table")))
                    row = record.get("row")
                    if table is None or not isinstance(row, dict):
                        raise StoreError(f"line {number}: unknown table {record.get('table')!r}")
                    if table is not current:
                        _flush(conn, current, pending)
                        current, pending = table, []
                    pending.append(_row(table, row, number))
                    report.rows[table.name] = report.rows.get(table.name, 0) + 1
                    if len(pending) >= BATCH:
                        _flush(conn, current, pending)
                        pending = []
                _flush(conn, current, pending)
                if footer is None:
                    raise StoreError("the export is incomplete (no end line): nothing was imported")
                expected = {k: v for k, v in (footer.get("rows") or {}).items() if v}
                if expected != report.rows:
                    raise StoreError(
                        f"the export's row counts do not match its end line ({expected} expected, "
                        f"{report.rows} read): nothing was imported"
                    )
                if header["schema_version"] < TEAMS_SCHEMA:
                    migrate_to_teams(conn)  # one person's desk: theirs, as the migration makes it
                _after_import(conn, list(tables.values()))
        except SQLAlchemyError as exc:
            raise StoreError(f"the import failed, nothing was imported: {exc}") from None
        return report

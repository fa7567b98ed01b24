"""Opening a database: URL checks, SQLite pragmas (WAL, busy timeout, foreign keys), and write
transactions that take SQLite's write lock up front (BEGIN IMMEDIATE), so a writer waits for
another instead of failing with "database is locked" on a lock upgrade."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)

from newsdesk.errors import StoreError

BUSY_TIMEOUT_MS = 30_000
PAGE_SIZE = 8192  # bytes, for a new SQLite file (see _on_connect)
MMAP_BYTES = 1 << 30  # of a SQLite file read through a memory map (see _on_connect)
WAL_PAGES = 16384  # pages the WAL holds before a commit copies them into the file (_on_connect)
WAL_LIMIT_BYTES = 128 << 20  # what a WAL file is cut back to when it starts over
# What the database raises when it is away for a moment (a restart, a dropped connection):
# workers retry on these without importing SQLAlchemy themselves.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)


def is_database_error(exc: BaseException) -> bool:
    """True when ``exc`` came from the database driver (the store let it through)."""
    return isinstance(exc, SQLAlchemyError)


def normalize_url(url: str) -> str:
    """Accept a bare path as SQLite; use psycopg 3 for postgresql:// URLs."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def shared_url(url: str) -> str | None:
    """``url`` when another process can open the same database with it; None for an
    in-memory SQLite database (or a URL that opens none)."""
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError:
        return None
    memory = parsed.database in (None, "", ":memory:") or "mode=memory" in url
    return None if parsed.get_backend_name() == "sqlite" and memory else url


def create_store_engine(url: str) -> Engine:
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            f"not a database URL: {url!r} (try sqlite:///PATH or postgresql://…)"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if parsed.get_backend_name() == "postgresql":
        try:
            return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
        except (ArgumentError, NoSuchModuleError) as exc:
            raise StoreError(f"cannot use {url!r}: {exc}") from None
    raise StoreError(
        f"unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL"
    )


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        path = Path(database)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the database folder {path.parent}: {exc}") from None
    engine = create_engine(
        url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # These two take effect only on a new database, before its first table, and are set
        # only there: on a file already in incremental mode, setting it again writes the
        # header, so it waited for the write lock: every connection opened while a refresh
        # committed (a web thread's, the pool's) waited for that commit. Retention gives space
        # back with ``PRAGMA incremental_vacuum``; an older file keeps its mode until a VACUUM.
        # Pages of 8 KiB: an entry (~10 KB with its HTML and text) spans fewer pages, so the
        # first refresh of 1,000 feeds writes fewer (~0.5 s less CPU, a file ~6 % larger, reads
        # unchanged); an older file keeps its page size (a VACUUM in WAL mode cannot change
        # it), which works as well.
        if cursor.execute("PRAGMA page_count").fetchone()[0] == 0:
            cursor.execute(f"PRAGMA page_size={PAGE_SIZE}")
            cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA temp_store=MEMORY")
        # Pages read through a memory map, not copied into each connection's cache: when
        # another process commits (a refresh's parse workers write in turn), a connection
        # drops its cache, and reading the index pages again by copy made a refresh of 10,000
        # feeds 13 % slower.
        cursor.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        # A commit that finds this many pages in the WAL copies them into the file (SQLite's
        # default is 1,000), fsyncing both. The first refresh of 10,000 feeds committed about
        # 10 MB a group, so every commit copied its own pages: 6.4 GB into the file, 1,200
        # fsyncs, all while holding the write turn. Copied less often, a page that several
        # commits changed (the indexes') is copied once: 3.9 GB and 115 fsyncs. A refresh's
        # workers also copy pages themselves between their turns (``checkpoint``).
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES}")
        cursor.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

    return engine


def checkpoint(engine: Engine) -> None:
    """Copy the WAL's committed pages into a SQLite file without waiting for any reader or
    writer (a PASSIVE checkpoint; nothing on PostgreSQL). Run outside a write transaction, its
    copying and fsyncs keep no one from writing; the next write that finds the WAL all copied
    starts it over, so it stays small."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        raw: Any = conn.connection.driver_connection
        raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that writes: on SQLite it holds the write lock from its first statement."""
    with engine.connect() as conn:
        conn.info["write"] = True
        try:
            with conn.begin():
                yield conn
        finally:
            conn.info.pop("write", None)

"""SQLite page size: a new file gets the engine's PAGE_SIZE; an older file keeps its own, through
writes and a VACUUM (in WAL mode SQLite cannot change it), and works the same."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from newsdesk.store import open_store
from newsdesk.store.engine import PAGE_SIZE


def _page_size(path: Path) -> int:
    with sqlite3.connect(path) as raw:
        return int(raw.execute("PRAGMA page_size").fetchone()[0])


def test_a_new_database_gets_the_page_size(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    store = open_store(f"sqlite:///{path}")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA page_size").scalar() == PAGE_SIZE
            assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 2
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        store.close()
    assert _page_size(path) == PAGE_SIZE


def test_an_older_database_keeps_its_page_size(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as raw:  # made by an older version: 4 KiB pages
        raw.execute("PRAGMA page_size=4096")
        raw.execute("CREATE TABLE made_by_an_older_version (x)")
    store = open_store(f"sqlite:///{path}")
    try:
        feed = store.add_feed("https://example.com/feed.xml")
        with store.engine.connect() as conn:
            # the driver's connection, outside any transaction (as retention vacuums)
            driver = conn.connection.driver_connection
            assert driver is not None
            assert driver.execute("PRAGMA page_size").fetchone()[0] == 4096
            driver.execute("VACUUM")
            assert driver.execute("PRAGMA page_size").fetchone()[0] == 4096
            assert driver.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert [f.id for f in store.list_feeds()] == [feed.id]
    finally:
        store.close()
    assert _page_size(path) == 4096


def test_a_connection_opens_while_another_holds_the_write_lock(tmp_path: Path) -> None:
    """Opening a connection reads the database's settings and sets none of a file's own: it
    never waits for a writer (a refresh committing) to open. It once set ``auto_vacuum``
    again, which writes the header, and waited for the lock."""
    path = tmp_path / "busy.db"
    store = open_store(f"sqlite:///{path}")
    store.add_feed("https://example.com/feed.xml")
    store.close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE feeds SET title = 'being written'")
    try:
        store = open_store(f"sqlite:///{path}")
        try:
            store.engine.dispose()  # a new connection, not one kept from the setup
            with store.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA busy_timeout=200")  # a wait would fail fast
                assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 2
            feeds = store.list_feeds()  # reads through a new connection of the pool
            assert [f.url for f in feeds] == ["https://example.com/feed.xml"]
            assert feeds[0].title != "being written"  # not committed
        finally:
            store.close()
    finally:
        holder.rollback()
        holder.close()

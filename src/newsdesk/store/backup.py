"""Backups: a consistent copy of a SQLite database taken with SQLite's online backup API while
Newsdesk keeps running (readers and the writer are not stopped), verified before it is put in
place; for PostgreSQL, the ``pg_dump`` command that does the same job."""

from __future__ import annotations

import os
import shlex
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from newsdesk.errors import StoreError
from newsdesk.store.engine import normalize_url

PAGES_PER_STEP = 1024  # copy in steps so a long backup never holds the database for long


@dataclass(slots=True, frozen=True)
class BackupResult:
    path: Path | None  # the copy written (SQLite), None for PostgreSQL
    size: int = 0
    command: str | None = None  # the pg_dump command (PostgreSQL)


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL; None for other databases (or an in-memory SQLite)."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise StoreError("an in-memory database cannot be backed up")
    return Path(parsed.database)


def pg_dump_command(url: str, dest: Path) -> str:
    """The pg_dump invocation (custom format, restorable with pg_restore) for ``url``."""
    parsed = make_url(normalize_url(url)).set(drivername="postgresql")
    target = parsed.render_as_string(hide_password=False)
    return shlex.join(["pg_dump", "--format=custom", f"--file={dest}", target])


def backup(url: str, dest: Path, *, overwrite: bool = False) -> BackupResult:
    """Copy the database at ``url`` to ``dest``. SQLite: written to a temporary file next to
    ``dest``, checked with ``PRAGMA integrity_check`` and renamed into place, so ``dest`` is
    either a complete, sound copy or untouched. PostgreSQL: nothing is written; the result
    carries the pg_dump command to run."""
    source = sqlite_path(url)
    if source is None:
        return BackupResult(path=None, command=pg_dump_command(url, dest))
    if not source.exists():
        raise StoreError(f"there is no database at {source}")
    if dest.exists() and not overwrite:
        raise StoreError(f"{dest} exists (use --force to replace it)")
    if dest.resolve() == source.resolve():
        raise StoreError("the backup cannot replace the database itself")
    if not dest.parent.is_dir():
        raise StoreError(f"the folder {dest.parent} does not exist")
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    try:
        _copy(source, partial)
        os.replace(partial, dest)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(f"the backup failed: {exc}") from None
    return BackupResult(path=dest, size=dest.stat().st_size)


def _copy(source: Path, partial: Path) -> None:
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst, pages=PAGES_PER_STEP)
            # The copy is a standalone file: no WAL beside it, openable read-only anywhere.
            dst.execute("PRAGMA journal_mode=DELETE")
            verdict = dst.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise sqlite3.DatabaseError(f"the copy fails its integrity check: {verdict}")
        finally:
            dst.close()
    finally:
        src.close()
    partial.chmod(0o600)

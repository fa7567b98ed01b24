"""Commands that keep data safe: `newsdesk backup PATH`, `newsdesk export-all` and
`newsdesk import-all FILE`. Heavy modules are imported inside the handlers."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import IO

from newsdesk.cli.common import CommandFactory, load, open_desk
from newsdesk.errors import NewsdeskError


def cmd_backup(args: argparse.Namespace) -> int:
    from newsdesk.store.backup import backup

    result = backup(load(args).resolved_database_url, Path(args.path), overwrite=args.force)
    if result.command is not None:
        print("PostgreSQL is backed up with pg_dump; run:")
        print(f"  {result.command}")
        print("and restore with: pg_restore --clean --dbname=URL " + str(args.path))
        return 0
    print(f"backed up to {result.path} ({result.size:,} bytes, integrity check ok)")
    return 0


def _open_output(path: str | None) -> IO[str]:
    if path in (None, "-"):
        return sys.stdout
    target = Path(path)
    if target.exists():
        raise NewsdeskError(f"{target} exists: choose another file")
    # The export holds password hashes and session secrets: readable by its owner only.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return open(fd, "w", encoding="utf-8")  # closed by the caller


def cmd_export_all(args: argparse.Namespace) -> int:
    with closing(open_desk(args, system=True)) as desk:
        out = _open_output(args.output)
        try:
            report = desk.store.portable.export_all(out)
        finally:
            if out is not sys.stdout:
                out.close()
    where = f" to {args.output}" if args.output not in (None, "-") else ""
    print(f"exported {report.total:,} rows from {len(report.rows)} tables{where}", file=sys.stderr)
    return 0


def _lines(path: str) -> Iterator[str]:
    if path == "-":
        yield from sys.stdin
        return
    try:
        with open(path, encoding="utf-8") as handle:
            yield from handle
    except OSError as exc:
        raise NewsdeskError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise NewsdeskError(f"{path} is not UTF-8 text: {exc}") from None


def cmd_import_all(args: argparse.Namespace) -> int:
    if args.file != "-" and not Path(args.file).is_file():
        raise NewsdeskError(f"cannot read {args.file}: no such file")
    with closing(open_desk(args, system=True)) as desk:
        report = desk.store.portable.import_all(_lines(args.file))
    print(f"imported {report.total:,} rows into {len(report.rows)} tables")
    return 0


def register(command: CommandFactory) -> None:
    p = command(
        "backup",
        cmd_backup,
        "copy the database to PATH while Newsdesk runs (SQLite online backup, verified); "
        "for PostgreSQL, print the pg_dump command",
    )
    p.add_argument("path", metavar="PATH")
    p.add_argument("--force", action="store_true", help="replace PATH if it exists")

    p = command(
        "export-all",
        cmd_export_all,
        "write everything as JSON Lines (stdout or --output): feeds, entries, settings, the "
        "people with their subscriptions, categories, shares, state, labels, searches, keys "
        "and watchlists",
    )
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE (created 0600)")

    p = command(
        "import-all",
        cmd_import_all,
        "load an export-all file into an empty database (all or nothing)",
    )
    p.add_argument("file", metavar="FILE", help="the export file ('-' for stdin)")

"""The `newsdesk` command: parse arguments → call the Desk → render (Rich on a terminal, JSON on
request). Every command takes ``--db URL``, and each that reads or changes one person's data
``--user NAME`` (default: the first admin); errors are one clear line on stderr, never a
traceback.

One module per group of commands (``feeds``, ``refresh``, ``reading``, ``start``, ``web``,
``people``, ``maintenance``, ``workers``, ``tokens``, ``intel``, ``alerts``), each with a
``register`` function that ``parser.build_parser`` calls; ``common`` holds what they share and
``doc`` prints docs/cli.md (`python -m newsdesk.cli.doc`)."""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Sequence

from newsdesk.cli.common import Handler, err
from newsdesk.cli.parser import build_parser
from newsdesk.errors import NewsdeskError

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; ``argv`` None: the `newsdesk` program itself, which then ends the
    process (see ``_leave``)."""
    code = _run(sys.argv[1:] if argv is None else argv)
    if argv is None:
        _leave(code)
    return code


def _leave(code: int) -> None:
    """End the process without tearing the interpreter down: freeing every object of
    SQLAlchemy's, aiohttp's and our modules one by one costs about 0.1 s of CPU at the end of
    every command, and the operating system takes the memory back at once. Only when the
    command left no other thread running; the output is flushed and the ``atexit`` functions
    (logging's, multiprocessing's) run first. Else, or when the output is a closed pipe, the
    usual exit."""
    if threading.active_count() > 1:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        return
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(int(code or 0))


def _run(argv: Sequence[str]) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not hasattr(args, "db"):
        args.db = None
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    from newsdesk.settings import SettingsError

    try:
        return handler(args)
    except (NewsdeskError, SettingsError) as exc:
        err(str(exc))
        return 1
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except BrokenPipeError:
        return 0

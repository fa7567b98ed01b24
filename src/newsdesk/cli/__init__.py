"""The `newsdesk` command: parse arguments → call the Desk → render (Rich on a terminal, JSON on
request). Every command takes ``--db URL``, and each that reads or changes one person's data
``--user NAME`` (default: the first admin); errors are one clear line on stderr, never a
traceback.

One module per group of commands (``feeds``, ``refresh``, ``reading``, ``start``, ``web``,
``people``, ``maintenance``, ``workers``, ``tokens``, ``intel``, ``alerts``), each with a
``register`` function that ``parser.build_parser`` calls; ``common`` holds what they share and
``doc`` prints docs/cli.md (`python -m newsdesk.cli.doc`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from newsdesk.cli.common import Handler, err
from newsdesk.cli.parser import build_parser
from newsdesk.errors import NewsdeskError

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
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

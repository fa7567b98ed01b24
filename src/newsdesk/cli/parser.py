"""The `newsdesk` parser: the top-level options, then each command module's commands, in the
order `newsdesk --help` lists them."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence
from types import ModuleType

from newsdesk import __version__
from newsdesk.cli.common import Handler

# Each module's ``register(command)`` adds its commands; the order is the help's.
MODULES = (
    "feeds",
    "refresh",
    "reading",
    "start",
    "web",
    "people",
    "maintenance",
    "cleanup",
    "workers",
    "tokens",
    "intel",
    "alerts",
    "rules",
)
# The module that registers each command (tests/test_cli.py checks it against the modules): a
# command's parse imports and builds only its own module's parser (30 ms less of every start).
COMMANDS = {
    **dict.fromkeys(("add", "remove", "feeds", "import", "export"), "feeds"),
    **dict.fromkeys(("refresh", "refetch"), "refresh"),
    **dict.fromkeys(("entries", "search", "digest"), "reading"),
    **dict.fromkeys(("demo", "settings"), "start"),
    **dict.fromkeys(("serve", "publish", "syndication"), "web"),
    "user": "people",
    **dict.fromkeys(("backup", "export-all", "import-all"), "maintenance"),
    **dict.fromkeys(("cleanup", "retention"), "cleanup"),
    **dict.fromkeys(("run", "worker", "beat", "queue"), "workers"),
    "token": "tokens",
    **dict.fromkeys(("stories", "story", "entities", "entity", "timeline", "intel"), "intel"),
    **dict.fromkeys(("watch", "alerts"), "alerts"),
    "rule": "rules",
}


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"newsdesk.cli.{name}")


def _common() -> argparse.ArgumentParser:
    """--db, which the top level and every command take."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="database URL (sqlite:///PATH or postgresql://…); default: "
        "$NEWSDESK_DATABASE_URL, else a SQLite file in your data folder",
    )
    return common


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command; given the command line ``argv``, when it starts with a
    command's name, a parser of that command's module only (the same for that command line:
    its usage, help and errors)."""
    known = COMMANDS.get(argv[0]) if argv else None
    common = _common()
    parser = argparse.ArgumentParser(
        prog="newsdesk",
        parents=[common],
        description="A self-hosted news desk: subscribe, fetch, process, store, search, digest.",
    )
    parser.add_argument("--version", action="version", version=f"newsdesk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    for name in (known,) if known else MODULES:
        _module(name).register(command)
    return parser

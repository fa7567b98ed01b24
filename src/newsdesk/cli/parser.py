"""The `newsdesk` parser: the top-level options, then each command module's commands, in the
order `newsdesk --help` lists them."""

from __future__ import annotations

import argparse

import newsdesk.cli.alerts as alerts
import newsdesk.cli.cleanup as cleanup
import newsdesk.cli.feeds as feeds
import newsdesk.cli.intel as intel
import newsdesk.cli.maintenance as maintenance
import newsdesk.cli.people as people
import newsdesk.cli.reading as reading
import newsdesk.cli.refresh as refresh
import newsdesk.cli.rules as rules
import newsdesk.cli.start as start
import newsdesk.cli.tokens as tokens
import newsdesk.cli.web as web
import newsdesk.cli.workers as workers
from newsdesk import __version__
from newsdesk.cli.common import Handler

# Each module's ``register(command)`` adds its commands; the order is the help's.
MODULES = (
    feeds,
    refresh,
    reading,
    start,
    web,
    people,
    maintenance,
    cleanup,
    workers,
    tokens,
    intel,
    alerts,
    rules,
)


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


def build_parser() -> argparse.ArgumentParser:
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

    for module in MODULES:
        module.register(command)
    return parser

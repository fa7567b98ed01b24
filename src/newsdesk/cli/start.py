"""Getting started: `newsdesk demo` (the bundled sample sources, end to end) and `newsdesk
settings` (the settings in effect, or their table for the docs)."""

from __future__ import annotations

import argparse
import sys

from newsdesk.cli.common import CommandFactory, load


def cmd_demo(args: argparse.Namespace) -> int:
    from newsdesk.demo import run_demo

    return run_demo(db=args.db, fulltext=not args.no_fulltext)


def cmd_settings(args: argparse.Namespace) -> int:
    if args.markdown:
        from newsdesk.settings import settings_markdown

        sys.stdout.write(settings_markdown())
        return 0
    settings = load(args)
    for name in settings.__dataclass_fields__:
        print(f"{name} = {getattr(settings, name)!r}")
    print(f"(database: {settings.resolved_database_url})")
    return 0


def register(command: CommandFactory) -> None:
    p = command(
        "demo",
        cmd_demo,
        "serve the bundled sample sources on loopback, subscribe, refresh, print a digest",
    )
    p.add_argument("--no-fulltext", action="store_true")

    p = command("settings", cmd_settings, "show the settings in effect")
    p.add_argument("--markdown", action="store_true", help="print the settings table (docs)")

"""docs/cli.md, the command-line reference: every command's --help, generated from the parser
(a test keeps it current). Print it with `python -m newsdesk.cli.doc`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from newsdesk.cli.parser import build_parser


def cli_reference_markdown() -> str:
    parser = build_parser()
    parser.prog = "newsdesk"
    out = [
        "# Command-line reference",
        "",
        "Generated from the code by `python -m newsdesk.cli.doc`; do not edit by hand.",
        "",
        "```",
        parser.format_help().rstrip(),
        "```",
        "",
    ]
    for name, sub in _subcommands(parser, "newsdesk"):
        out += [f"## {name}", "", "```", sub.format_help().rstrip(), "```", ""]
    return "\n".join(out)


def _subcommands(
    parser: argparse.ArgumentParser, prefix: str
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every command, then its actions (`newsdesk user add` …), in the help's order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix} {name}", sub
                yield from _subcommands(sub, f"{prefix} {name}")


if __name__ == "__main__":
    sys.stdout.write(cli_reference_markdown())

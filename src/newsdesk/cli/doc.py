"""docs/cli.md, the command-line reference: every command's --help, generated from the parser
(a test keeps it current). Print it with `python -m newsdesk.cli.doc`."""

from __future__ import annotations

import sys

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
    action = next(a for a in parser._actions if a.dest == "command")
    for name, sub in action.choices.items():  # type: ignore[union-attr]
        out += [f"## newsdesk {name}", "", "```", sub.format_help().rstrip(), "```", ""]
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(cli_reference_markdown())

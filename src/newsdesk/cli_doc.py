"""Print docs/cli.md (the command-line reference) from the parser: `python -m newsdesk.cli_doc`."""

import sys

from newsdesk.cli import cli_reference_markdown

sys.stdout.write(cli_reference_markdown())

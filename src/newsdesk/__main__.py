"""`python -m newsdesk` runs the CLI."""

import sys

from newsdesk.cli import main

sys.exit(main())

"""`newsdesk token create NAME`, `token list` and `token revoke NAME|ID`: the API keys reader
apps and scripts use (``X-Auth-Token`` or ``Authorization: Bearer``). A key is printed once,
when it is made; only its hash is kept. A key is one person's (``--user NAME``, default: the
first admin) and acts as them."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import closing
from typing import TYPE_CHECKING

from newsdesk.cli.common import CommandFactory, open_desk, user_option

if TYPE_CHECKING:
    from newsdesk.store.tokens import TokenStore


def _create(args: argparse.Namespace, tokens: TokenStore) -> None:
    token, key = tokens.create_token(args.name)
    if args.json:
        sys.stdout.write(json.dumps({**token.as_dict(), "key": key}) + "\n")
        return
    print(f"API key {token.id} ({token.name}):\n\n    {key}\n")
    print(
        "Keep it now: it is shown only once. Send it as `X-Auth-Token: KEY` or "
        "`Authorization: Bearer KEY`.",
        file=sys.stderr,
    )


def _list(args: argparse.Namespace, tokens: TokenStore) -> None:
    found = tokens.list_tokens()
    if args.json:
        sys.stdout.write(json.dumps([t.as_dict() for t in found], indent=2) + "\n")
        return
    if not found:
        print("no API keys yet: `newsdesk token create NAME`")
    for t in found:
        made = t.as_dict()
        used = made["last_used_at"] or "never used"
        print(f"{t.id:>4}  {t.name}  ({t.prefix}…)  made {made['created_at']}, {used}")


def cmd_token(args: argparse.Namespace) -> int:
    with closing(open_desk(args)) as desk:
        tokens = desk.store.tokens
        if args.action == "create":
            _create(args, tokens)
        elif args.action == "revoke":
            token = tokens.revoke_token(args.name)
            print(f"revoked API key {token.id} ({token.name})")
        else:
            _list(args, tokens)
    return 0


def register(command: CommandFactory) -> None:
    p = command("token", cmd_token, "make, list and revoke API keys for reader apps")
    user_option(p)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="make a key (printed once)")
    create.add_argument("name", help="what the key is for, e.g. the app's name")
    create.add_argument("--json", action="store_true", help="print JSON")
    revoke = actions.add_parser("revoke", help="revoke a key by name or id")
    revoke.add_argument("name", metavar="NAME|ID")
    listing = actions.add_parser("list", help="list keys (names, never the keys)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    for sub in (create, revoke, listing):
        sub.add_argument("--db", metavar="URL", default=argparse.SUPPRESS, help="database URL")
        user_option(sub, default=argparse.SUPPRESS)

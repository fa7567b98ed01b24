"""`newsdesk rule add|list|remove|unblock|test|apply`: a person's rules — when an entry
matches a query (docs/query.md), do actions (block, read, star, tag:NAME, category:NAME,
alert:WATCHLIST). Heavy modules are imported inside the handlers."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from contextlib import closing
from typing import TYPE_CHECKING

from newsdesk.cli.common import CommandFactory, open_desk, print_json
from newsdesk.errors import NewsdeskError

if TYPE_CHECKING:
    from newsdesk.desk import Desk
    from newsdesk.store.rules import Rule

ACTIONS_HELP = (
    "comma-separated: block (never show it; remembered), read, star, tag:NAME (your label), "
    "category:NAME (file it in your category, made if missing), alert:WATCHLIST (an alert on "
    "your watchlist)"
)


def _line(rule: Rule) -> str:
    state = "" if rule.enabled else "  (disabled)"
    named = "" if rule.name == rule.query else f"{rule.name}: "
    return (
        f"{rule.id:>4}  {named}when {rule.query} → {', '.join(rule.actions)}"
        f"  [{rule.matched} matched]{state}"
    )


def _add(args: argparse.Namespace, desk: Desk) -> int:
    rule = desk.add_rule(args.when, args.then, name=args.name)
    if args.json:
        print_json(rule.as_dict())
    else:
        print(f"rule {rule.id} added: {_line(rule).strip().split(maxsplit=1)[1]}")
    return 0


def _list(args: argparse.Namespace, desk: Desk) -> int:
    found = desk.rules()
    if args.json:
        print_json([r.as_dict() for r in found])
    elif not found:
        print('no rules yet: `newsdesk rule add --when "title:smirnov" --then star,tag:smirnov`')
    else:
        for rule in found:
            print(_line(rule))
    return 0


def _remove(args: argparse.Namespace, desk: Desk) -> int:
    rule = desk.rule(args.id)
    shown = desk.remove_rule(rule.id, unblock=args.unblock)
    print(f"removed rule {rule.id} ({rule.name})")
    if args.unblock:
        print(f"{shown} blocked entries shown again")
    return 0


def _unblock(args: argparse.Namespace, desk: Desk) -> int:
    print(f"{desk.unblock_rule(args.id)} blocked entries shown again")
    return 0


def _test(args: argparse.Namespace, desk: Desk) -> int:
    if args.limit < 0:
        raise NewsdeskError("--limit is at least 0")
    count, entries = desk.test_rule(args.when, args.limit)
    if args.json:
        print_json({"count": count, "entries": [e.as_dict() for e in entries]})
        return 0
    print(f"{count} stored {'entry matches' if count == 1 else 'entries match'}")
    for e in entries:
        when = e.published.strftime("%Y-%m-%d %H:%M")
        title = e.title or " ".join(e.content_text.split())[:120] or "(untitled)"
        print(f"{e.id:>6}  {when}  {e.feed_title}: {title[:160]}")
    return 0


def _apply(args: argparse.Namespace, desk: Desk) -> int:
    changed = desk.apply_rule(args.id)
    print(f"{changed} {'entry' if changed == 1 else 'entries'} changed")
    return 0


RULE_ACTIONS: dict[str, Callable[[argparse.Namespace, Desk], int]] = {
    "add": _add,
    "list": _list,
    "remove": _remove,
    "unblock": _unblock,
    "test": _test,
    "apply": _apply,
}


def cmd_rule(args: argparse.Namespace) -> int:
    with closing(open_desk(args)) as desk:
        return RULE_ACTIONS[args.action](args, desk)


_USER = "the person whose rules these are (default: the first admin)"


def register(command: CommandFactory) -> None:
    p = command(
        "rule",
        cmd_rule,
        "rules: when an entry matches a query, do actions (at each refresh, or on demand)",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        help="add a rule, applied to new entries from the next refresh on",
        description="Add a rule after your others. Every refresh applies your enabled rules, "
        "in order, to the new entries you see, before watchlists match them; `newsdesk rule "
        "apply ID` applies one to the stored entries. The query language is docs/query.md.",
    )
    add.add_argument("--when", required=True, metavar="QUERY", help="which entries (docs/query.md)")
    add.add_argument("--then", required=True, metavar="ACTIONS", help=ACTIONS_HELP)
    add.add_argument("--name", metavar="NAME", help="a name for it (default: the query)")
    add.add_argument("--json", action="store_true", help="print the rule as JSON (with its id)")
    listing = actions.add_parser("list", help="your rules, in the order they apply")
    listing.add_argument("--json", action="store_true", help="print JSON")
    remove = actions.add_parser("remove", help="delete a rule")
    remove.add_argument("id", metavar="ID", type=int)
    remove.add_argument(
        "--unblock", action="store_true", help="show again the entries it blocked (still read)"
    )
    unblock = actions.add_parser(
        "unblock",
        help="show again the entries a rule blocked (still read); turn it off first, or it "
        "blocks new ones",
    )
    unblock.add_argument("id", metavar="ID", type=int)
    test = actions.add_parser(
        "test", help="the stored entries a query would take (nothing changes)"
    )
    test.add_argument("--when", required=True, metavar="QUERY", help="which entries")
    test.add_argument("--limit", type=int, default=10, help="entries to show (default 10)")
    test.add_argument("--json", action="store_true", help="print JSON: count and entries")
    apply = actions.add_parser(
        "apply", help="apply a rule to the stored entries; print how many changed"
    )
    apply.add_argument("id", metavar="ID", type=int)
    p.add_argument("--user", metavar="NAME", help=_USER)
    for sub in (add, listing, remove, unblock, test, apply):
        sub.add_argument("--db", metavar="URL", default=argparse.SUPPRESS, help="database URL")
        sub.add_argument("--user", metavar="NAME", default=argparse.SUPPRESS, help=_USER)

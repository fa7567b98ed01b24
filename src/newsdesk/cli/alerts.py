"""`newsdesk watch add|list|remove|test` and `newsdesk alerts list|send`: watchlists that raise
alerts by webhook, e-mail and ntfy push. Heavy modules are imported inside the handlers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import closing
from typing import TYPE_CHECKING, Any

from newsdesk.cli.common import CommandFactory, open_desk, print_json
from newsdesk.errors import NewsdeskError

if TYPE_CHECKING:
    from newsdesk.desk import Desk
    from newsdesk.store.watchlists import Watchlist


def _describe(w: Watchlist) -> str:
    parts = []
    if w.query:
        parts.append(f"words “{w.query}”")
    if w.entity_ids:
        parts.append("entities " + ", ".join(str(i) for i in w.entity_ids))
    if w.categories:
        parts.append("categories " + ", ".join(w.categories))
    if w.feed_ids:
        parts.append("feeds " + ", ".join(str(i) for i in w.feed_ids))
    state = "" if w.enabled else ", disabled"
    return f"{'; '.join(parts)} → {', '.join(w.channels)} ({w.mode}{state})"


def _channels(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Where `watch add` sends alerts, from --webhook, --email and --ntfy."""
    channels: dict[str, dict[str, Any]] = {}
    if args.secret and not args.webhook:
        raise NewsdeskError("--secret signs webhook deliveries: give --webhook URL too")
    if (args.ntfy_token or args.ntfy_priority) and not args.ntfy:
        raise NewsdeskError("--ntfy-token and --ntfy-priority need --ntfy URL")
    if args.webhook:
        channels["webhook"] = {"url": args.webhook, "secret": args.secret or ""}
    if args.email:
        channels["email"] = {"to": list(args.email)}
    if args.ntfy:
        channels["ntfy"] = {
            "url": args.ntfy,
            "token": args.ntfy_token or "",
            "priority": args.ntfy_priority,
        }
    if not channels:
        raise NewsdeskError("say where alerts go: --webhook URL, --email ADDR or --ntfy URL")
    return channels


def _add(args: argparse.Namespace, desk: Desk) -> int:
    channels = _channels(args)
    entity_ids = [desk.resolve_entity(ref).id for ref in args.entity or ()]
    feed_ids = [desk.resolve_feed(ref).id for ref in args.feed or ()]
    watchlist = desk.store.watchlists.create_watchlist(
        name=args.name,
        query=args.query or "",
        entity_ids=entity_ids,
        categories=args.category or (),
        feed_ids=feed_ids,
        channels=channels,
        mode=args.mode,
    )
    if args.json:
        print_json(watchlist.as_dict(reveal_secrets=True))
        return 0
    print(f"watchlist {watchlist.id} ({watchlist.name}): {_describe(watchlist)}")
    if "email" in watchlist.channels and not desk.settings.smtp_host:
        print(
            "note: e-mail alerts need an SMTP server (NEWSDESK_SMTP_HOST); "
            f"check with `newsdesk watch test {watchlist.id}`",
            file=sys.stderr,
        )
    if "webhook" in watchlist.channels:
        secret = watchlist.channels["webhook"]["secret"]
        print(f"webhook secret (HMAC-SHA256 of each body, X-Newsdesk-Signature): {secret}")
    return 0


def _list(args: argparse.Namespace, desk: Desk) -> int:
    watchlists = desk.store.watchlists
    lists = watchlists.list_watchlists()
    if args.json:
        print_json([{**w.as_dict(), "alerts": watchlists.alert_counts(w.id)} for w in lists])
        return 0
    if not lists:
        print("no watchlists yet: `newsdesk watch add NAME --query WORDS --webhook URL`")
        return 0
    for w in lists:
        counts = watchlists.alert_counts(w.id)
        tally = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
        print(f"{w.id:>4}  {w.name}: {_describe(w)}" + (f"; alerts: {tally}" if tally else ""))
    return 0


def _remove(args: argparse.Namespace, desk: Desk) -> int:
    watchlist = desk.store.watchlists.require_watchlist(args.name)
    desk.store.watchlists.delete_watchlist(watchlist.id)
    print(f"removed watchlist {watchlist.id} ({watchlist.name}) and its alerts")
    return 0


def _test(args: argparse.Namespace, desk: Desk) -> int:
    from newsdesk.alerts.deliver import send_test

    watchlist = desk.store.watchlists.require_watchlist(args.name)
    results = send_test(desk.settings, watchlist)
    for channel, error in results.items():
        print(f"{channel}: {'delivered' if error is None else 'FAILED: ' + error}")
    failed = [c for c, e in results.items() if e is not None]
    if failed:
        raise NewsdeskError(f"test delivery failed on {', '.join(failed)}")
    return 0


WATCH_ACTIONS: dict[str, Callable[[argparse.Namespace, Desk], int]] = {
    "add": _add,
    "list": _list,
    "remove": _remove,
    "test": _test,
}


def cmd_watch(args: argparse.Namespace) -> int:
    with closing(open_desk(args)) as desk:
        return WATCH_ACTIONS[args.action](args, desk)


def _send(args: argparse.Namespace, desk: Desk) -> int:
    from newsdesk.alerts import deliver_due

    report = deliver_due(desk.store.alerts, desk.settings)
    if args.json:
        print_json(report.as_dict())
    else:
        print(report.summary)
        for error in report.errors:
            print(f"  {error}", file=sys.stderr)
    return 0


def _alerts(args: argparse.Namespace, desk: Desk) -> int:
    watchlist_id = None
    if args.watch:
        watchlist_id = desk.store.watchlists.require_watchlist(args.watch).id
    if args.limit < 1:
        raise NewsdeskError("--limit is at least 1")
    found = desk.store.watchlists.list_alerts(
        watchlist_id=watchlist_id, status=args.status, limit=args.limit
    )
    if args.json:
        print_json([a.as_dict() for a in found])
        return 0
    if not found:
        print("no alerts")
        return 0
    for a in found:
        when = a.as_dict()["sent_at"] or a.as_dict()["created_at"]
        line = f"{a.id:>5}  {when}  {a.status:<7} {a.channel:<7} {a.watchlist_name}: "
        line += a.entry_title or f"entry {a.entry_id}"
        if a.error:
            line += f"  [{a.attempts} tries: {a.error}]"
        print(line)
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    # Sending is the system's (every person's due alerts); a list is one person's.
    with closing(open_desk(args, system=args.action == "send")) as desk:
        return (_send if args.action == "send" else _alerts)(args, desk)


_USER = "the person whose watchlists and alerts these are (default: the first admin)"


def register(command: CommandFactory) -> None:
    p = command("watch", cmd_watch, "watchlists: saved queries that send alerts")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        help="watch words, entities, categories or feeds (all given must match)",
        description="Alert on new entries matching every criterion given: the words (as "
        "`newsdesk search` reads them), any of the entities, one of the categories, one of "
        "the feeds. Only entries first seen after the watchlist is made alert.",
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--query", metavar="WORDS", help="search words an entry must contain")
    add.add_argument(
        "--entity", action="append", metavar="NAME|ID", help="an entity mentioned (repeatable)"
    )
    add.add_argument("--category", action="append", metavar="C", help="category (repeatable)")
    add.add_argument("--feed", action="append", metavar="ID|URL", help="feed (repeatable)")
    add.add_argument("--webhook", metavar="URL", help="POST signed JSON to URL")
    add.add_argument(
        "--secret", metavar="S", help="HMAC secret for the webhook (default: a random one)"
    )
    add.add_argument(
        "--email", action="append", metavar="ADDR", help="mail to ADDR (repeatable; SMTP settings)"
    )
    add.add_argument("--ntfy", metavar="URL", help="push to an ntfy topic URL")
    add.add_argument("--ntfy-token", metavar="T", help="ntfy access token (sent as Bearer)")
    add.add_argument("--ntfy-priority", metavar="P", help="ntfy priority 1-5 or min…max")
    add.add_argument(
        "--mode",
        choices=("instant", "hourly", "daily"),
        default="instant",
        help="instant: one message per entry; hourly/daily: one digest per period",
    )
    add.add_argument("--json", action="store_true", help="print JSON (with the secret)")
    listing = actions.add_parser("list", help="list watchlists with their alert counts")
    listing.add_argument("--json", action="store_true", help="print JSON (secrets masked)")
    remove = actions.add_parser("remove", help="delete a watchlist and its alerts")
    remove.add_argument("name", metavar="NAME|ID")
    test = actions.add_parser("test", help="send one test message on each channel")
    test.add_argument("name", metavar="NAME|ID")
    p.add_argument("--user", metavar="NAME", help=_USER)
    for sub in (add, listing, remove, test):
        sub.add_argument("--db", metavar="URL", default=argparse.SUPPRESS, help="database URL")
        sub.add_argument("--user", metavar="NAME", default=argparse.SUPPRESS, help=_USER)

    p = command("alerts", cmd_alerts, "alerts raised by watchlists: list them, send due ones")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    shown = actions.add_parser("list", help="recent alerts, newest first")
    shown.add_argument("--watch", metavar="NAME|ID", help="only this watchlist's")
    shown.add_argument("--status", choices=("pending", "sending", "sent", "failed"))
    shown.add_argument("--limit", type=int, default=50)
    shown.add_argument("--json", action="store_true", help="print JSON")
    send = actions.add_parser("send", help="deliver every alert that is due now")
    send.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--user", metavar="NAME", help=_USER)
    shown.add_argument("--user", metavar="NAME", default=argparse.SUPPRESS, help=_USER)
    for sub in (shown, send):
        sub.add_argument("--db", metavar="URL", default=argparse.SUPPRESS, help="database URL")

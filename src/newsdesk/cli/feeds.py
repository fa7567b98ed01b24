"""Subscriptions: `newsdesk add URL`, `remove FEED`, `feeds [FEED]` (list, or change one),
`import FILE.opml` and `export`, each of one person (``--user NAME``, default: the first
admin)."""

from __future__ import annotations

import argparse
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsdesk.cli.cleanup import change_feed_retention, retention_flags, wants_feed_retention
from newsdesk.cli.common import CommandFactory, open_desk, print_json, user_option
from newsdesk.errors import NewsdeskError

if TYPE_CHECKING:
    from newsdesk.model import Feed


def cmd_add(args: argparse.Namespace) -> int:
    import asyncio

    with closing(open_desk(args)) as desk:
        feed = asyncio.run(
            desk.subscribe(
                args.url, title=args.title, category=args.category, check=not args.no_check
            )
        )
    print(f"added feed {feed.id}: {feed.url}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    with closing(open_desk(args)) as desk:
        feed = desk.resolve_feed(args.feed)
        desk.store.remove_feed(feed.id)
    print(f"removed feed {feed.id}: {feed.url}")
    return 0


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    """What `feeds FEED --category … --title … --interval … --resume` changes."""
    changes: dict[str, Any] = {}
    if args.category is not None:
        changes["category"] = args.category
    if args.title is not None:
        changes["custom_title"] = args.title or None
    if args.interval is not None:
        changes["check_interval"] = args.interval or None
    if args.resume:
        changes.update(
            paused=False, paused_reason=None, error_count=0, error_since=None, next_check=None
        )
    return changes


def cmd_feeds(args: argparse.Namespace) -> int:
    with closing(open_desk(args)) as desk:
        if args.feed is not None:
            feed = desk.resolve_feed(args.feed)
            changes = _changes(args)
            if changes:
                feed = desk.store.update_feed(feed.id, **changes)
            kept = change_feed_retention(desk, feed.id, args)
            if kept and not args.json:
                print(kept)
            feeds = [feed]
        else:
            if args.category or args.title or args.interval or args.resume:
                raise NewsdeskError("name the feed to change: `newsdesk feeds FEED --category C`")
            if wants_feed_retention(args):
                raise NewsdeskError("name the feed: `newsdesk feeds FEED --keep-days N`")
            feeds = desk.store.list_feeds()
    if args.json:
        print_json([f.as_dict() for f in feeds])
        return 0
    if not feeds:
        print("no feeds yet: `newsdesk add URL` or `newsdesk import FILE.opml`")
        return 0
    now = datetime.now(UTC)
    for f in feeds:
        status = _feed_status(f, now)
        print(
            f"{f.id:>5}  [{f.category or '-'}] {f.display_title}\n       {f.url}\n       {status}"
        )
    return 0


def _feed_status(feed: Feed, now: datetime) -> str:
    """One line: paused (why), failing (why, retried when), or fine (next check when)."""
    from newsdesk.schedule import describe_wait

    if feed.paused:
        return "paused: " + (feed.paused_reason or "")
    when = ""
    if feed.next_check is not None:
        wait = (feed.next_check - now).total_seconds()
        when = f"in {describe_wait(wait)}" if wait > 0 else "now"
    if feed.error_count:
        return f"error ×{feed.error_count}: {feed.last_error}" + (
            f" (retried {when})" if when else ""
        )
    if feed.last_status:
        return f"ok ({feed.last_status})" + (f", next check {when}" if when else "")
    return "never fetched"


def cmd_import(args: argparse.Namespace) -> int:
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise NewsdeskError(f"cannot read {args.file}: {exc.strerror}") from None
    with closing(open_desk(args)) as desk:
        report = desk.import_opml(data)
    print(
        f"imported {len(report.added)} feeds ({len(report.skipped)} skipped: already "
        "subscribed or not http(s))"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    with closing(open_desk(args)) as desk:
        sys.stdout.write(desk.export_opml())
    return 0


def register(command: CommandFactory) -> None:
    p = command("add", cmd_add, "subscribe to a feed (or the feed a web page links to)")
    p.add_argument("url")
    p.add_argument("--category", help="category (default: the default_category setting, General)")
    p.add_argument("--title", help="a title of your own for the feed")
    p.add_argument(
        "--no-check", action="store_true", help="subscribe without fetching the URL first"
    )
    user_option(p)

    p = command(
        "remove",
        cmd_remove,
        "unsubscribe (the feed and its entries go when no one else follows it)",
    )
    p.add_argument("feed", metavar="FEED", help="feed id or URL")
    user_option(p)

    p = command("feeds", cmd_feeds, "list feeds with their status; change one with FEED + options")
    p.add_argument("feed", metavar="FEED", nargs="?", help="feed id or URL to show or change")
    p.add_argument("--category", help="set the feed's category")
    p.add_argument("--title", help="set the feed's title ('' to use the feed's own)")
    p.add_argument(
        "--interval",
        type=int,
        metavar="SECONDS",
        help="check this feed every SECONDS (0 to go back to adaptive)",
    )
    p.add_argument("--resume", action="store_true", help="un-pause a paused feed")
    retention_flags(
        p,
        reset="--retention-default",
        reset_help="drop this feed's own limits: your default policy applies",
        title="retention of this feed (your default: `newsdesk retention`)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    user_option(p)

    p = command("import", cmd_import, "subscribe to every feed of an OPML file")
    p.add_argument("file", metavar="FILE.opml")
    user_option(p)

    user_option(command("export", cmd_export, "print your subscriptions as OPML"))

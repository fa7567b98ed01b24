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

    options = _option_changes(args)
    with closing(open_desk(args)) as desk:
        feed = asyncio.run(
            desk.subscribe(
                args.url,
                title=args.title,
                category=args.category,
                check=not args.no_check,
                options=options,
            )
        )
    private = " (private: fetched with your secrets)" if feed.owner_key else ""
    print(f"added feed {feed.id}: {feed.url}{private}")
    return 0


def _option_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The per-feed options (issue 16) the command line names; '' clears one."""
    changes: dict[str, Any] = {}
    for name in ("user_agent", "cookie", "username", "extract_body", "interval"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    for name in ("header", "extract_drop"):
        values = getattr(args, name, None)
        if values is not None:
            changes["headers" if name == "header" else name] = values
    if args.password_stdin:
        changes["password"] = sys.stdin.readline().rstrip("\r\n")
    elif args.password is not None:
        changes["password"] = args.password
    if args.fulltext is not None:
        changes["fulltext"] = None if args.fulltext == "default" else args.fulltext
    for name in ("ignore_cache_hints", "unwrap_redirects"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    return changes


def feed_option_arguments(p: argparse.ArgumentParser) -> None:
    """The per-feed options, the same on `add URL` and `feeds FEED`."""
    g = p.add_argument_group("how this feed is fetched (secrets are stored encrypted)")
    g.add_argument("--user-agent", metavar="UA", help="User-Agent for this feed ('' clears)")
    g.add_argument("--cookie", metavar="COOKIE", help="Cookie header sent ('' clears; secret)")
    g.add_argument(
        "--header",
        action="append",
        metavar="'NAME: VALUE'",
        help="an extra request header, repeatable (--header '' clears them; secret)",
    )
    g.add_argument("--username", help="Basic authentication user ('' clears; secret)")
    g.add_argument("--password", help="Basic authentication password (secret; see below)")
    g.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    full = g.add_mutually_exclusive_group()
    full.add_argument(
        "--fulltext",
        action="store_const",
        const=True,
        help="extract the full text of every article of this feed",
    )
    full.add_argument(
        "--no-fulltext",
        dest="fulltext",
        action="store_const",
        const=False,
        help="never extract the full text of this feed's entries",
    )
    full.add_argument(
        "--fulltext-default",
        dest="fulltext",
        action="store_const",
        const="default",
        help="full text as the fulltext setting says (summary-only articles)",
    )
    g.add_argument(
        "--extract-body", metavar="SELECTOR", help="CSS selector of the article body ('' clears)"
    )
    g.add_argument(
        "--extract-drop",
        action="append",
        metavar="SELECTOR",
        help="CSS selector of what to drop from pages, repeatable ('' clears)",
    )
    g.add_argument(
        "--interval",
        metavar="TIME",
        help="check this feed every TIME: seconds, or 30m, 2h, 1d (0: adaptive again)",
    )
    for flag, name, yes, no in (
        ("cache-hints", "ignore_cache_hints", "ignore", "honour"),
        ("redirects", "unwrap_redirects", "unwrap", "keep"),
    ):
        pair = g.add_mutually_exclusive_group()
        pair.add_argument(f"--{yes}-{flag}", dest=name, action="store_const", const=True)
        pair.add_argument(f"--{no}-{flag}", dest=name, action="store_const", const=False)
    p.set_defaults(ignore_cache_hints=None, unwrap_redirects=None)


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
            options = _option_changes(args)
            if changes:
                feed = desk.store.update_feed(feed.id, **changes)
            kept = change_feed_retention(desk, feed.id, args)
            if kept and not args.json:
                print(kept)
            if options:
                feed = desk.set_feed_options(feed.id, options)
            feeds = [feed]
        else:
            if args.category or args.title or args.resume or _option_changes(args):
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
        if args.feed is not None and (shown := _options_line(f)):
            print(f"       {shown}")
    return 0


def _options_line(feed: Feed) -> str:
    """The feed's own options in one line, secrets only as "set"."""
    from newsdesk.model import options_dict

    parts = [] if not feed.owner_key else ["private"]
    if feed.check_interval:
        parts.append(f"interval {feed.check_interval} s")
    for name, value in options_dict(feed.options).items():
        if value not in (None, False, []):
            parts.append(f"{name.replace('_', ' ')}: {value}" if value is not True else name)
    return "options: " + "; ".join(parts) if parts else ""


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
    feed_option_arguments(p)
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
    p.add_argument("--resume", action="store_true", help="un-pause a paused feed")
    retention_flags(
        p,
        reset="--retention-default",
        reset_help="drop this feed's own limits: your default policy applies",
        title="retention of this feed (your default: `newsdesk retention`)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    feed_option_arguments(p)
    user_option(p)

    p = command("import", cmd_import, "subscribe to every feed of an OPML file")
    p.add_argument("file", metavar="FILE.opml")
    user_option(p)

    user_option(command("export", cmd_export, "print your subscriptions as OPML"))

"""Reading: `newsdesk entries` (newest first), `search QUERY` (best matches first, with
snippets; stories grouped on request) and `digest` (printed, or mailed): what one person sees
(``--user NAME``, default: the first admin), with their read state."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from contextlib import closing
from typing import TYPE_CHECKING, Any

from newsdesk.cli.common import CommandFactory, open_desk, print_json, user_option

if TYPE_CHECKING:
    from newsdesk.desk import Desk
    from newsdesk.model import StoredEntry
    from newsdesk.store import EntryQuery


def _query(args: argparse.Namespace, desk: Desk) -> EntryQuery:
    from newsdesk.desk import parse_since
    from newsdesk.store import EntryQuery

    feed_id = desk.resolve_feed(args.feed).id if args.feed else None
    since = parse_since(args.since) if args.since else None
    entity_id = desk.resolve_entity(args.entity).id if args.entity else None
    return EntryQuery(
        category=args.category,
        feed_id=feed_id,
        kind=args.kind,
        tag=args.tag,
        since=since,
        story_id=args.story,
        entity_id=entity_id,
        limit=args.limit,
    )


def _render_entries(entries: Sequence[StoredEntry], as_json: bool) -> None:
    if as_json:
        print_json([e.as_dict() for e in entries])
        return
    for e in entries:
        when = e.published.strftime("%Y-%m-%d %H:%M")
        if e.kind == "post":
            text = " ".join(e.content_text.split())
            line = f"{e.author or e.feed_title}: {text}"
        else:
            line = e.title or "(untitled)"
        print(f"{e.id:>6}  {when}  [{e.category or '-'}] {line[:160]}")
        if e.snippet:
            print(f"        {' '.join(e.snippet.split())[:200]}")


def cmd_entries(args: argparse.Namespace) -> int:
    with closing(open_desk(args)) as desk:
        entries = desk.entries(_query(args, desk))
    _render_entries(entries, args.json)
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    with closing(open_desk(args)) as desk:
        desk.index_queued_search()  # what a first import left queued, found too
        entries = desk.search(args.query, _query(args, desk))
        groups = desk.story_groups(entries, lead_first=False) if args.group_stories else None
    if not entries and not args.json:
        print(f"no entries match {args.query!r}")
        return 0
    if groups is None:
        _render_entries(entries, args.json)
    elif args.json:
        from newsdesk.publish.digest import group_dict

        print_json([group_dict(g, grouped=True) for g in groups])
    else:
        for group in groups:
            _render_entries([group.head], False)
            for member in group.members:  # the same story, indented under its best match
                print(f"        + {member.id} [{member.feed_title or '-'}] {member.title or ''}")
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from newsdesk.desk import parse_since

    options: dict[str, Any] = {
        "since": parse_since(args.since) if args.since else None,
        "category": args.category,
        "limit": args.limit,
        "group_stories": args.group_stories,
    }
    with closing(open_desk(args)) as desk:
        if not args.mail_to:
            sys.stdout.write(desk.digest(fmt=args.format, **options))
            return 0
        from newsdesk.publish.mail import send_digest

        send_digest(
            desk.settings,
            args.mail_to,
            text=desk.digest(fmt="text", **options),
            html=desk.digest(fmt="html", **options),
        )
    print(f"digest sent to {', '.join(args.mail_to)}")
    return 0


def _listing(p: argparse.ArgumentParser) -> None:
    p.add_argument("--category")
    p.add_argument("--feed", metavar="ID|URL")
    p.add_argument("--kind", choices=("post", "article"))
    p.add_argument("--tag")
    p.add_argument("--since", metavar="DATE|DURATION")
    p.add_argument("--story", type=int, metavar="ID", help="only this story's entries")
    p.add_argument("--entity", metavar="NAME|ID", help="only entries that mention it")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true", help="print a JSON array")
    user_option(p)


def register(command: CommandFactory) -> None:
    _listing(command("entries", cmd_entries, "list entries, newest first"))
    p = command("search", cmd_search, "full-text search, best matches first, with snippets")
    p.add_argument("query")
    _listing(p)
    p.add_argument(
        "--group-stories",
        action="store_true",
        help="list a story's other matches under its best one (JSON: story_entries)",
    )

    p = command("digest", cmd_digest, "print a digest of recent entries")
    p.add_argument("--since", metavar="DATE|DURATION", help="e.g. 24h, 7d, 2024-02-27")
    p.add_argument("--category")
    p.add_argument("--format", choices=("text", "markdown", "html", "json"), default="text")
    p.add_argument("--limit", type=int, default=500)
    p.add_argument(
        "--group-stories",
        action="store_true",
        help="a story's entries once, its other members listed under its lead",
    )
    p.add_argument(
        "--mail-to",
        action="append",
        metavar="ADDR",
        help="send it as e-mail (HTML + text) through the SMTP settings (repeatable)",
    )
    user_option(p)

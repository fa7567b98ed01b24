"""The `newsdesk` command: parse arguments → call the Desk → render (Rich on a terminal, JSON on
request). Every command takes ``--db URL``; errors are one clear line on stderr, never a
traceback."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsdesk import __version__
from newsdesk.errors import NewsdeskError
from newsdesk.settings import SettingsError, load_settings, settings_markdown

Handler = Callable[[argparse.Namespace], int]
ERRORS_SHOWN = 25  # failing feeds listed by `refresh`; `feeds` shows them all
CommandFactory = Callable[[str, Handler, str], argparse.ArgumentParser]

# Each part of Newsdesk beyond the core registers its commands from its own module, through a
# ``register(command: CommandFactory) -> None`` function: ``command(name, handler, help)`` returns
# the sub-parser (which already has --db) to add arguments to. ``build_parser`` imports them;
# they import lazily inside their handlers so `newsdesk --help` stays fast.


def _desk(args: argparse.Namespace) -> Any:
    from newsdesk.desk import Desk

    settings = load_settings(database_url=args.db)
    return Desk(settings)


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _err(message: str) -> None:
    sys.stderr.write(f"newsdesk: {message}\n")


# -- commands -------------------------------------------------------------------------------


def cmd_add(args: argparse.Namespace) -> int:
    desk = _desk(args)
    try:
        feed = desk.add_feed(
            args.url, category=args.category, title=args.title, check=not args.no_check
        )
    finally:
        desk.close()
    print(f"added feed {feed.id}: {feed.url}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    desk = _desk(args)
    try:
        feed = desk.resolve_feed(args.feed)
        desk.store.remove_feed(feed.id)
    finally:
        desk.close()
    print(f"removed feed {feed.id}: {feed.url}")
    return 0


def cmd_feeds(args: argparse.Namespace) -> int:
    desk = _desk(args)
    try:
        if args.feed is not None:
            feed = desk.resolve_feed(args.feed)
            changes: dict[str, Any] = {}
            if args.category is not None:
                changes["category"] = args.category
            if args.title is not None:
                changes["custom_title"] = args.title or None
            if args.interval is not None:
                changes["check_interval"] = args.interval or None
            if args.resume:
                changes.update(
                    paused=False,
                    paused_reason=None,
                    error_count=0,
                    error_since=None,
                    next_check=None,
                )
            if changes:
                feed = desk.store.update_feed(feed.id, **changes)
            feeds = [feed]
        else:
            if args.category or args.title or args.interval or args.resume:
                raise NewsdeskError("name the feed to change: `newsdesk feeds FEED --category C`")
            feeds = desk.store.list_feeds()
    finally:
        desk.close()
    if args.json:
        _print_json([f.as_dict() for f in feeds])
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


def _feed_status(feed: Any, now: datetime) -> str:
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
    desk = _desk(args)
    try:
        report = desk.import_opml(data)
    finally:
        desk.close()
    print(
        f"imported {len(report.added)} feeds ({len(report.skipped)} skipped: already "
        "subscribed or not http(s))"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    desk = _desk(args)
    try:
        sys.stdout.write(desk.export_opml())
    finally:
        desk.close()
    return 0


def _progress_bar() -> tuple[Callable[[str, int, int], None] | None, Callable[[], None]]:
    if not sys.stderr.isatty():
        return None, lambda: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        transient=True,
        console=None,
    )
    bar.start()
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            label = {
                "fetch": "fetching feeds",
                "intel": "stories, entities, events",
            }.get(stage, "extracting full text")
            tasks[stage] = bar.add_task(label, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return update, bar.stop


def cmd_refresh(args: argparse.Namespace) -> int:
    desk = _desk(args)
    try:
        feed_ids = None
        if args.feed:
            feed_ids = [desk.resolve_feed(ref).id for ref in args.feed]
        progress, stop = _progress_bar()
        try:
            report = desk.refresh(
                feed_ids=feed_ids,
                due_only=args.due,
                fulltext=False if args.no_fulltext else None,
                progress=progress,
            )
        finally:
            stop()
    finally:
        desk.close()
    print(report.summary)
    for failed in report.errors[:ERRORS_SHOWN]:
        print(f"  feed {failed.feed_id} ({failed.url}): {failed.error}")
    if len(report.errors) > ERRORS_SHOWN:
        print(f"  … and {len(report.errors) - ERRORS_SHOWN} more (see `newsdesk feeds`)")
    if report.feeds and len(report.errors) == report.feeds:
        return 1
    return 0


def cmd_refetch(args: argparse.Namespace) -> int:
    from newsdesk.errors import EntryNotFoundError

    desk = _desk(args)
    try:
        report = desk.refetch(args.entry)
    except EntryNotFoundError as exc:
        _err(str(exc))
        return 2
    finally:
        desk.close()
    if args.json:
        _print_json(report.as_dict())
    else:
        for line in _refetch_lines(report):
            print(line)
    return 1 if report.failed else 0


def _refetch_lines(report: Any) -> list[str]:
    lines = []
    for item in report.as_dict()["entries"]:
        head = f"entry {item['id']}"
        if not item["extractable"]:
            lines.append(f"{head}: nothing to extract (no web link)")
        elif item["kind"] == "post":
            lines.append(f"{head}: shared pages read again: {', '.join(item['links'][:5])}")
        elif item["fulltext_status"] == "done":
            lines.append(f"{head}: full text extracted from {item['url']}")
        else:
            lines.append(f"{head}: extraction failed: {item['fulltext_error']}")
    e = report.enrich
    lines.append(f"{e.pages_fetched} pages fetched, {e.links_expanded} links expanded")
    return lines


def _query(args: argparse.Namespace, desk: Any) -> Any:
    from newsdesk.desk import parse_since
    from newsdesk.store import EntryQuery

    feed_id = desk.resolve_feed(args.feed).id if getattr(args, "feed", None) else None
    since = parse_since(args.since) if getattr(args, "since", None) else None
    entity_id = None
    if getattr(args, "entity", None):
        from newsdesk.intel_cli import resolve_entity

        entity_id = resolve_entity(desk.store.engine, args.entity).id
    return EntryQuery(
        category=getattr(args, "category", None),
        feed_id=feed_id,
        kind=getattr(args, "kind", None),
        tag=getattr(args, "tag", None),
        since=since,
        story_id=getattr(args, "story", None),
        entity_id=entity_id,
        limit=args.limit,
    )


def _render_entries(entries: Sequence[Any], as_json: bool) -> None:
    if as_json:
        _print_json([e.as_dict() for e in entries])
        return
    for e in entries:
        when = e.published.strftime("%Y-%m-%d %H:%M")
        if e.kind == "post":
            text = " ".join(e.content_text.split())
            line = f"{e.author or e.feed_title}: {text}"
        else:
            line = e.title or "(untitled)"
        print(f"{e.id:>6}  {when}  [{e.category or '-'}] {line[:160]}")
        if getattr(e, "snippet", None):
            print(f"        {' '.join(e.snippet.split())[:200]}")


def cmd_entries(args: argparse.Namespace) -> int:
    desk = _desk(args)
    try:
        entries = desk.entries(_query(args, desk))
    finally:
        desk.close()
    _render_entries(entries, args.json)
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    desk = _desk(args)
    try:
        entries = desk.search(args.query, _query(args, desk))
        groups = desk.story_groups(entries, lead_first=False) if args.group_stories else None
    finally:
        desk.close()
    if not entries and not args.json:
        print(f"no entries match {args.query!r}")
        return 0
    if groups is None:
        _render_entries(entries, args.json)
    elif args.json:
        from newsdesk.publish.digest import group_dict

        _print_json([group_dict(g, grouped=True) for g in groups])
    else:
        for group in groups:
            _render_entries([group.head], False)
            for member in group.members:  # the same story, indented under its best match
                print(f"        + {member.id} [{member.feed_title or '-'}] {member.title or ''}")
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from newsdesk.desk import parse_since

    since = parse_since(args.since) if args.since else None
    desk = _desk(args)
    try:
        if args.mail_to:
            from newsdesk.publish.mail import send_digest

            options = {
                "since": since,
                "category": args.category,
                "limit": args.limit,
                "group_stories": args.group_stories,
            }
            send_digest(
                desk.settings,
                args.mail_to,
                text=desk.digest(fmt="text", **options),
                html=desk.digest(fmt="html", **options),
            )
            print(f"digest sent to {', '.join(args.mail_to)}")
            return 0
        sys.stdout.write(
            desk.digest(
                since=since,
                category=args.category,
                fmt=args.format,
                limit=args.limit,
                group_stories=args.group_stories,
            )
        )
    finally:
        desk.close()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from newsdesk.demo import run_demo

    return run_demo(db=args.db, fulltext=not args.no_fulltext)


def cmd_settings(args: argparse.Namespace) -> int:
    if args.markdown:
        sys.stdout.write(settings_markdown())
        return 0
    settings = load_settings(database_url=args.db)
    for name in settings.__dataclass_fields__:
        print(f"{name} = {getattr(settings, name)!r}")
    print(f"(database: {settings.resolved_database_url})")
    return 0


# -- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="database URL (sqlite:///PATH or postgresql://…); default: "
        "$NEWSDESK_DATABASE_URL, else a SQLite file in your data folder",
    )
    parser = argparse.ArgumentParser(
        prog="newsdesk",
        parents=[common],
        description="A self-hosted news desk: subscribe, fetch, process, store, search, digest.",
    )
    parser.add_argument("--version", action="version", version=f"newsdesk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = command("add", cmd_add, "subscribe to a feed (or the feed a web page links to)")
    p.add_argument("url")
    p.add_argument("--category", help="category (default: the default_category setting, General)")
    p.add_argument("--title", help="a title of your own for the feed")
    p.add_argument(
        "--no-check", action="store_true", help="subscribe without fetching the URL first"
    )

    p = command("remove", cmd_remove, "unsubscribe (its entries are deleted)")
    p.add_argument("feed", metavar="FEED", help="feed id or URL")

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
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("import", cmd_import, "subscribe to every feed of an OPML file")
    p.add_argument("file", metavar="FILE.opml")

    command("export", cmd_export, "print your subscriptions as OPML")

    p = command("refresh", cmd_refresh, "fetch feeds and store their new entries")
    p.add_argument("--feed", action="append", metavar="ID|URL", help="only this feed (repeatable)")
    p.add_argument("--due", action="store_true", help="only feeds whose next check has come")
    p.add_argument(
        "--no-fulltext", action="store_true", help="do not fetch linked pages for full text"
    )

    p = command(
        "refetch",
        cmd_refetch,
        "extract entries again, now: fetch their pages anew (bypassing the page cache); "
        "exit 1 when an extraction failed, 2 for an unknown id",
    )
    p.add_argument("entry", metavar="ENTRY", type=int, nargs="+", help="entry id")
    p.add_argument("--json", action="store_true", help="print JSON")

    def listing(p: argparse.ArgumentParser) -> None:
        p.add_argument("--category")
        p.add_argument("--feed", metavar="ID|URL")
        p.add_argument("--kind", choices=("post", "article"))
        p.add_argument("--tag")
        p.add_argument("--since", metavar="DATE|DURATION")
        p.add_argument("--story", type=int, metavar="ID", help="only this story's entries")
        p.add_argument("--entity", metavar="NAME|ID", help="only entries that mention it")
        p.add_argument("--limit", type=int, default=50)
        p.add_argument("--json", action="store_true", help="print a JSON array")

    listing(command("entries", cmd_entries, "list entries, newest first"))
    p = command("search", cmd_search, "full-text search, best matches first, with snippets")
    p.add_argument("query")
    listing(p)
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

    p = command(
        "demo",
        cmd_demo,
        "serve the bundled sample sources on loopback, subscribe, refresh, print a digest",
    )
    p.add_argument("--no-fulltext", action="store_true")

    p = command("settings", cmd_settings, "show the settings in effect")
    p.add_argument("--markdown", action="store_true", help="print the settings table (docs)")

    # Imported when the parser is built (as before), not when `newsdesk.cli` is imported.
    from newsdesk import intel_cli, maintenance_cli
    from newsdesk.alerts import cli as alerts_cli
    from newsdesk.web import cli as web_cli
    from newsdesk.web.api import cli as api_cli
    from newsdesk.workers import cli as workers_cli

    for register in (
        web_cli.register,
        maintenance_cli.register,
        workers_cli.register,
        api_cli.register,
        intel_cli.register,
        alerts_cli.register,
    ):
        register(command)
    return parser


def cli_reference_markdown() -> str:
    """docs/cli.md: every command's --help, generated from the parser (a test keeps it current)."""
    parser = build_parser()
    parser.prog = "newsdesk"
    out = [
        "# Command-line reference",
        "",
        "Generated from the code by `python -m newsdesk.cli_doc`; do not edit by hand.",
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "db"):
        args.db = None
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except (NewsdeskError, SettingsError) as exc:
        _err(str(exc))
        return 1
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())

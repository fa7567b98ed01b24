"""Fetching: `newsdesk refresh` (feeds → new entries, with a progress bar on a terminal: every
feed, or with ``--user NAME`` the feeds that person sees, each URL fetched once) and
`newsdesk refetch ENTRY…` (extract entries again, now). The Desk's operations are async; the
commands run them with ``asyncio.run``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import closing
from typing import TYPE_CHECKING, Any

from newsdesk.cli.common import CommandFactory, err, open_desk, print_json, user_option

if TYPE_CHECKING:
    from newsdesk.desk import RefetchReport

ERRORS_SHOWN = 25  # failing feeds listed by `refresh`; `feeds` shows them all


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
    import asyncio

    # Without --user: every feed (the system's desk); with it, the feeds that person sees.
    with closing(open_desk(args, system=args.user is None)) as desk:
        feed_ids = None
        if args.feed:
            store = desk.store if desk.person is not None else desk.store.as_system()
            feed_ids = [store.get_feed(ref).id for ref in args.feed]
        progress, stop = _progress_bar()
        try:
            report = asyncio.run(
                desk.refresh_async(
                    feed_ids=feed_ids,
                    due_only=args.due,
                    fulltext=False if args.no_fulltext else None,
                    progress=progress,
                )
            )
        finally:
            stop()
    print(report.summary)
    for failed in report.errors[:ERRORS_SHOWN]:
        print(f"  feed {failed.feed_id} ({failed.url}): {failed.error}")
    if len(report.errors) > ERRORS_SHOWN:
        print(f"  … and {len(report.errors) - ERRORS_SHOWN} more (see `newsdesk feeds`)")
    if report.feeds and len(report.errors) == report.feeds:
        return 1
    return 0


def cmd_refetch(args: argparse.Namespace) -> int:
    import asyncio

    from newsdesk.errors import EntryNotFoundError

    with closing(open_desk(args)) as desk:
        try:
            report = asyncio.run(desk.refetch_async(args.entry))
        except EntryNotFoundError as exc:
            err(str(exc))
            return 2
    if args.json:
        print_json(report.as_dict())
    else:
        for line in _refetch_lines(report):
            print(line)
    return 1 if report.failed else 0


def _refetch_lines(report: RefetchReport) -> list[str]:
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


def register(command: CommandFactory) -> None:
    p = command("refresh", cmd_refresh, "fetch feeds and store their new entries")
    p.add_argument("--feed", action="append", metavar="ID|URL", help="only this feed (repeatable)")
    p.add_argument("--due", action="store_true", help="only feeds whose next check has come")
    p.add_argument(
        "--no-fulltext", action="store_true", help="do not fetch linked pages for full text"
    )
    user_option(p, help="only the feeds this person sees (default: every feed)")

    p = command(
        "refetch",
        cmd_refetch,
        "extract entries again, now: fetch their pages anew (bypassing the page cache); "
        "exit 1 when an extraction failed, 2 for an unknown id",
    )
    p.add_argument("entry", metavar="ENTRY", type=int, nargs="+", help="entry id")
    p.add_argument("--json", action="store_true", help="print JSON")

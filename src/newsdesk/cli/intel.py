"""Commands for stories, entities and timelines: `newsdesk stories`, `story ID`, `entities`,
`entity NAME`, `timeline --story ID | --entity NAME`, and `intel` (run the stage on what is
stored). Heavy modules are imported inside the handlers: the CLI starts fast."""

from __future__ import annotations

import argparse
import sys
from contextlib import closing
from datetime import datetime

from newsdesk.cli.common import CommandFactory, open_desk, print_json
from newsdesk.errors import NewsdeskError


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


def cmd_stories(args: argparse.Namespace) -> int:
    with closing(open_desk(args)) as desk:
        stories = desk.store.stories.list_stories(limit=args.limit, min_size=args.min_size)
    if args.json:
        print_json([s.as_dict() for s in stories])
        return 0
    if not stories:
        print(f"no stories of {args.min_size} or more entries yet")
    for s in stories:
        print(
            f"{s.id:>7}  {_day(s.last_published)}  {s.size:>3} entries, {s.sources:>2} sources"
            f"  {s.title or '(untitled)'}"
        )
    return 0


def cmd_story(args: argparse.Namespace) -> int:
    from newsdesk.store import EntryQuery

    with closing(open_desk(args)) as desk:
        story = desk.store.stories.get_story(args.id)
        if story is None:
            raise NewsdeskError(f"no story with id {args.id}")
        ids = desk.store.stories.story_member_ids(args.id)
        members = desk.entries(EntryQuery(ids=ids, limit=len(ids) or 1, oldest_first=True))
        events = desk.store.events.story_timeline(args.id)
    if args.json:
        print_json(
            {
                **story.as_dict(),
                "entries": [m.as_dict() for m in members],
                "timeline": [e.as_dict() for e in events],
            }
        )
        return 0
    print(f"story {story.id}: {story.title or '(untitled)'}")
    print(f"{story.size} entries from {story.sources} sources")
    for m in members:
        label = m.title or (m.content_text[:80] + ("…" if len(m.content_text) > 80 else ""))
        print(f"  {_day(m.published)}  [{m.kind}] {m.feed_title}: {label}")
        if m.url:
            print(f"      {m.url}")
    if events:
        print("timeline:")
        for e in events:
            print(f"  {e.date} ({e.precision})  {e.sentence}")
    return 0


def cmd_entities(args: argparse.Namespace) -> int:
    with closing(open_desk(args)) as desk:
        if args.query:
            found = desk.store.entities.find_entities(args.query, limit=args.limit)
            if args.kind:
                found = [e for e in found if e.kind == args.kind]
        else:
            found = desk.store.entities.list_entities(kind=args.kind, limit=args.limit)
    if args.json:
        print_json([e.as_dict() for e in found])
        return 0
    if not found:
        print("no entities yet (they are read after a refresh; see `newsdesk intel`)")
    for e in found:
        print(f"{e.id:>7}  {e.kind:<6}  {e.entry_count:>5} entries  {e.name}")
    return 0


def cmd_entity(args: argparse.Namespace) -> int:
    with closing(open_desk(args)) as desk:
        entity = desk.resolve_entity(args.ref)
        together = desk.store.entities.co_mentions(entity.id, limit=args.limit)
        over_time = desk.store.entities.mentions_over_time(entity.id, bucket="day")
        story_ids = desk.store.entities.entity_story_ids(entity.id, limit=args.limit)
        stories = desk.store.stories.story_summaries(story_ids)
    ordered = [stories[i] for i in story_ids if i in stories]
    if args.json:
        print_json(
            {
                **entity.as_dict(),
                "co_mentions": [{**e.as_dict(), "together": n} for e, n in together],
                "mentions_over_time": [{"date": d, "entries": n} for d, n in over_time],
                "stories": [s.as_dict() for s in ordered],
            }
        )
        return 0
    print(f"{entity.name} ({entity.kind}), in {entity.entry_count} entries")
    if entity.aliases:
        print(f"also: {', '.join(entity.aliases)}")
    if together:
        print("mentioned with: " + ", ".join(f"{e.name} ({n})" for e, n in together))
    if over_time:
        print("by day: " + ", ".join(f"{d} {n}" for d, n in over_time[-14:]))
    for s in ordered:
        print(f"  story {s.id}: {s.title or '(untitled)'} ({s.size} entries)")
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    from newsdesk.timeline.export import events_to_csv, events_to_json

    if (args.story is None) == (args.entity is None):
        raise NewsdeskError("give --story ID or --entity NAME|ID")
    with closing(open_desk(args)) as desk:
        if args.story is not None:
            if desk.store.stories.get_story(args.story) is None:
                raise NewsdeskError(f"no story with id {args.story}")
            events = desk.store.events.story_timeline(args.story)
        else:
            events = desk.store.events.entity_timeline(desk.resolve_entity(args.entity).id)
    if args.format == "json":
        sys.stdout.write(events_to_json(events) + "\n")
    elif args.format == "csv":
        sys.stdout.write(events_to_csv(events))
    else:
        if not events:
            print("no dated events")
        for e in events:
            print(f"{e.date}  ({e.precision})  {e.sentence}")
            print(f"            — {e.feed_title}: {e.entry_title or e.entry_url or e.entry_id}")
    return 0


def cmd_intel(args: argparse.Namespace) -> int:
    from newsdesk.intel import run_intel

    with closing(open_desk(args, system=True)) as desk:  # the stage sees every entry
        report = run_intel(desk.store.intel, desk.settings, None, deliver=not args.no_deliver)
    if args.json:
        print_json(report.as_dict())
    else:
        print(report.summary)
        seconds = ", ".join(f"{k} {v:.2f} s" for k, v in report.seconds.items())
        if seconds:
            print(f"time: {seconds}")
    return 0


_USER = "as this person sees it: over the entries they see (default: the first admin)"


def register(command: CommandFactory) -> None:
    p = command("stories", cmd_stories, "list stories (entries grouped across sources)")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--min-size", type=int, default=2, help="fewest entries (default 2)")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.add_argument("--user", metavar="NAME", help=_USER)

    p = command("story", cmd_story, "show one story: its entries in time order, its timeline")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--user", metavar="NAME", help=_USER)

    p = command("entities", cmd_entities, "list people, organisations and places, or find one")
    p.add_argument("query", nargs="?", help="a name to look for")
    p.add_argument("--kind", choices=("person", "org", "place"))
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.add_argument("--user", metavar="NAME", help=_USER)

    p = command("entity", cmd_entity, "show an entity: co-mentions, mentions by day, stories")
    p.add_argument("ref", metavar="NAME|ID")
    p.add_argument("--limit", type=int, default=15)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--user", metavar="NAME", help=_USER)

    p = command("timeline", cmd_timeline, "dated events of a story or an entity")
    p.add_argument("--story", type=int, metavar="ID")
    p.add_argument("--entity", metavar="NAME|ID")
    p.add_argument("--format", choices=("text", "json", "csv"), default="text")
    p.add_argument("--user", metavar="NAME", help=_USER)

    p = command(
        "intel",
        cmd_intel,
        "group stored entries into stories and read their entities and dated events "
        "(what refresh does for new entries), then raise and send alerts",
    )
    p.add_argument("--no-deliver", action="store_true", help="raise alerts, send nothing")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

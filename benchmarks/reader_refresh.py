"""The `reader` library's side of the refresh benchmark, run as a child process.

This module owns what the comparison does with lemon24's ``reader`` (3.x):

* ``add``: ``make_reader(db)`` and ``add_feed`` for every URL of the farm's OPML (not timed);
* ``update``: ``update_feeds_iter(workers=N, scheduled=False)`` over every feed, counting the
  outcomes (updated / not modified / error), then ``update_search()`` when search is enabled
  (``add --search``: Newsdesk always indexes entries for full-text search, reader only on
  request), then the entries stored.

``scheduled=False`` matters: since reader 3.21 an update only touches feeds that are due, so a
second update right after the first would otherwise fetch nothing at all. ``workers`` is the size
of the thread pool reader retrieves (and parses) feeds with.

The last line printed is one JSON object with in-process timings and counts.
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

from reader import Reader, make_reader  # noqa: E402

try:  # reader 3.26's vendored feedparser imports `sgmllib` lazily, on the first add_feed
    import sgmllib  # noqa: F401
except ModuleNotFoundError:
    sys.exit("reader needs the sgmllib3k package here: pip install sgmllib3k")

_IMPORTED = time.perf_counter()
_XML_URL = re.compile(r'xmlUrl="([^"]+)"')


def add_feeds(reader: Reader, opml: Path, *, search: bool) -> dict[str, float | int]:
    """Subscribe to every feed of the OPML file (and turn full-text search on if asked)."""
    urls = _XML_URL.findall(opml.read_text(encoding="utf-8"))
    started = time.perf_counter()
    for url in urls:
        reader.add_feed(url, exist_ok=True)
    if search:
        reader.enable_search()
    return {"feeds_added": len(urls), "add_s": time.perf_counter() - started}


def update(reader: Reader, workers: int) -> dict[str, float | int | str]:
    """Update every feed once and count what happened."""
    started = time.perf_counter()
    updated = not_modified = errors = new = 0
    first_error = ""
    for result in reader.update_feeds_iter(scheduled=False, workers=workers):
        if result.error is not None:
            errors += 1
            first_error = first_error or f"{result.url}: {result.error!r}"
        elif result.updated_feed is None:
            not_modified += 1
        else:
            updated += 1
            new += result.updated_feed.new
    search_s = 0.0
    if reader.is_search_enabled():
        search_started = time.perf_counter()
        reader.update_search()
        search_s = time.perf_counter() - search_started
    update_s = time.perf_counter() - started
    counts = reader.get_entry_counts()
    return {
        "update_s": update_s,
        "feeds_updated": updated,
        "feeds_not_modified": not_modified,
        "feeds_failed": errors,
        "first_error": first_error,
        "new_entries": new,
        "entries": counts.total or 0,
        "workers": workers,
        "search_s": search_s,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("add", "update"))
    parser.add_argument("--db", type=Path, required=True, help="SQLite file for reader")
    parser.add_argument("--opml", type=Path, help="feed list (for add)")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument(
        "--search", action="store_true", help="add: enable full-text search (FTS5), as Newsdesk"
    )
    args = parser.parse_args(argv)
    opened = time.perf_counter()
    reader = make_reader(str(args.db))
    report: dict[str, float | int | str] = {
        "import_s": _IMPORTED - _STARTED,
        "open_s": time.perf_counter() - opened,
    }
    try:
        if args.action == "add":
            if args.opml is None:
                parser.error("add needs --opml")
            report.update(add_feeds(reader, args.opml, search=args.search))
        else:
            report.update(update(reader, args.workers))
    finally:
        reader.close()
    report["in_process_s"] = time.perf_counter() - _STARTED
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

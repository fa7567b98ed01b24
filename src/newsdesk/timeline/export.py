"""Timeline downloads: JSON (every field) and CSV (what a spreadsheet needs).

CSV cells that start with = + - @ (or a tab or carriage return) get a leading apostrophe:
spreadsheets run such cells as formulas, and the sentences and titles come from the web."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsdesk.store.events import TimelineEvent

CSV_HEADER = (
    "date",
    "precision",
    "sentence",
    "entry_id",
    "entry_title",
    "entry_url",
    "feed_title",
    "published",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def events_to_json(events: Sequence[TimelineEvent]) -> str:
    """A JSON array of the events' as_dict() objects."""
    return json.dumps([e.as_dict() for e in events], ensure_ascii=False, indent=2) + "\n"


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def events_to_csv(events: Sequence[TimelineEvent]) -> str:
    """RFC 4180 CSV (CRLF line ends, quotes doubled) with CSV_HEADER as its first row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for event in events:
        row = event.as_dict()
        writer.writerow([_cell(row[name]) for name in CSV_HEADER])
    return out.getvalue()

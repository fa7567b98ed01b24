"""What a parse worker process runs: one fetched document parsed and processed
(``parse_document``), or, for the pool, decoded first and sent back as plain tuples
(``parse_fetched``).

Lean on purpose: this module imports the parser stack, never the store or SQLAlchemy (the
workers that also store a refresh's groups import those through ``refresh_worker``); the
pool's fork server loads both once for all its workers (``pools.FORKSERVER_PRELOAD``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newsdesk.errors import NewsdeskError
from newsdesk.fetch.encoded import BodyError, Decoding, inflate
from newsdesk.model import Entry
from newsdesk.process.entry_wire import pack_entries


@dataclass(slots=True)
class ParsedDocument:
    """What parse + process made of one fetched document (crosses process boundaries)."""

    title: str | None
    site_url: str | None
    problems: list[str]
    ttl_minutes: int | None
    entries: list[Entry]


def parse_document(
    body: bytes, url: str, content_type: str | None, now: datetime
) -> ParsedDocument | str:
    """Parse and process one document; an error message instead when it cannot be read.
    A plain function of plain data, so it can run in a worker process."""
    from newsdesk.parse import parse_feed
    from newsdesk.process.pipeline import process_feed

    try:
        parsed = parse_feed(body, url, content_type)
        batch = process_feed(parsed, url, now)
    except NewsdeskError as exc:
        return str(exc)
    except Exception as exc:  # a bug in a parser must not stop the refresh of other feeds
        return f"cannot read the feed ({type(exc).__name__}: {exc})"
    return ParsedDocument(parsed.title, parsed.site_url, parsed.problems, parsed.ttl_minutes, batch)


def parse_fetched(body: bytes, how: Decoding | None, *args: Any) -> tuple[Any, ...] | str | None:
    """``parse_document(body, *args)`` in a worker process, for the writer's: a body that came
    compressed decoded first (None: it needs aiohttp's decoder; a fetch error as a 1-tuple),
    the entries as plain tuples (``process.entry_wire``: far cheaper to unpickle)."""
    if how is not None:
        try:
            decoded = inflate(body, how)
        except BodyError as exc:
            return (str(exc),)
        if decoded is None:
            return None
        body = decoded
    found = parse_document(body, *args)
    if isinstance(found, str):
        return found
    head = (found.title, found.site_url, found.problems, found.ttl_minutes)
    return (*head, pack_entries(found.entries))

"""Stored timeline events: each entry's dated events (newsdesk.timeline.extract_events), linked
to the entities named in their sentences, and read back as the timeline of a story, of an
entity or of one entry."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, Select, delete, func, insert, select

from newsdesk.errors import NewsdeskError
from newsdesk.model import PRECISIONS, Event
from newsdesk.store.schema import entities, entries, event_entities, feeds
from newsdesk.store.schema import events as events_table
from newsdesk.store.visibility import lens, sees_feed
from newsdesk.util import chunks, iso

_FEED_TITLE = func.coalesce(feeds.c.title, feeds.c.url)  # a person's own name for it: _named


@dataclass(slots=True)
class TimelineEvent:
    """An event as a timeline shows it: what, when, how precisely, and which entry said so."""

    id: int
    date: str
    precision: str
    sentence: str
    position: int
    entry_id: int
    entry_title: str | None
    entry_url: str | None
    feed_title: str | None
    published: datetime | None
    story_id: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "date": self.date,
            "precision": self.precision,
            "sentence": self.sentence,
            "position": self.position,
            "entry_id": self.entry_id,
            "entry_title": self.entry_title,
            "entry_url": self.entry_url,
            "feed_title": self.feed_title,
            "published": iso(self.published),
            "story_id": self.story_id,
        }


def _check(event: Event) -> None:
    """Refuse what would store a wrong date: a timeline sorts by the ISO text."""
    if event.precision not in PRECISIONS:
        raise NewsdeskError(f"event precision must be one of {', '.join(PRECISIONS)}")
    try:
        day = date.fromisoformat(event.date)
    except (TypeError, ValueError):
        raise NewsdeskError(f"event date {event.date!r} is not an ISO date (YYYY-MM-DD)") from None
    if day.isoformat() != event.date:
        raise NewsdeskError(f"event date {event.date!r} is not an ISO date (YYYY-MM-DD)")
    if (event.precision != "day" and day.day != 1) or (
        event.precision == "year" and day.month != 1
    ):
        raise NewsdeskError(
            f"event date {event.date!r} is not the first day of its {event.precision}"
        )
    if not event.sentence.strip():
        raise NewsdeskError("an event needs its sentence")


def _mentioned(
    sentence: str, surfaces: Mapping[str, int], cache: dict[str, re.Pattern[str]]
) -> set[int]:
    """Entity ids whose surface form occurs in ``sentence`` as whole words, case kept."""
    found: set[int] = set()
    for surface, entity_id in surfaces.items():
        if entity_id in found or not surface or surface not in sentence:
            continue
        pattern = cache.get(surface)
        if pattern is None:
            pattern = cache[surface] = re.compile(rf"(?<!\w){re.escape(surface)}(?!\w)")
        if pattern.search(sentence):
            found.add(entity_id)
    return found


def replace_events(
    conn: Connection,
    entry_id: int,
    events: Sequence[Event],
    surfaces: Mapping[str, int],
    *,
    fresh: bool = False,
) -> int:
    """Replace the stored events of ``entry_id`` with ``events`` (in the caller's write
    transaction) and link each to the entities whose surface form (``surfaces``: as written in
    the text -> entity id) occurs in its sentence. Returns how many events were stored.

    ``fresh``: the caller knows the entry exists and has no events yet (it was never read), so
    there is nothing to check or delete — a refresh of thousands of new entries saves three
    statements each."""
    for event in events:
        _check(event)
    if not fresh:
        exists = conn.execute(select(entries.c.id).where(entries.c.id == entry_id)).first()
        if exists is None:
            raise NewsdeskError(f"no entry with id {entry_id}")
        old = select(events_table.c.id).where(events_table.c.entry_id == entry_id)
        conn.execute(delete(event_entities).where(event_entities.c.event_id.in_(old)))
        conn.execute(delete(events_table).where(events_table.c.entry_id == entry_id))
    if not events:
        return 0
    wanted = {s.strip(): int(i) for s, i in surfaces.items() if s and s.strip()}
    known: set[int] = set()
    if wanted:
        ids = sorted(set(wanted.values()))
        known = {
            row[0] for row in conn.execute(select(entities.c.id).where(entities.c.id.in_(ids)))
        }
    live = {s: i for s, i in wanted.items() if i in known}
    cache: dict[str, re.Pattern[str]] = {}
    links: list[dict[str, int]] = []
    rows = [
        {
            "entry_id": entry_id,
            "date": e.date,
            "precision": e.precision,
            "sentence": e.sentence,
            "position": e.position,
        }
        for e in events
    ]
    new_ids = (
        conn.execute(
            insert(events_table).returning(events_table.c.id, sort_by_parameter_order=True), rows
        )
        .scalars()
        .all()
    )
    for event, new_id in zip(events, new_ids, strict=True):
        links.extend(
            {"event_id": new_id, "entity_id": entity_id}
            for entity_id in sorted(_mentioned(event.sentence, live, cache))
        )
    if links:
        conn.execute(insert(event_entities), links)
    return len(events)


def _timeline_select() -> Select[Any]:
    return select(
        events_table.c.id,
        events_table.c.date,
        events_table.c.precision,
        events_table.c.sentence,
        events_table.c.position,
        events_table.c.entry_id,
        entries.c.feed_id,
        entries.c.title,
        entries.c.url,
        _FEED_TITLE.label("feed_title"),
        entries.c.published,
        entries.c.story_id,
    ).select_from(
        events_table.join(entries, entries.c.id == events_table.c.entry_id).join(
            feeds, feeds.c.id == entries.c.feed_id
        )
    )


_BY_DATE = (
    events_table.c.date,
    entries.c.published,
    events_table.c.entry_id,
    events_table.c.position,
)


def _event(row: Row[Any]) -> TimelineEvent:
    return TimelineEvent(
        id=row.id,
        date=row.date,
        precision=row.precision,
        sentence=row.sentence,
        position=row.position,
        entry_id=row.entry_id,
        entry_title=row.title,
        entry_url=row.url,
        feed_title=row.feed_title,
        published=row.published,
        story_id=row.story_id,
    )


def _distinct(found: Iterable[TimelineEvent]) -> list[TimelineEvent]:
    """One event per date and sentence: syndicated copies of an article tell it once (the
    earliest published copy is kept, as rows come sorted by date then publication)."""
    seen: set[tuple[str, str, str]] = set()
    out: list[TimelineEvent] = []
    for event in found:
        key = (event.date, event.precision, " ".join(event.sentence.split()).casefold())
        if key not in seen:
            seen.add(key)
            out.append(event)
    return out


class EventStore:
    """Timelines of stories, entities and entries (``store.events``), told by the entries the
    store's person sees (issue 15; None: every entry), their feeds by the person's names."""

    def __init__(self, engine: Engine, person_id: int | None = None) -> None:
        self.engine = engine
        self.person_id = person_id

    def _read(self, stmt: Select[Any], limit: int | None) -> list[TimelineEvent]:
        person = self.person_id
        stmt = stmt.where(sees_feed(person))
        if limit is not None:
            stmt = stmt.limit(max(0, limit))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            names = lens(conn, person, (r.feed_id for r in rows)) if person is not None else {}
        found = [_event(row) for row in rows]
        for event, row in zip(found, rows, strict=True):
            seen = names.get(row.feed_id)
            if seen is not None and seen.title:
                event.feed_title = seen.title
        return found

    def story_timeline(
        self, story_id: int, *, distinct: bool = True, limit: int | None = None
    ) -> list[TimelineEvent]:
        """The events of a story's entries, by date, then publication, then position in the
        entry; the same event told by several entries once unless ``distinct`` is False."""
        stmt = _timeline_select().where(entries.c.story_id == story_id).order_by(*_BY_DATE)
        found = self._read(stmt, limit)
        return _distinct(found) if distinct else found

    def entity_timeline(
        self, entity_id: int, *, distinct: bool = True, limit: int | None = None
    ) -> list[TimelineEvent]:
        """The events whose sentence names the entity, in the order of story_timeline."""
        stmt = (
            _timeline_select()
            .join(event_entities, event_entities.c.event_id == events_table.c.id)
            .where(event_entities.c.entity_id == entity_id)
            .order_by(*_BY_DATE)
        )
        found = self._read(stmt, limit)
        return _distinct(found) if distinct else found

    def entry_events(self, entry_id: int) -> list[TimelineEvent]:
        """The events of one entry, in the order the text tells them."""
        stmt = (
            _timeline_select()
            .where(events_table.c.entry_id == entry_id)
            .order_by(events_table.c.position, events_table.c.id)
        )
        return self._read(stmt, None)

    def event_entity_ids(self, event_ids: Iterable[int]) -> dict[int, list[int]]:
        """Entity ids linked to each of ``event_ids`` (for pages that show who an event names;
        the ids come from events the person was shown)."""
        ids = sorted(set(event_ids))
        out: dict[int, list[int]] = {i: [] for i in ids}
        if not ids:
            return out
        with self.engine.connect() as conn:
            for chunk in chunks(ids):
                rows = conn.execute(
                    select(event_entities.c.event_id, event_entities.c.entity_id)
                    .where(event_entities.c.event_id.in_(chunk))
                    .order_by(event_entities.c.event_id, event_entities.c.entity_id)
                )
                for event_id, entity_id in rows:
                    out[event_id].append(entity_id)
        return out

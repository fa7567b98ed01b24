"""The intel stage's queries (``store.intel``): which entries to read, their texts, storing what
was read, clustering's transactions, and the story members the river folds into cards. It
implements ``newsdesk.store.protocols.intel.IntelStorage``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from newsdesk.store.alerts import AlertStore
from newsdesk.store.engine import write_transaction
from newsdesk.store.entities import replace_mentions
from newsdesk.store.events import replace_events
from newsdesk.store.protocols.intel import EntryRow, EntryText, Facts, Reading
from newsdesk.store.schema import entries, entry_intel, feeds
from newsdesk.store.search import index_queued
from newsdesk.store.stories import (
    assign_stories,
    create_stories,
    entry_facts,
    key_hits,
    load_entries,
    merge_stories,
    refresh_stories,
    replace_keys,
    replace_signatures,
    signatures,
    story_leads,
    unclustered_ids,
)
from newsdesk.store.visibility import lens, read_column, sees_feed, state_join
from newsdesk.util import chunks

if TYPE_CHECKING:
    from newsdesk.store.rules import RuleStore

SCAN_CHUNK = 2000  # ids looked at per query when scanning the whole store
_CLUSTER_LOCK = 7405124  # PostgreSQL advisory lock key (migrations use 7405123)


@dataclass(frozen=True, slots=True)
class StoryMember:
    """A member of a story as the river's cards show it."""

    id: int
    story_id: int
    published: datetime
    kind: str
    feed_title: str
    read: bool


class _ConnBatch:
    """``ClusterBatch`` on one connection inside a write transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def unclustered_ids(self, limit: int) -> list[int]:
        return unclustered_ids(self.conn, limit)

    def load_entries(self, ids: Sequence[int]) -> list[EntryRow]:
        return load_entries(self.conn, ids)

    def story_leads(self, story_ids: Iterable[int]) -> dict[int, tuple[int | None, int]]:
        return story_leads(self.conn, story_ids)

    def key_hits(self, keys: Iterable[str]) -> list[tuple[str, int]]:
        return key_hits(self.conn, keys)

    def entry_facts(self, ids: Iterable[int]) -> dict[int, Facts]:
        return entry_facts(self.conn, ids)

    def signatures(self, ids: Iterable[int]) -> dict[int, tuple[bytes | None, str | None]]:
        return signatures(self.conn, ids)

    def create_stories(self, count: int, when: datetime, now: datetime) -> list[int]:
        return create_stories(self.conn, count, when, now)

    def merge_stories(self, merged: Mapping[int, int]) -> None:
        merge_stories(self.conn, merged)

    def replace_keys(
        self, rekeyed: Sequence[int], rows: Sequence[tuple[str, int, datetime]]
    ) -> None:
        replace_keys(self.conn, rekeyed, rows)

    def replace_signatures(self, rows: Sequence[tuple[int, bytes | None, str]]) -> None:
        replace_signatures(self.conn, rows)

    def assign_stories(self, assignments: Mapping[int, int]) -> None:
        assign_stories(self.conn, assignments)

    def refresh_stories(self, story_ids: Iterable[int], now: datetime) -> None:
        refresh_stories(self.conn, story_ids, now)


def _record(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Mark entries read (``entry_intel``), replacing an earlier mark."""
    if not rows:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(entry_intel)
    stmt = stmt.on_conflict_do_update(
        index_elements=[entry_intel.c.entry_id],
        set_={
            "content_hash": stmt.excluded.content_hash,
            "text_length": stmt.excluded.text_length,
            "version": stmt.excluded.version,
            "entities_model": stmt.excluded.entities_model,
            "done_at": stmt.excluded.done_at,
        },
    )
    conn.execute(stmt, rows)  # executemany: one compiled statement, cached


class IntelStore:
    """The intel stage's door to the database (``store.intel``)."""

    def __init__(
        self, engine: Engine, person_id: int | None = None, rules: RuleStore | None = None
    ) -> None:
        self.engine = engine
        self.alerts = AlertStore(engine)
        # every person's rules, applied to new entries before alerts (``newsdesk.rules``)
        self.rules = rules
        # whose river the story members are for (``story_members``); the stage has none
        self.person_id = person_id

    # -- clustering --

    @contextmanager
    def clustering(self) -> Iterator[_ConnBatch]:
        with write_transaction(self.engine) as conn:
            yield _ConnBatch(conn)

    @contextmanager
    def clustering_lock(self) -> Iterator[None]:
        """One clusterer at a time on PostgreSQL (several workers): two duplicates clustered at
        the same moment in two processes would otherwise each start a story. SQLite writers are
        one at a time already."""
        if self.engine.dialect.name != "postgresql":
            yield
            return
        with self.engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({_CLUSTER_LOCK})")
            conn.commit()
            try:
                yield
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_CLUSTER_LOCK})")
                conn.commit()

    def index_queued_search(self, from_id: int = 0) -> int:
        return index_queued(self.engine, from_id=from_id)

    # -- reading entities and events --

    def all_entry_ids(self) -> Iterator[list[int]]:
        """Every stored entry id, in chunks, oldest first (a backlog run)."""
        last = 0
        with self.engine.connect() as conn:
            while True:
                chunk = [
                    int(r.id)
                    for r in conn.execute(
                        select(entries.c.id)
                        .where(entries.c.id > last)
                        .order_by(entries.c.id)
                        .limit(SCAN_CHUNK)
                    )
                ]
                if not chunk:
                    return
                yield chunk
                last = chunk[-1]

    def pending(self, ids: Sequence[int], model: str | None, version: int) -> dict[int, bool]:
        """Of ``ids``, those whose text was never read (True), or changed since or was read
        otherwise (False)."""
        found: dict[int, bool] = {}
        stale = or_(
            entry_intel.c.entry_id.is_(None),
            entry_intel.c.content_hash != entries.c.content_hash,
            entry_intel.c.text_length != func.length(entries.c.content_text),
            entry_intel.c.version != version,
            func.coalesce(entry_intel.c.entities_model, "") != (model or ""),
        )
        joined = entries.outerjoin(entry_intel, entry_intel.c.entry_id == entries.c.id)
        with self.engine.connect() as conn:
            for chunk in chunks(ids, SCAN_CHUNK):
                rows = conn.execute(
                    select(entries.c.id, entry_intel.c.entry_id.is_(None).label("fresh"))
                    .select_from(joined)
                    .where(and_(entries.c.id.in_(list(chunk)), stale))
                    .order_by(entries.c.id)
                )
                found.update((int(r.id), bool(r.fresh)) for r in rows)
        return found

    def entry_texts(self, ids: Sequence[int]) -> list[EntryText]:
        query = select(
            entries.c.id,
            entries.c.title,
            entries.c.content_text,
            entries.c.content_hash,
            entries.c.published,
            entries.c.language,
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query.where(entries.c.id.in_(list(ids))).order_by(entries.c.id))
            return [
                EntryText(
                    r.id,
                    r.title or "",
                    r.content_text or "",
                    r.content_hash,
                    r.published,
                    r.language,
                )
                for r in rows
            ]

    def save_readings(
        self, readings: Sequence[Reading], *, version: int, model: str | None, done_at: datetime
    ) -> int:
        stored = 0
        with write_transaction(self.engine) as conn:
            for r in readings:
                surfaces: dict[str, int] = {}
                if r.mentions is not None:
                    surfaces = replace_mentions(conn, r.entry_id, r.published, r.mentions)
                if r.events is not None:
                    stored += replace_events(conn, r.entry_id, r.events, surfaces, fresh=r.fresh)
            marks = [
                {
                    "entry_id": r.entry_id,
                    "content_hash": r.content_hash,
                    "text_length": r.text_length,
                    "version": version,
                    "entities_model": model,
                    "done_at": done_at,
                }
                for r in readings
            ]
            _record(conn, marks)
        return stored

    # -- alerts (the alerts package's own queries, run on this store) --

    # -- the river's story cards --

    def story_members(self, story_ids: Sequence[int], limit: int) -> list[StoryMember]:
        """Members of the stories (those the person sees, with their read state and their
        name for the feed), newest first, at most ``limit``."""
        person = self.person_id
        stmt = (
            select(
                entries.c.id,
                entries.c.story_id,
                entries.c.published,
                entries.c.kind,
                entries.c.feed_id,
                read_column(person),
                func.coalesce(feeds.c.title, feeds.c.url).label("feed_name"),
            )
            .select_from(
                (entries if person is None else state_join(entries, person)).join(
                    feeds, feeds.c.id == entries.c.feed_id
                )
            )
            .where(entries.c.story_id.in_(list(story_ids)), sees_feed(person))
            .order_by(entries.c.published.desc(), entries.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            names = lens(conn, person, (r.feed_id for r in rows)) if person is not None else {}
        found = []
        for r in rows:
            seen = names.get(r.feed_id)
            title = (seen.title if seen is not None else None) or r.feed_name
            found.append(StoryMember(r.id, r.story_id, r.published, r.kind, title, bool(r.read)))
        return found


_OPENED: dict[str, IntelStore] = {}


def open_intel(url: str) -> IntelStore:
    """The intel part of the store at ``url``, opened once per process (a background job)."""
    found = _OPENED.get(url)
    if found is None:
        from newsdesk.store.sql import SqlStore

        found = _OPENED[url] = SqlStore(url).as_system().intel
    return found

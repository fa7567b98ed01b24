"""Stories in the store: reading summaries and members, and the SQL that clustering
(``newsdesk.stories``) runs — batched lookups of candidate keys and signatures, and the writes
that keep ``stories`` rows in step with their members."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, case, delete, func, insert, select, update

from newsdesk.store.engine import write_transaction
from newsdesk.store.protocols.intel import EntryRow, Facts
from newsdesk.store.schema import entries, entry_signatures, stories, story_keys
from newsdesk.store.visibility import sees_feed, visible_feeds
from newsdesk.util import chunks, iso

if TYPE_CHECKING:
    from newsdesk.store.core import CoreStore


@dataclass(frozen=True, slots=True)
class StorySummary:
    """A story as lists and cards show it."""

    id: int
    title: str | None
    lead_entry_id: int | None
    size: int
    sources: int
    first_published: datetime
    last_published: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "lead_entry_id": self.lead_entry_id,
            "size": self.size,
            "sources": self.sources,
            "first_published": iso(self.first_published),
            "last_published": iso(self.last_published),
        }


_SUMMARY = (
    stories.c.id,
    stories.c.title,
    stories.c.lead_entry_id,
    stories.c.size,
    stories.c.sources,
    stories.c.first_published,
    stories.c.last_published,
)


def _summary(row: Any) -> StorySummary:
    return StorySummary(
        id=row.id,
        title=row.title,
        lead_entry_id=row.lead_entry_id,
        size=row.size,
        sources=row.sources,
        first_published=row.first_published,
        last_published=row.last_published,
    )


# -- what clustering reads and writes -------------------------------------------------------


def unclustered_ids(conn: Connection, limit: int) -> list[int]:
    """Entries not clustered yet, oldest first, so stories grow in time order."""
    return list(
        conn.execute(
            select(entries.c.id)
            .where(entries.c.story_id.is_(None))
            .order_by(entries.c.published, entries.c.id)
            .limit(limit)
        ).scalars()
    )


def load_entries(conn: Connection, ids: Sequence[int]) -> list[EntryRow]:
    """The entries of ``ids`` (those that exist), oldest first, with their stored signature."""
    query = select(
        entries.c.id,
        entries.c.feed_id,
        entries.c.kind,
        entries.c.title,
        entries.c.content_text,
        entries.c.url_canonical,
        entries.c.links,
        entries.c.published,
        entries.c.story_id,
        entry_signatures.c.title_terms,
    ).outerjoin(entry_signatures, entry_signatures.c.entry_id == entries.c.id)
    found: list[EntryRow] = []
    for chunk in chunks(list(dict.fromkeys(ids))):
        for r in conn.execute(query.where(entries.c.id.in_(chunk))):
            found.append(
                EntryRow(
                    id=r.id,
                    feed_id=r.feed_id,
                    kind=r.kind,
                    title=r.title or "",
                    text=r.content_text or "",
                    url_canonical=r.url_canonical,
                    links=[u for u in (r.links or []) if isinstance(u, str)],
                    published=r.published,
                    story_id=r.story_id,
                    title_terms=r.title_terms,
                )
            )
    found.sort(key=lambda e: (e.published, e.id))
    return found


def _marks(conn: Connection, count: int) -> str:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return ", ".join([mark] * count)


def _driver_rows(conn: Connection, template: str, values: Sequence[Any]) -> list[Any]:
    """Rows of ``template`` (with "{marks}" for an IN list) over ``values``, in chunks. Plain
    driver SQL: these lookups return the most rows, and SQLAlchemy's row machinery would cost
    more than the database does."""
    rows: list[Any] = []
    for chunk in chunks(list(dict.fromkeys(values))):
        statement = template.format(marks=_marks(conn, len(chunk)))
        cursor = conn.connection.cursor()  # the DB-API cursor, inside this transaction
        try:
            cursor.execute(statement, tuple(chunk))
            rows.extend(cursor.fetchall())
        finally:
            cursor.close()
    return rows


def _execute_many(conn: Connection, statement: str, rows: Sequence[tuple[Any, ...]]) -> None:
    cursor = conn.connection.cursor()
    try:
        for chunk in chunks(list(rows), 5000):
            cursor.executemany(statement, list(chunk))
    finally:
        cursor.close()


def key_hits(conn: Connection, keys: Iterable[str]) -> list[tuple[str, int]]:
    """Every stored (key, entry id) of ``keys``. The keys' table alone: joining entries here
    would read a whole entry row (its text, before ``story_id``) for every hit."""
    return _driver_rows(
        conn, 'SELECT "key", entry_id FROM story_keys WHERE "key" IN ({marks})', list(keys)
    )


def entry_facts(conn: Connection, ids: Iterable[int]) -> dict[int, Facts]:
    """Story, feed and time of the entries ``ids``."""
    rows = _driver_rows(
        conn,
        "SELECT id, story_id, feed_id, published FROM entries WHERE id IN ({marks})",
        list(ids),
    )
    return {
        entry_id: Facts(story, feed, _utc(published)) for entry_id, story, feed, published in rows
    }


def signatures(conn: Connection, ids: Iterable[int]) -> dict[int, tuple[bytes | None, str | None]]:
    """Stored signature and title words of the entries ``ids``."""
    rows = _driver_rows(
        conn,
        "SELECT entry_id, minhash, title_terms FROM entry_signatures WHERE entry_id IN ({marks})",
        list(ids),
    )
    return {
        entry_id: (bytes(blob) if blob is not None else None, terms)
        for entry_id, blob, terms in rows
    }


def _utc(value: datetime | str) -> datetime:
    """A stored time as ``UTCDateTime`` returns it (SQLite gives text, PostgreSQL naive)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


def story_leads(conn: Connection, story_ids: Iterable[int]) -> dict[int, tuple[int | None, int]]:
    """story id → (lead entry id, size)."""
    wanted = list(dict.fromkeys(story_ids))
    found: dict[int, tuple[int | None, int]] = {}
    query = select(stories.c.id, stories.c.lead_entry_id, stories.c.size)
    for chunk in chunks(wanted):
        for r in conn.execute(query.where(stories.c.id.in_(chunk))):
            found[r.id] = (r.lead_entry_id, r.size)
    return found


def replace_keys(
    conn: Connection,
    rekeyed: Sequence[int],
    rows: Sequence[tuple[str, int, datetime]],
) -> None:
    """Drop the keys of ``rekeyed`` entries, then store ``rows`` (key, entry id, published).
    Plain driver SQL too: an entry has about 20 keys, and this is most of what clustering
    writes."""
    for chunk in chunks(list(rekeyed)):
        conn.execute(delete(story_keys).where(story_keys.c.entry_id.in_(chunk)))
    if not rows:
        return
    as_stored = story_keys.c.published.type.bind_processor(conn.dialect)
    times: dict[datetime, Any] = {}
    values = []
    for key, entry_id, published in sorted(rows):  # in key order: the index is built in order
        if published not in times:
            times[published] = as_stored(published) if as_stored else published
        values.append((key, entry_id, times[published]))
    statement = (
        f'INSERT INTO story_keys ("key", entry_id, published) VALUES ({_marks(conn, 3)}) '
        "ON CONFLICT DO NOTHING"
    )
    _execute_many(conn, statement, values)


def replace_signatures(conn: Connection, rows: Sequence[tuple[int, bytes | None, str]]) -> None:
    """Store (entry id, minhash, title terms) rows, replacing those already there: one upsert
    statement (SQLite and PostgreSQL share its syntax), in driver SQL like the keys."""
    statement = (
        f"INSERT INTO entry_signatures (entry_id, minhash, title_terms) VALUES ({_marks(conn, 3)}) "
        "ON CONFLICT (entry_id) DO UPDATE SET minhash = excluded.minhash, "
        "title_terms = excluded.title_terms"
    )
    _execute_many(conn, statement, rows)


def create_stories(conn: Connection, count: int, when: datetime, now: datetime) -> list[int]:
    """``count`` new story rows (their figures are set by ``refresh_stories``); their ids."""
    if count <= 0:
        return []
    row = {
        "title": None,
        "lead_entry_id": None,
        "size": 0,
        "sources": 0,
        "first_published": when,
        "last_published": when,
        "created_at": now,
        "updated_at": now,
    }
    result = conn.execute(
        insert(stories).returning(stories.c.id, sort_by_parameter_order=True),
        [dict(row) for _ in range(count)],
    )
    return [int(r[0]) for r in result]


def assign_stories(conn: Connection, assignments: Mapping[int, int]) -> None:
    """Set ``entries.story_id`` for each entry id → story id."""
    if not assignments:
        return
    statement = (
        update(entries)
        .where(entries.c.id == bindparam("eid"))
        .values(story_id=bindparam("sid"))
        .execution_options(synchronize_session=False)
    )
    rows = [{"eid": e, "sid": s} for e, s in assignments.items()]
    for chunk in chunks(rows, 2000):
        conn.execute(statement, list(chunk))


def merge_stories(conn: Connection, merged: Mapping[int, int]) -> None:
    """Move the members of each story into the story it merged into (story → target)."""
    for source, target in merged.items():
        if source != target:
            conn.execute(
                update(entries).where(entries.c.story_id == source).values(story_id=target)
            )


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    feed_id: int
    kind: str
    title: str | None
    text_length: int
    fulltext: bool
    published: datetime


def _lead(members: Sequence[Member]) -> Member:
    """The best article: an article over a post, full text over a summary, a longer text,
    then the earliest."""
    return min(
        members,
        key=lambda m: (
            m.kind != "article",
            not m.fulltext,
            -min(m.text_length, 20_000) // 500,
            m.published,
            m.id,
        ),
    )


def _title_of(member: Member) -> str | None:
    return member.title


def _members(
    conn: Connection, story_ids: Sequence[int], person: int | None
) -> dict[int, list[Member]]:
    """The members of each story (those ``person`` sees; None: all)."""
    members: dict[int, list[Member]] = {s: [] for s in story_ids}
    query = select(
        entries.c.id,
        entries.c.story_id,
        entries.c.feed_id,
        entries.c.kind,
        entries.c.title,
        func.length(entries.c.content_text).label("text_length"),
        entries.c.fulltext_status,
        entries.c.published,
    ).where(sees_feed(person))
    for chunk in chunks(list(story_ids)):
        for r in conn.execute(query.where(entries.c.story_id.in_(chunk))):
            members[r.story_id].append(
                Member(
                    r.id,
                    r.feed_id,
                    r.kind,
                    r.title,
                    int(r.text_length or 0),
                    r.fulltext_status == "done",
                    r.published,
                )
            )
    return members


def refresh_stories(conn: Connection, story_ids: Iterable[int], now: datetime) -> None:
    """Recompute title, lead, size, sources and dates of ``story_ids`` from their members;
    stories left with no member are deleted."""
    wanted = list(dict.fromkeys(story_ids))
    if not wanted:
        return
    members = _members(conn, wanted, None)
    empty = [s for s, m in members.items() if not m]
    for chunk in chunks(empty):
        conn.execute(delete(stories).where(stories.c.id.in_(chunk)))
    rows = []
    for story_id, found in members.items():
        if not found:
            continue
        lead = _lead(found)
        rows.append(
            {
                "sid": story_id,
                "b_title": _title_of(lead),
                "b_lead_entry_id": lead.id,
                "b_size": len(found),
                "b_sources": len({m.feed_id for m in found}),
                "b_first_published": min(m.published for m in found),
                "b_last_published": max(m.published for m in found),
                "b_updated_at": now,
            }
        )
    statement = (
        update(stories)
        .where(stories.c.id == bindparam("sid"))
        .values(
            title=bindparam("b_title"),
            lead_entry_id=bindparam("b_lead_entry_id"),
            size=bindparam("b_size"),
            sources=bindparam("b_sources"),
            first_published=bindparam("b_first_published"),
            last_published=bindparam("b_last_published"),
            updated_at=bindparam("b_updated_at"),
        )
    )
    for part in chunks(rows, 2000):
        conn.execute(statement, list(part))


def _seen_summaries(
    conn: Connection, story_ids: Sequence[int], person: int
) -> dict[int, StorySummary]:
    """The stories as ``person`` sees them: counted over the members they see (one query; the
    members themselves only for a story whose lead they do not see)."""
    member = entries.alias("member")
    lead_seen = func.max(case((member.c.id == stories.c.lead_entry_id, 1), else_=0))
    query = (
        select(
            *_SUMMARY,
            func.count().label("seen_size"),
            func.count(func.distinct(member.c.feed_id)).label("seen_sources"),
            func.min(member.c.published).label("seen_first"),
            func.max(member.c.published).label("seen_last"),
            lead_seen.label("lead_seen"),
        )
        .select_from(stories.join(member, member.c.story_id == stories.c.id))
        .where(stories.c.id.in_(list(story_ids)), member.c.feed_id.in_(visible_feeds(person)))
        .group_by(*_SUMMARY)
    )
    found: dict[int, StorySummary] = {}
    unled: list[int] = []
    for row in conn.execute(query):
        if not row.lead_seen:
            unled.append(row.id)
        found[row.id] = StorySummary(
            id=row.id,
            title=row.title,
            lead_entry_id=row.lead_entry_id,
            size=int(row.seen_size),
            sources=int(row.seen_sources),
            first_published=_utc(row.seen_first),
            last_published=_utc(row.seen_last),
        )
    if unled:
        leads = {
            story_id: _lead(members)
            for story_id, members in _members(conn, unled, person).items()
            if members
        }
        for story_id, lead in leads.items():
            found[story_id] = replace(found[story_id], title=_title_of(lead), lead_entry_id=lead.id)
    return found


class StoryStore:
    """Stories as pages, the API and the CLI read them (``store.stories``), as the store's
    person sees them (issue 15): stories are clustered once over every entry, and shown to a
    person over the members they see — their size, sources, dates and lead counted over those;
    a story with no member they see does not exist for them. No person: every member."""

    def __init__(self, store: CoreStore) -> None:
        self.store = store
        self.engine = store.engine

    @property
    def _person(self) -> int | None:
        return self.store.person_id

    def get_story(self, story_id: int) -> StorySummary | None:
        return self.story_summaries([story_id]).get(story_id)

    def story_member_ids(self, story_id: int) -> list[int]:
        """The story's entries the person sees, oldest first."""
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(entries.c.id)
                    .where(entries.c.story_id == story_id, sees_feed(self._person))
                    .order_by(entries.c.published, entries.c.id)
                ).scalars()
            )

    def story_summaries(self, story_ids: Iterable[int]) -> dict[int, StorySummary]:
        wanted = list(dict.fromkeys(story_ids))
        found: dict[int, StorySummary] = {}
        person = self._person
        with self.engine.connect() as conn:
            for chunk in chunks(wanted):
                if person is None:
                    rows = conn.execute(select(*_SUMMARY).where(stories.c.id.in_(chunk)))
                    found.update((row.id, _summary(row)) for row in rows)
                else:
                    found.update(_seen_summaries(conn, chunk, person))
        return found

    def list_stories(
        self, *, limit: int = 50, offset: int = 0, min_size: int = 2
    ) -> list[StorySummary]:
        """Stories of at least ``min_size`` entries (that the person sees), the most recently
        active first."""
        person = self._person
        if person is None:
            query = (
                select(*_SUMMARY)
                .where(stories.c.size >= min_size)
                .order_by(stories.c.last_published.desc(), stories.c.id.desc())
                .limit(max(0, limit))
                .offset(max(0, offset))
            )
            with self.engine.connect() as conn:
                return [_summary(row) for row in conn.execute(query)]
        last = func.max(entries.c.published).label("last")
        page = (
            select(entries.c.story_id, last)
            .select_from(entries.join(stories, stories.c.id == entries.c.story_id))
            # a story has at least as many members as a person sees of it
            .where(stories.c.size >= min_size, sees_feed(person))
            .group_by(entries.c.story_id)
            .having(func.count() >= min_size)
            .order_by(last.desc(), entries.c.story_id.desc())
            .limit(max(0, limit))
            .offset(max(0, offset))
        )
        with self.engine.connect() as conn:
            ids = [int(r[0]) for r in conn.execute(page)]
            found = _seen_summaries(conn, ids, person) if ids else {}
        return [found[i] for i in ids if i in found]

    def repair_stories(self, now: datetime | None = None) -> int:
        """Bring story rows back in step with their members after entries were deleted (a purge,
        a removed feed): recount the stories whose size is off, delete those left empty. Returns
        how many stories it touched."""
        moment = now or datetime.now(UTC)
        with write_transaction(self.engine) as conn:
            counts: dict[int, int] = dict(
                conn.execute(
                    select(entries.c.story_id, func.count())
                    .where(entries.c.story_id.is_not(None))
                    .group_by(entries.c.story_id)
                ).all()
            )
            stale = [
                story_id
                for story_id, size in conn.execute(select(stories.c.id, stories.c.size)).all()
                if counts.get(story_id, 0) != size
            ]
            refresh_stories(conn, stale, moment)
        return len(stale)

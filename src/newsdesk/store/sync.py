"""Queries the reader-app APIs (Miniflux, Google Reader, Fever) need beyond ``EntryQuery``:
entries by id range and category id, any sort order, id lists without bodies, per-feed counts,
and marking everything matching a filter read in one statement.

``SyncStore`` (``store.sync``) reuses the store's entry filters, so a filter means the same thing
in the CLI, the web pages and every API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, literal, or_, select, union, union_all

from newsdesk.model import StoredEntry
from newsdesk.store.labels import label_filter
from newsdesk.store.protocols.refresh import EntryQuery
from newsdesk.store.reading import (
    category_members,
    feed_states,
    feed_totals,
    mark_states,
    person_categories,
)
from newsdesk.store.schema import (
    categories,
    category_shares,
    entries,
    entry_states,
    subscriptions,
)
from newsdesk.store.search import match_expression, search_statement
from newsdesk.store.values import aware_utc
from newsdesk.store.visibility import filed_under, sees_feed, state_join
from newsdesk.util import chunks

if TYPE_CHECKING:
    from newsdesk.store.core import CoreStore

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SORT_COLUMNS = (
    "published",
    "id",
    "status",
    "category_title",
    "category_id",
    "first_seen",
    "changed_at",
)


@dataclass(slots=True)
class SyncQuery:
    """``base`` filters (category title, feed, tag, kind, read, starred, since/until, ids) and
    the extras the reader APIs speak in."""

    base: EntryQuery = field(default_factory=EntryQuery)
    category_id: int | None = None
    after_id: int | None = None  # only ids greater than this
    before_id: int | None = None  # only ids smaller than this
    search: str | None = None
    changed_after: datetime | None = None  # changed strictly after this
    changed_before: datetime | None = None  # changed strictly before this
    sort: str = "published"
    descending: bool = True
    feed_ids: list[int] | None = None  # any of these feeds
    label: str | None = None  # a user label or feed tag of this name (``store.labels``)
    # Keyset paging: only entries after this (published, id) in the sort order, which must be
    # "published"; unlike an offset, it stays put when entries before it change state.
    after: tuple[datetime, int] | None = None


def _category_feeds(store: CoreStore, category_id: int) -> Any:
    """A select of the feeds in the category of that id, as the person sees it (nothing when
    it is neither theirs nor shared with them)."""
    person = store.person_id
    members = category_members(person).subquery()
    query = select(members.c.feed_id).where(members.c.category_id == category_id)
    if person is not None:
        query = query.where(members.c.category_id.in_(person_categories(person)))
    return query


def _changed(store: CoreStore, after: datetime) -> Any:
    """The entries changed after ``after``: their content, or the person's state of them
    (each side read from its own index)."""
    changed = select(entries.c.id).where(entries.c.changed_at > after)
    person = store.person_id
    if person is not None:
        states = select(entry_states.c.entry_id).where(
            entry_states.c.user_id == person, entry_states.c.changed_at > after
        )
        changed = union(changed, states)  # type: ignore[assignment]
    return entries.c.id.in_(changed)


def _filters(store: CoreStore, q: SyncQuery) -> list[Any] | None:
    """The WHERE clauses (over ``_source``); None when the query can match nothing (an empty
    search)."""
    where = store._entry_filters(q.base)
    person = store.person_id
    if q.category_id is not None:
        in_feeds = entries.c.feed_id.in_(_category_feeds(store, q.category_id))
        # and the entries one of the person's rules filed there (issue 16)
        where.append(
            in_feeds if person is None else or_(in_feeds, filed_under(person, q.category_id))
        )
    if q.after_id is not None:
        where.append(entries.c.id > q.after_id)
    if q.before_id is not None:
        where.append(entries.c.id < q.before_id)
    if q.feed_ids is not None:
        where.append(entries.c.feed_id.in_(q.feed_ids))
    if q.label is not None:
        where.append(label_filter(q.label, person))
    if q.after is not None:
        where.append(_after(q.after, q.descending))
    if q.changed_after is not None:
        where.append(_changed(store, q.changed_after))
    if q.changed_before is not None:
        where.append(entries.c.changed_at < q.changed_before)
        if person is not None:
            where.append(
                or_(
                    entry_states.c.changed_at.is_(None),
                    entry_states.c.changed_at < q.changed_before,
                )
            )
    if q.search is not None:
        match = match_expression(store.dialect, q.search)
        if not match:
            return None
        hits = search_statement(store.dialect, match, store._entries_from(), []).subquery()
        where.append(entries.c.id.in_(select(hits.c.id)))
    return where


def _after(position: tuple[datetime, int], descending: bool) -> Any:
    published, entry_id = position
    if descending:
        return or_(
            entries.c.published < published,
            and_(entries.c.published == published, entries.c.id < entry_id),
        )
    return or_(
        entries.c.published > published,
        and_(entries.c.published == published, entries.c.id > entry_id),
    )


def _placed(person: int) -> Any:
    """Each feed the person sees and the category it is in for them (their own subscription
    first, else the first shared category holding it): a subquery for sorting by category."""
    own = select(subscriptions.c.feed_id, subscriptions.c.category_id).where(
        subscriptions.c.user_id == person
    )
    mine = select(subscriptions.c.feed_id).where(subscriptions.c.user_id == person)
    shared = (
        select(subscriptions.c.feed_id, func.min(subscriptions.c.category_id))
        .join(category_shares, category_shares.c.category_id == subscriptions.c.category_id)
        .where(category_shares.c.user_id == person, subscriptions.c.feed_id.not_in(mine))
        .group_by(subscriptions.c.feed_id)
    )
    return union_all(own, shared).subquery("placed")


def _source(store: CoreStore, q: SyncQuery, *, for_sort: bool = False) -> tuple[Any, Any]:
    """The FROM the query needs (the entries and the person's states of them; a join the
    query does not use costs nothing: both databases drop it) and the category column to
    sort by, when the sort asks for one."""
    person = store.person_id
    source = state_join(entries, person) if person is not None else entries
    if not (for_sort and q.sort in {"category_title", "category_id"}) or person is None:
        return source, None
    placed = _placed(person)
    source = source.outerjoin(placed, placed.c.feed_id == entries.c.feed_id).outerjoin(
        categories, categories.c.id == placed.c.category_id
    )
    return source, categories.c.title if q.sort == "category_title" else placed.c.category_id


def _order(store: CoreStore, q: SyncQuery, category: Any) -> list[Any]:
    person = store.person_id
    changed: Any = entries.c.changed_at
    if person is not None:
        changed = case(
            (entry_states.c.changed_at > entries.c.changed_at, entry_states.c.changed_at),
            else_=entries.c.changed_at,
        )
    column: Any = {
        "published": entries.c.published,
        "id": entries.c.id,
        "status": func.coalesce(entry_states.c.read, False) if person is not None else literal(0),
        "first_seen": entries.c.first_seen,
        "changed_at": changed,
    }.get(q.sort, entries.c.published)
    if q.sort in {"category_title", "category_id"}:
        column = category if category is not None else entries.c.published
    if q.descending:
        return [column.desc(), entries.c.id.desc()]
    return [column.asc(), entries.c.id.asc()]


@dataclass(frozen=True, slots=True)
class FeedCount:
    feed_id: int
    unread: int
    read: int
    starred: int
    newest: datetime | None


class SyncStore:
    """The reader APIs' queries (``store.sync``), as the store's person sees them."""

    def __init__(self, store: CoreStore) -> None:
        self.store = store

    def _ordered(self, columns: list[Any], q: SyncQuery) -> Any | None:
        where = _filters(self.store, q)
        if where is None:
            return None
        source, category = _source(self.store, q, for_sort=True)
        return (
            select(*columns)
            .select_from(source)
            .where(and_(True, *where))
            .order_by(*_order(self.store, q, category))
        )

    def entry_ids(self, q: SyncQuery, limit: int | None = None, offset: int = 0) -> list[int]:
        stmt = self._ordered([entries.c.id], q)
        if stmt is None:
            return []
        stmt = stmt.offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.store.engine.connect() as conn:
            return [int(i) for i in conn.execute(stmt).scalars()]

    def entry_positions(self, q: SyncQuery, limit: int) -> list[tuple[int, datetime]]:
        """Ids and publication times, in the query's order (for keyset continuation tokens)."""
        stmt = self._ordered([entries.c.id, entries.c.published], q)
        if stmt is None:
            return []
        with self.store.engine.connect() as conn:
            return [(int(i), aware_utc(p) or _EPOCH) for i, p in conn.execute(stmt.limit(limit))]

    def list_entries(self, q: SyncQuery, limit: int, offset: int = 0) -> list[StoredEntry]:
        ids = self.entry_ids(q, limit, offset)
        return self.entries_by_ids(ids)

    def entries_by_ids(self, ids: list[int]) -> list[StoredEntry]:
        """The entries with these ids the person sees, in the order given (others left
        out)."""
        if not ids:
            return []
        found: dict[int, StoredEntry] = {}
        for chunk in chunks(ids):
            for entry in self.store.list_entries(EntryQuery(ids=chunk, limit=len(chunk))):
                found[entry.id] = entry
        return [found[i] for i in ids if i in found]

    def count_entries(self, q: SyncQuery) -> int:
        where = _filters(self.store, q)
        if where is None:
            return 0
        source, _ = _source(self.store, q)
        stmt = select(func.count()).select_from(source).where(and_(True, *where))
        with self.store.engine.connect() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def mark_read(self, q: SyncQuery, read: bool = True) -> int:
        """Set the person's read state of every entry the query matches; returns how many
        changed."""
        where = _filters(self.store, q)
        if where is None:
            return 0
        source, _ = _source(self.store, q)
        return mark_states(self.store, source, where, read)

    def feed_counts(self) -> dict[int, FeedCount]:
        """Per feed the person sees: unread, read and starred entries (their own state), and
        the newest entry's publication time. Feeds without entries are left out. Two grouped
        queries: entries per feed, the person's states per feed."""
        person = self.store.person_id
        with self.store.engine.connect() as conn:
            totals = feed_totals(self.store, conn, person)
            states = feed_states(conn, person)
        found: dict[int, FeedCount] = {}
        for feed_id, (total, newest) in totals.items():
            read, starred = states.get(feed_id, (0, 0))
            found[feed_id] = FeedCount(
                feed_id=feed_id,
                unread=total - read,
                read=read,
                starred=starred,
                newest=aware_utc(newest),
            )
        return found

    def _newest(self, column: Any) -> Any:
        """``column`` of the newest entry the person sees (the highest id: ids and
        ``first_seen`` grow together): read backwards along the primary key, where a max over
        a filter would read every entry of every feed they see."""
        query = (
            select(column)
            .where(sees_feed(self.store.person_id))
            .order_by(entries.c.id.desc())
            .limit(1)
        )
        with self.store.engine.connect() as conn:
            return conn.execute(query).scalar()

    def newest_entry_time(self) -> datetime | None:
        return aware_utc(self._newest(entries.c.first_seen))

    def max_entry_id(self) -> int:
        return int(self._newest(entries.c.id) or 0)

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

from sqlalchemy import and_, case, func, or_, select, update

from newsdesk.model import StoredEntry
from newsdesk.store.engine import write_transaction
from newsdesk.store.labels import label_filter
from newsdesk.store.protocols.refresh import EntryQuery
from newsdesk.store.schema import categories, entries, feeds
from newsdesk.store.search import match_expression, search_statement
from newsdesk.store.values import aware_utc
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


def _filters(store: CoreStore, q: SyncQuery) -> list[Any] | None:
    """The WHERE clauses; None when the query can match nothing (an empty search)."""
    where = store._entry_filters(q.base)
    if q.category_id is not None:
        where.append(feeds.c.category_id == q.category_id)
    if q.after_id is not None:
        where.append(entries.c.id > q.after_id)
    if q.before_id is not None:
        where.append(entries.c.id < q.before_id)
    if q.feed_ids is not None:
        where.append(entries.c.feed_id.in_(q.feed_ids))
    if q.label is not None:
        where.append(label_filter(q.label))
    if q.after is not None:
        where.append(_after(q.after, q.descending))
    if q.changed_after is not None:
        where.append(entries.c.changed_at > q.changed_after)
    if q.changed_before is not None:
        where.append(entries.c.changed_at < q.changed_before)
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


def _source(store: CoreStore, q: SyncQuery, *, for_sort: bool = False) -> Any:
    """The smallest FROM the query needs: joining every entry to its feed and category only to
    count them costs more than the count (the counts then read an index, not the rows)."""
    if q.base.category is not None or (for_sort and q.sort in {"category_title", "category_id"}):
        return store._entries_from()
    if q.category_id is not None:
        return entries.join(feeds, feeds.c.id == entries.c.feed_id)
    return entries


def _order(q: SyncQuery) -> list[Any]:
    column: Any = {
        "published": entries.c.published,
        "id": entries.c.id,
        "status": entries.c.read,
        "category_title": categories.c.title,
        "category_id": feeds.c.category_id,
        "first_seen": entries.c.first_seen,
        "changed_at": entries.c.changed_at,
    }.get(q.sort, entries.c.published)
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
    """The reader APIs' queries (``store.sync``)."""

    def __init__(self, store: CoreStore) -> None:
        self.store = store

    def entry_ids(self, q: SyncQuery, limit: int | None = None, offset: int = 0) -> list[int]:
        where = _filters(self.store, q)
        if where is None:
            return []
        stmt = (
            select(entries.c.id)
            .select_from(_source(self.store, q, for_sort=True))
            .where(and_(True, *where))
            .order_by(*_order(q))
            .offset(offset)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.store.engine.connect() as conn:
            return [int(i) for i in conn.execute(stmt).scalars()]

    def entry_positions(self, q: SyncQuery, limit: int) -> list[tuple[int, datetime]]:
        """Ids and publication times, in the query's order (for keyset continuation tokens)."""
        where = _filters(self.store, q)
        if where is None:
            return []
        stmt = (
            select(entries.c.id, entries.c.published)
            .select_from(_source(self.store, q, for_sort=True))
            .where(and_(True, *where))
            .order_by(*_order(q))
            .limit(limit)
        )
        with self.store.engine.connect() as conn:
            return [(int(i), aware_utc(p) or _EPOCH) for i, p in conn.execute(stmt)]

    def list_entries(self, q: SyncQuery, limit: int, offset: int = 0) -> list[StoredEntry]:
        ids = self.entry_ids(q, limit, offset)
        return self.entries_by_ids(ids)

    def entries_by_ids(self, ids: list[int]) -> list[StoredEntry]:
        """The entries with these ids, in the order given (unknown ids left out)."""
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
        stmt = select(func.count()).select_from(_source(self.store, q)).where(and_(True, *where))
        with self.store.engine.connect() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def mark_read(self, q: SyncQuery, read: bool = True) -> int:
        """Set the read flag of every entry the query matches; returns how many changed."""
        where = _filters(self.store, q)
        if where is None:
            return 0
        matching = (
            select(entries.c.id)
            .select_from(_source(self.store, q))
            .where(and_(True, *where), entries.c.read.is_(not read))
        )
        now = datetime.now(UTC)
        with write_transaction(self.store.engine) as conn:
            ids = [int(i) for i in conn.execute(matching).scalars()]
            changed = 0
            for chunk in chunks(ids):
                changed += conn.execute(
                    update(entries)
                    .where(entries.c.id.in_(chunk))
                    .values(read=read, read_at=now if read else None, changed_at=now)
                ).rowcount
        return changed

    def feed_counts(self) -> dict[int, FeedCount]:
        """Per feed: unread, read and starred entries, and the newest entry's publication time.
        Feeds without entries are left out."""
        stmt = select(
            entries.c.feed_id,
            func.count(),
            func.sum(case((entries.c.read.is_(False), 1), else_=0)),
            func.sum(case((entries.c.starred.is_(True), 1), else_=0)),
            func.max(entries.c.published),
        ).group_by(entries.c.feed_id)
        found: dict[int, FeedCount] = {}
        with self.store.engine.connect() as conn:
            for feed_id, total, unread_count, starred, newest in conn.execute(stmt):
                unread_n = int(unread_count or 0)
                found[int(feed_id)] = FeedCount(
                    feed_id=int(feed_id),
                    unread=unread_n,
                    read=int(total) - unread_n,
                    starred=int(starred or 0),
                    newest=aware_utc(newest),
                )
        return found

    def newest_entry_time(self) -> datetime | None:
        with self.store.engine.connect() as conn:
            return aware_utc(conn.execute(select(func.max(entries.c.first_seen))).scalar())

    def max_entry_id(self) -> int:
        with self.store.engine.connect() as conn:
            return int(conn.execute(select(func.max(entries.c.id))).scalar() or 0)

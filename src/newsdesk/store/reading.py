"""Queries the reading room needs beyond the Storage protocol: an entry's neighbours in a view,
marking a whole view read, the feeds of one category. They reuse ``SqlStore``'s filters so a
view means the same thing everywhere."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import and_, or_, select, update

from newsdesk.model import Feed, StoredEntry
from newsdesk.store.engine import write_transaction
from newsdesk.store.protocol import EntryQuery
from newsdesk.store.schema import categories, entries, feeds
from newsdesk.store.sql import SqlStore


def adjacent_entries(
    store: SqlStore, entry: StoredEntry, query: EntryQuery
) -> tuple[int | None, int | None]:
    """(newer, older) neighbours of ``entry`` among the entries ``query`` selects, in river
    order (published, then id)."""
    where = store._entry_filters(query)
    newer_than = or_(
        entries.c.published > entry.published,
        and_(entries.c.published == entry.published, entries.c.id > entry.id),
    )
    older_than = or_(
        entries.c.published < entry.published,
        and_(entries.c.published == entry.published, entries.c.id < entry.id),
    )
    base = select(entries.c.id).select_from(store._entries_from())
    newer = (
        base.where(newer_than, *where)
        .order_by(entries.c.published.asc(), entries.c.id.asc())
        .limit(1)
    )
    older = (
        base.where(older_than, *where)
        .order_by(entries.c.published.desc(), entries.c.id.desc())
        .limit(1)
    )
    with store.engine.connect() as conn:
        return conn.execute(newer).scalar(), conn.execute(older).scalar()


def mark_view_read(store: SqlStore, query: EntryQuery, older_than: datetime | None = None) -> int:
    """Mark every unread entry of a view read (only those published before ``older_than``
    when given); returns how many changed."""
    where = [*store._entry_filters(query), entries.c.read.is_(False)]
    if older_than is not None:
        where.append(entries.c.published < older_than)
    chosen = select(entries.c.id).select_from(store._entries_from()).where(*where)
    with write_transaction(store.engine) as conn:
        result = conn.execute(
            update(entries)
            .where(entries.c.id.in_(chosen))
            .values(read=True, read_at=datetime.now(UTC))
        )
        return int(result.rowcount or 0)


def feeds_in_category(store: SqlStore, title: str) -> list[Feed]:
    query = (
        store._feed_select()
        .where(categories.c.title == title)
        .order_by(feeds.c.custom_title, feeds.c.title, feeds.c.id)
    )
    with store.engine.connect() as conn:
        return [store._feed(row) for row in conn.execute(query)]

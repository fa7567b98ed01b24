"""Queries the reading room needs beyond the Storage protocol: an entry's neighbours in a view,
marking a whole view read, the feeds of one category. They reuse ``CoreStore``'s filters so a
view means the same thing everywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, select, update

from newsdesk.model import Feed, StoredEntry
from newsdesk.store.engine import write_transaction
from newsdesk.store.protocols.refresh import EntryQuery
from newsdesk.store.schema import categories, entries, feeds

if TYPE_CHECKING:
    from newsdesk.store.core import CoreStore


class ReadingStore:
    """The reading room's queries (``store.reading``)."""

    def __init__(self, store: CoreStore) -> None:
        self.store = store

    def adjacent_entries(
        self, entry: StoredEntry, query: EntryQuery
    ) -> tuple[int | None, int | None]:
        """(newer, older) neighbours of ``entry`` among the entries ``query`` selects, in river
        order (published, then id)."""
        where = self.store._entry_filters(query)
        base = select(entries.c.id).select_from(self.store._entries_from())
        # Each side is two index range scans (same time, then strictly newer/older): one query
        # with an OR across both would make SQLite scan the whole table.
        same_time = entries.c.published == entry.published
        newer_queries = (
            base.where(same_time, entries.c.id > entry.id, *where).order_by(entries.c.id.asc()),
            base.where(entries.c.published > entry.published, *where).order_by(
                entries.c.published.asc(), entries.c.id.asc()
            ),
        )
        older_queries = (
            base.where(same_time, entries.c.id < entry.id, *where).order_by(entries.c.id.desc()),
            base.where(entries.c.published < entry.published, *where).order_by(
                entries.c.published.desc(), entries.c.id.desc()
            ),
        )
        found: list[int | None] = []
        with self.store.engine.connect() as conn:
            for queries in (newer_queries, older_queries):
                neighbour = None
                for q in queries:
                    neighbour = conn.execute(q.limit(1)).scalar()
                    if neighbour is not None:
                        break
                found.append(neighbour)
        return found[0], found[1]

    def mark_view_read(self, query: EntryQuery, older_than: datetime | None = None) -> int:
        """Mark every unread entry of a view read (only those published before ``older_than``
        when given); returns how many changed."""
        where = [*self.store._entry_filters(query), entries.c.read.is_(False)]
        if older_than is not None:
            where.append(entries.c.published < older_than)
        chosen = select(entries.c.id).select_from(self.store._entries_from()).where(*where)
        now = datetime.now(UTC)
        with write_transaction(self.store.engine) as conn:
            result = conn.execute(
                update(entries)
                .where(entries.c.id.in_(chosen))
                .values(read=True, read_at=now, changed_at=now)
            )
            return int(result.rowcount or 0)

    def feeds_in_category(self, title: str) -> list[Feed]:
        query = (
            self.store._feed_select()
            .where(categories.c.title == title)
            .order_by(feeds.c.custom_title, feeds.c.title, feeds.c.id)
        )
        with self.store.engine.connect() as conn:
            return [self.store._feed(row) for row in conn.execute(query)]

    def category_groups(self) -> list[tuple[int, str, list[Feed]]]:
        """(id, title, feeds by id) of every category by title, then (0, "", feeds without
        one): the categories page. Its feeds carry what that page shows (names, category,
        health, icon), not their fetch state; two queries, grouped in one pass."""
        columns = [
            feeds.c.id,
            feeds.c.url,
            feeds.c.title,
            feeds.c.custom_title,
            feeds.c.category_id,
            feeds.c.last_status,
            feeds.c.error_count,
            feeds.c.last_error,
            feeds.c.paused,
            feeds.c.paused_reason,
            feeds.c.icon_id,
        ]
        with self.store.engine.connect() as conn:
            found = conn.execute(
                select(categories.c.id, categories.c.title).order_by(categories.c.title)
            ).all()
            rows = conn.execute(select(*columns).order_by(feeds.c.id)).all()
        titles = {int(cid): str(title) for cid, title in found}
        grouped: dict[int, list[Feed]] = {}
        # Rows unpacked as tuples: a Row's attributes cost a microsecond each.
        for fid, url, title, custom, cid, status, errors, error, paused, reason, icon in rows:
            category = titles.get(cid) if cid is not None else None
            feed = Feed(
                id=fid,
                url=url,
                title=title,
                custom_title=custom,
                category=category,
                category_id=cid,
                last_status=status,
                error_count=errors or 0,
                last_error=error,
                paused=bool(paused),
                paused_reason=reason,
                icon_id=icon,
            )
            grouped.setdefault(cid if category is not None else 0, []).append(feed)
        groups = [(cid, title, grouped.get(cid, [])) for cid, title in titles.items()]
        return [*groups, (0, "", grouped.get(0, []))]

    def feed_choices(self, limit: int) -> list[tuple[int, str]]:
        """(id, title) of up to ``limit`` feeds, by title: for filter menus (cheaper than
        ``list_feeds``, which reads every column)."""
        title = func.coalesce(feeds.c.custom_title, feeds.c.title, feeds.c.url)
        query = select(feeds.c.id, title).order_by(title).limit(limit)
        with self.store.engine.connect() as conn:
            return [(int(r[0]), str(r[1])) for r in conn.execute(query)]

    def rebase_entries(self, feed_id: int, old_base: str, new_base: str) -> int:
        """Rewrite ``old_base`` to ``new_base`` at the start of a feed's entries' keys and URLs,
        for a feed whose server moved (the demo's sample server on a new port): an entry whose GUID
        is a URL on that server is then recognised on the next fetch instead of stored again.
        Returns how many entries changed."""
        if old_base == new_base:
            return 0

        def rebased(column: Any) -> Any:
            return case(
                (
                    column.startswith(old_base, autoescape=True),
                    new_base + func.substr(column, len(old_base) + 1),
                ),
                else_=column,
            )

        with write_transaction(self.store.engine) as conn:
            result = conn.execute(
                update(entries)
                .where(entries.c.feed_id == feed_id)
                .values(
                    key=case(
                        (
                            entries.c.key.startswith("g:" + old_base, autoescape=True),
                            "g:" + new_base + func.substr(entries.c.key, len(old_base) + 3),
                        ),
                        (
                            entries.c.key.startswith("l:" + old_base, autoescape=True),
                            "l:" + new_base + func.substr(entries.c.key, len(old_base) + 3),
                        ),
                        else_=entries.c.key,
                    ),
                    url=rebased(entries.c.url),
                    url_canonical=rebased(entries.c.url_canonical),
                )
            )
            return int(result.rowcount or 0)

    def unread_by_category(self) -> list[tuple[int, str, int]]:
        """(id, title, unread entries) of every category, by title: the sidebar's counts."""
        query = (
            select(categories.c.id, categories.c.title, func.count(entries.c.id))
            .select_from(
                categories.join(feeds, feeds.c.category_id == categories.c.id, isouter=True).join(
                    entries,
                    and_(entries.c.feed_id == feeds.c.id, entries.c.read.is_(False)),
                    isouter=True,
                )
            )
            .group_by(categories.c.id, categories.c.title)
            .order_by(categories.c.title)
        )
        with self.store.engine.connect() as conn:
            return [(int(r[0]), str(r[1]), int(r[2])) for r in conn.execute(query)]

    def mark_story(self, story_id: int, read: bool) -> int:
        """Mark every member of a story read (or unread): a story's card stands for all of them.
        Returns how many entries changed."""
        now = datetime.now(UTC)
        with write_transaction(self.store.engine) as conn:
            result = conn.execute(
                update(entries)
                .where(entries.c.story_id == story_id, entries.c.read.is_(not read))
                .values(read=read, read_at=now if read else None, changed_at=now)
            )
            return int(result.rowcount or 0)

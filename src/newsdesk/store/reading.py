"""Queries the reading room needs beyond the Storage protocol: an entry's neighbours in a view,
marking a whole view read, the feeds of one category, the sidebar's unread counts. They reuse
``CoreStore``'s filters so a view means the same thing everywhere, and see what the store's
person sees (``store.visibility``): their feeds and shared categories, their own read state."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, case, func, literal, or_, select, true, update

from newsdesk.model import Feed, FeedOptions, StoredEntry
from newsdesk.store.engine import write_transaction
from newsdesk.store.feed_totals import count_totals
from newsdesk.store.protocols.refresh import EntryQuery
from newsdesk.store.schema import (
    categories,
    category_shares,
    entries,
    entry_states,
    feeds,
    subscriptions,
)
from newsdesk.store.visibility import (
    STATEMENTS_KEPT,
    category_feeds,
    filed_unread,
    is_read,
    lens,
    sees_feed,
    upsert_states,
    visible_feeds,
)

if TYPE_CHECKING:
    from newsdesk.store.core import CoreStore

# How many entries on either side of an entry its neighbours are looked for walking the
# publication index before the view's own indexes are used (ReadingStore._beyond).
ADJACENT_WINDOW = 2_000
# What the categories page shows of a feed (names, category, health, icon).
_PAGE_COLUMNS = (
    feeds.c.id,
    feeds.c.url,
    feeds.c.title,
    feeds.c.last_status,
    feeds.c.error_count,
    feeds.c.last_error,
    feeds.c.paused,
    feeds.c.paused_reason,
    feeds.c.icon_id,
)
# The options of every feed the pages list (frozen, so one will do: making one per feed is a
# third of the cost of a Feed).
_NO_OPTIONS = FeedOptions()
# And what the subscriptions page adds: when each feed was fetched, when it is due.
_LIST_COLUMNS = (*_PAGE_COLUMNS, feeds.c.last_fetched, feeds.c.next_check)


@lru_cache(maxsize=STATEMENTS_KEPT)
def person_categories(person_id: int) -> Any:
    """A select of the ids of the categories ``person_id`` sees: their own, and those shared
    with them."""
    shared = select(category_shares.c.category_id).where(category_shares.c.user_id == person_id)
    return select(categories.c.id).where(
        or_(categories.c.user_id == person_id, categories.c.id.in_(shared))
    )


@lru_cache(maxsize=STATEMENTS_KEPT)
def _categories_query(person_id: int | None) -> Any:
    """A select of (id, title) of the categories the person sees (all: None), by title."""
    query = select(categories.c.id, categories.c.title).order_by(
        categories.c.title, categories.c.id
    )
    if person_id is not None:
        query = query.where(categories.c.id.in_(person_categories(person_id)))
    return query


@lru_cache(maxsize=STATEMENTS_KEPT)
def category_members(person_id: int | None) -> Any:
    """A select of (category_id, feed_id): the feeds of each category as the person sees it
    (their own subscriptions in their categories, the owner's in those shared with them)."""
    query = select(subscriptions.c.category_id, subscriptions.c.feed_id).where(
        subscriptions.c.category_id.is_not(None)
    )
    if person_id is None:
        return query
    shared = select(category_shares.c.category_id).where(category_shares.c.user_id == person_id)
    return query.where(
        or_(subscriptions.c.user_id == person_id, subscriptions.c.category_id.in_(shared))
    )


def feed_totals(
    store: CoreStore, conn: Connection, person_id: int | None
) -> dict[int, tuple[int, Any]]:
    """Per feed the person sees: (entries, newest publication time); on SQLite from the
    store's in-memory table (``store.feed_totals``), else one grouped query over the (feed,
    published) index."""
    if store.dialect == "sqlite":
        every = store.feed_totals.get(conn)
        if person_id is None:
            return every
        seen = conn.execute(visible_feeds(person_id)).scalars()
        return {f: every[f] for f in seen if f in every}
    where = None if person_id is None else entries.c.feed_id.in_(visible_feeds(person_id))
    return count_totals(conn, where)


def feed_states(conn: Connection, person_id: int | None) -> dict[int, tuple[int, int]]:
    """Per feed the person sees: (entries they read, entries they starred), one grouped query
    over their own states (none with no person)."""
    if person_id is None:
        return {}
    query = (
        select(
            entry_states.c.feed_id,
            func.sum(case((entry_states.c.read.is_(True), 1), else_=0)),
            func.sum(case((entry_states.c.starred.is_(True), 1), else_=0)),
        )
        .where(
            entry_states.c.user_id == person_id,
            entry_states.c.feed_id.in_(visible_feeds(person_id)),
        )
        .group_by(entry_states.c.feed_id)
    )
    return {int(f): (int(r or 0), int(s or 0)) for f, r, s in conn.execute(query)}


def mark_states(
    store: CoreStore, source: Any, where: Iterable[Any], read: bool, conn: Connection | None = None
) -> int:
    """Set the person's read state of every entry ``where`` selects (from ``source``, which
    holds their states) that is not in that state yet: one INSERT … SELECT … ON CONFLICT;
    how many changed."""
    person = store.require_person()
    now = datetime.now(UTC)
    chosen = (
        select(
            literal(person).label("user_id"),
            entries.c.id.label("entry_id"),
            entries.c.feed_id.label("feed_id"),
            literal(read).label("read"),
            literal(now if read else None, type_=entry_states.c.read_at.type).label("read_at"),
            literal(now, type_=entry_states.c.changed_at.type).label("changed_at"),
        )
        .select_from(source)
        .where(true(), *where, is_read(person, not read))
    )
    columns = ["user_id", "entry_id", "feed_id", "read", "read_at", "changed_at"]
    stmt = (
        upsert_states(store.dialect, columns[3:])
        .from_select(columns, chosen)
        .execution_options(preserve_rowcount=True)
    )
    if conn is not None:
        return int(conn.execute(stmt).rowcount or 0)
    with write_transaction(store.engine) as own:
        return int(own.execute(stmt).rowcount or 0)


def _walks(query: EntryQuery) -> bool:
    """Whether a view's neighbours are found walking the publication index first: not those of
    one feed, a list of ids, a tag, a story or an entity (their own indexes find them), nor
    starred entries (a few, read through their own states)."""
    plain = (query.feed_id, query.ids, query.tag, query.story_id, query.entity_id)
    return not query.starred and all(f is None for f in plain)


def _sort_feeds(found: list[Feed]) -> list[Feed]:
    return sorted(found, key=lambda f: (f.display_title.casefold(), f.id))


class ReadingStore:
    """The reading room's queries (``store.reading``), as the store's person sees them."""

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
        found: list[int | None] = []
        with self.store.engine.connect() as conn:
            for newer in (True, False):
                ids = entries.c.id > entry.id if newer else entries.c.id < entry.id
                order = entries.c.id.asc() if newer else entries.c.id.desc()
                neighbour = conn.execute(
                    base.where(same_time, ids, *where).order_by(order).limit(1)
                ).scalar()
                if neighbour is None:
                    neighbour = self._beyond(conn, entry, query, newer, where)
                found.append(neighbour)
        return found[0], found[1]

    def _beyond(
        self,
        conn: Connection,
        entry: StoredEntry,
        query: EntryQuery,
        newer: bool,
        where: list[Any],
    ) -> int | None:
        """The first entry of the view published strictly after (``newer``) or before
        ``entry``, in river order.

        Through the (feed, published) index SQLite reads every entry of the person's feeds on
        that side and sorts them (100 ms for 150,000 entries) for the one nearest. On SQLite a
        walk of the publication index over the next ADJACENT_WINDOW entries comes first (a few
        ms): the view's first entry among them, when it has one, is the neighbour."""
        published = entries.c.published
        side = published > entry.published if newer else published < entry.published
        ids = entries.c.id
        order = (published.asc(), ids.asc()) if newer else (published.desc(), ids.desc())
        base = select(entries.c.id).select_from(self.store._entries_from()).order_by(*order)
        if self.store.dialect == "sqlite" and _walks(query):
            edge = conn.execute(
                select(published).where(side).order_by(*order).offset(ADJACENT_WINDOW - 1).limit(1)
            ).scalar()
            walked = self.store._entry_filters(query, walk=True)
            bound = [] if edge is None else [published <= edge if newer else published >= edge]
            found = conn.execute(base.where(side, *bound, *walked).limit(1)).scalar()
            if found is not None or edge is None:
                return int(found) if found is not None else None
            side = published > edge if newer else published < edge
        found = conn.execute(base.where(side, *where).limit(1)).scalar()
        return int(found) if found is not None else None

    def mark_view_read(self, query: EntryQuery, older_than: datetime | None = None) -> int:
        """Mark read every entry of a view the person has not read (only those published
        before ``older_than`` when given); returns how many changed."""
        where = self.store._entry_filters(query)
        if older_than is not None:
            where.append(entries.c.published < older_than)
        return mark_states(self.store, self.store._entries_from(), where, True)

    def mark_story(self, story_id: int, read: bool) -> int:
        """Mark every member of a story the person sees read (or unread): a story's card
        stands for all of them. Returns how many entries changed."""
        where = [entries.c.story_id == story_id, sees_feed(self.store.require_person())]
        return mark_states(self.store, self.store._entries_from(), where, read)

    def feeds_in_category(self, title: str) -> list[Feed]:
        """The feeds the person sees in their categories (or shared ones) of that title."""
        person = self.store.person_id
        members = visible_feeds(person, title) if person is not None else category_feeds(title)
        query = self.store._feed_select().where(feeds.c.id.in_(members))
        with self.store.engine.connect() as conn:
            return _sort_feeds(self.store._feeds(conn, query))

    def _categories(self, conn: Connection) -> list[tuple[int, str]]:
        query = _categories_query(self.store.person_id)
        return [(int(i), str(t)) for i, t in conn.execute(query)]

    def category_groups(self) -> list[tuple[int, str, list[Feed]]]:
        """(id, title, feeds by name) of every category the person sees, by title, then
        (0, "", feeds without one): the categories page. Its feeds carry what that page shows
        (names, category, health, icon), not their fetch state."""
        person = self.store.person_id
        query = select(*_PAGE_COLUMNS).order_by(feeds.c.id)
        if person is not None:
            query = query.where(feeds.c.id.in_(visible_feeds(person)))
        with self.store.engine.connect() as conn:
            found = self._categories(conn)
            rows = conn.execute(query).all()
            seen = lens(conn, person) if person is not None else {}
        titles = dict(found)
        grouped: dict[int, list[Feed]] = {}
        # Rows unpacked as tuples: a Row's attributes cost a microsecond each.
        for fid, url, title, status, errors, error, paused, reason, icon in rows:
            view = seen.get(fid)
            cid = view.category_id if view is not None else None
            feed = Feed(
                id=fid,
                url=url,
                title=title,
                custom_title=view.title if view is not None else None,
                category=titles.get(cid) if cid is not None else None,
                category_id=cid,
                last_status=status,
                error_count=errors or 0,
                last_error=error,
                paused=bool(paused),
                paused_reason=reason,
                icon_id=icon,
                options=_NO_OPTIONS,
            )
            grouped.setdefault(
                cid if cid is not None and feed.category is not None else 0, []
            ).append(feed)
        groups = [(cid, title, _sort_feeds(grouped.get(cid, []))) for cid, title in found]
        return [*groups, (0, "", _sort_feeds(grouped.get(0, [])))]

    def subscription_feeds(self) -> list[Feed]:
        """Every feed the person sees, by id, with their names and category for it: what the
        subscriptions page shows of each (names, category, health, icon, when fetched and
        due), without the rest of its fetch state (``list_feeds`` reads and decodes every
        column: 13 ms for 1,000 feeds)."""
        person = self.store.person_id
        query = select(*_LIST_COLUMNS).order_by(feeds.c.id)
        if person is not None:
            query = query.where(feeds.c.id.in_(visible_feeds(person)))
        with self.store.engine.connect() as conn:
            rows = conn.execute(query).all()
            seen = lens(conn, person) if person is not None else {}
        found = []
        for fid, url, title, status, errors, error, paused, reason, icon, fetched, due in rows:
            view = seen.get(fid)
            found.append(
                Feed(
                    id=fid,
                    url=url,
                    title=title,
                    custom_title=view.title if view is not None else None,
                    category=view.category if view is not None else None,
                    category_id=view.category_id if view is not None else None,
                    last_status=status,
                    last_fetched=fetched,
                    error_count=errors or 0,
                    last_error=error,
                    next_check=due,
                    paused=bool(paused),
                    paused_reason=reason,
                    icon_id=icon,
                    options=_NO_OPTIONS,
                )
            )
        return found

    def feed_count(self) -> int:
        """How many feeds the person sees (whether a menu of them is worth making)."""
        person = self.store.person_id
        seen = feeds if person is None else visible_feeds(person).subquery()
        with self.store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(seen)).scalar() or 0)

    def feed_choices(self, limit: int) -> list[tuple[int, str]]:
        """(id, name) of up to ``limit`` of the feeds the person sees, by name: for filter
        menus (cheaper than ``list_feeds``, which reads every column)."""
        person = self.store.person_id
        name = func.coalesce(feeds.c.title, feeds.c.url)
        query = select(feeds.c.id, name)
        if person is not None:
            query = query.where(feeds.c.id.in_(visible_feeds(person)))
        with self.store.engine.connect() as conn:
            rows = [(int(i), str(n)) for i, n in conn.execute(query)]
            seen = lens(conn, person) if person is not None else {}
        named = [(i, (seen[i].title if i in seen else None) or n) for i, n in rows]
        named.sort(key=lambda pair: (pair[1].casefold(), pair[0]))
        return named[:limit]

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
        """(id, title, unread entries) of every category the person sees, by title: the
        sidebar's counts. Entries per feed minus the person's read states per feed, summed
        over each category's feeds."""
        person = self.store.person_id
        with self.store.engine.connect() as conn:
            found = self._categories(conn)
            # Every feed's totals: the members are feeds the person sees.
            sqlite = self.store.dialect == "sqlite"
            totals = (
                self.store.feed_totals.get(conn)
                if sqlite
                else feed_totals(self.store, conn, person)
            )
            if person is None:
                members = [(c, f, 0) for c, f in conn.execute(category_members(None))]
                filed = []
            else:
                members = list(conn.execute(_members_read(person)))
                filed = filed_unread(conn, person)
        unread: dict[int, int] = {}
        placed: set[tuple[int, int]] = set()
        for cid, fid, read in members:
            if (cid, fid) in placed:
                continue
            placed.add((cid, fid))
            total = totals.get(fid, (0, None))[0]
            unread[cid] = unread.get(cid, 0) + total - read
        for cid, fid, count in filed:  # filed there by a rule from a feed outside it
            if (cid, fid) not in placed:
                unread[cid] = unread.get(cid, 0) + count
        return [(cid, title, unread.get(cid, 0)) for cid, title in found]


@lru_cache(maxsize=STATEMENTS_KEPT)
def _members_read(person_id: int) -> Any:
    """A select of (category id, feed id, entries of the feed the person read) of the feeds
    in the categories they see (all of them feeds they see). The read states are counted per
    feed through the (person, feed, read) index: a range count each, instead of reading every
    state of theirs and grouping (12 ms for 75,000)."""
    members = category_members(person_id).subquery()
    read = (
        select(func.count())
        .select_from(entry_states)
        .where(
            entry_states.c.user_id == person_id,
            entry_states.c.feed_id == members.c.feed_id,
            entry_states.c.read == True,  # noqa: E712 - "= 1": the index's column, not IS
        )
        .scalar_subquery()
    )
    return select(members.c.category_id, members.c.feed_id, read)

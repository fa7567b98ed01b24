"""What a person sees (issue 15): the feeds they follow and those of the categories shared with
them, their names for them, and their state of each entry.

Every person-facing query of the store goes through these: a store made for a person
(``SqlStore.as_person``) adds ``visible_feeds(person)`` to its filters, reads read and starred
from ``entry_states`` (``state_join``), and names feeds and categories from ``lens(conn,
person)``. A store with no person (the refresh, the intel stage) sees every feed and no state.

An entry one of the person's rules blocked (``entry_states.hidden``, issue 16) is not theirs to
see any more: ``not_hidden`` (over their joined states) and ``sees_feed`` (without the join)
leave it out; an entry a rule filed under one of their categories (``entry_filings``) is in
that category's view besides its feeds' entries (``in_category``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, and_, func, literal, or_, select, union

from newsdesk.store.schema import (
    categories,
    category_shares,
    entries,
    entry_filings,
    entry_states,
    feeds,
    subscriptions,
)
from newsdesk.store.sql_base import dialect_insert


@dataclass(slots=True)
class Lens:
    """How one person sees one feed: their title for it and the category it is in for them
    (their own, or the shared category it came through: ``shared`` then). Read-only by
    convention, not frozen: pages make one per feed the person sees, and a frozen dataclass
    takes three times as long to make (1.1 ms more for 1,000 feeds, on every page)."""

    feed_id: int
    title: str | None
    category_id: int | None
    category: str | None
    shared: bool = False
    can_manage: bool = True


# The selects below are built once per person (and category) and kept: a SQLAlchemy construct
# never changes once made, and one made again costs its building and its cache key on every
# query of every page.
STATEMENTS_KEPT = 1024


@lru_cache(maxsize=STATEMENTS_KEPT)
def visible_feeds(person_id: int, category: str | None = None) -> Any:
    """A select of the feed ids ``person_id`` sees (in ``category``, by title, when given)."""
    own = select(subscriptions.c.feed_id).where(subscriptions.c.user_id == person_id)
    shared = (
        select(subscriptions.c.feed_id)
        .join(category_shares, category_shares.c.category_id == subscriptions.c.category_id)
        .where(category_shares.c.user_id == person_id)
    )
    if category is not None:
        named = select(categories.c.id).where(categories.c.title == category)
        own = own.where(subscriptions.c.category_id.in_(named))
        shared = shared.where(subscriptions.c.category_id.in_(named))
    return union(own, shared)


@lru_cache(maxsize=STATEMENTS_KEPT)
def sees_feed(person_id: int | None) -> Any:
    """The condition "the entry's feed is one the person sees, and they did not block the
    entry" (true with no person); it needs no join of their states."""
    if person_id is None:
        return literal(True)
    return and_(entries.c.feed_id.in_(visible_feeds(person_id)), unblocked(person_id))


@lru_cache(maxsize=STATEMENTS_KEPT)
def unblocked(person_id: int) -> Any:
    """The entry is not one the person's rules blocked, without their states joined: the few
    hidden states are read through their partial index (``ix_entry_states_hidden``)."""
    blocked = select(entry_states.c.entry_id).where(
        entry_states.c.user_id == person_id, entry_states.c.hidden.is_(True)
    )
    return entries.c.id.not_in(blocked)


def not_hidden() -> Any:
    """The entry is not one the person blocked, over a source holding their states
    (``state_join``): free, the state row is joined already."""
    return entry_states.c.hidden.is_not(True)


def filed_under(person_id: int, category_id: int) -> Any:
    """The entry was filed under the category of that id by one of the person's rules."""
    filed = select(entry_filings.c.entry_id).where(
        entry_filings.c.user_id == person_id, entry_filings.c.category_id == category_id
    )
    return entries.c.id.in_(filed)


def filed_unread(conn: Connection, person_id: int) -> list[tuple[int, int, int]]:
    """(category id, feed id, unread entries) of the entries the person's rules filed, from
    the feeds they see: the sidebar adds those from feeds outside the category."""
    source = entry_filings.join(entries, entries.c.id == entry_filings.c.entry_id).outerjoin(
        entry_states,
        and_(
            entry_states.c.entry_id == entry_filings.c.entry_id,
            entry_states.c.user_id == person_id,
        ),
    )
    rows = conn.execute(
        select(entry_filings.c.category_id, entries.c.feed_id, func.count())
        .select_from(source)
        .where(
            entry_filings.c.user_id == person_id,
            entry_states.c.read.is_not(True),
            entries.c.feed_id.in_(visible_feeds(person_id)),
        )
        .group_by(entry_filings.c.category_id, entries.c.feed_id)
    )
    return [(int(c), int(f), int(n)) for c, f, n in rows]


def in_category(person_id: int, category: str, feed_id: Any = entries.c.feed_id) -> Any:
    """The entry is in the person's category of that title: one of its feeds' (``feed_id``,
    the column to test), or filed there by one of their rules (and still from a feed they
    see)."""
    filed = (
        select(entry_filings.c.entry_id)
        .join(categories, categories.c.id == entry_filings.c.category_id)
        .where(entry_filings.c.user_id == person_id, categories.c.title == category)
    )
    return or_(
        feed_id.in_(visible_feeds(person_id, category)),
        and_(entries.c.id.in_(filed), entries.c.feed_id.in_(visible_feeds(person_id))),
    )


def state_join(source: Any, person_id: int) -> Any:
    """``source`` (a from-clause holding ``entries``) outer-joined to the person's states."""
    return source.outerjoin(
        entry_states,
        and_(entry_states.c.entry_id == entries.c.id, entry_states.c.user_id == person_id),
    )


def read_column(person_id: int | None) -> Any:
    if person_id is None:
        return literal(False).label("read")
    return func.coalesce(entry_states.c.read, False).label("read")


def starred_column(person_id: int | None) -> Any:
    if person_id is None:
        return literal(False).label("starred")
    return func.coalesce(entry_states.c.starred, False).label("starred")


def is_read(person_id: int | None, read: bool) -> Any:
    """Entries the person has read (``read``) or not."""
    if person_id is None:
        return literal(not read)
    return entry_states.c.read.is_(True) if read else entry_states.c.read.is_not(True)


def is_starred(person_id: int | None, starred: bool) -> Any:
    if person_id is None:
        return literal(not starred)
    if starred:
        # Read from the person's few starred states (SQLite would otherwise read every entry
        # of their feeds and look each one's state up: 60 ms for 100,000 entries).
        return entries.c.id.in_(
            select(entry_states.c.entry_id).where(
                entry_states.c.user_id == person_id, entry_states.c.starred.is_(True)
            )
        )
    return entry_states.c.starred.is_not(True)


def lens(
    conn: Connection, person_id: int, feed_ids: Iterable[int] | None = None
) -> dict[int, Lens]:
    """Every feed the person sees (of ``feed_ids`` only, when given: a page naming 30
    entries need not read 1,000 subscriptions): their own subscription first, else the shared
    one."""
    only: list[Any] = []
    if feed_ids is not None:
        wanted = sorted(set(feed_ids))
        if not wanted:
            return {}
        only.append(subscriptions.c.feed_id.in_(wanted))
    own = conn.execute(
        select(
            subscriptions.c.feed_id,
            subscriptions.c.title,
            subscriptions.c.category_id,
            categories.c.title,
        )
        .select_from(
            subscriptions.outerjoin(categories, categories.c.id == subscriptions.c.category_id)
        )
        .where(subscriptions.c.user_id == person_id, *only)
    ).all()
    found = {r[0]: Lens(r[0], r[1], r[2], r[3]) for r in own}
    shared = conn.execute(
        select(
            subscriptions.c.feed_id,
            subscriptions.c.title,
            subscriptions.c.category_id,
            categories.c.title,
            category_shares.c.can_manage,
        )
        .select_from(
            subscriptions.join(
                category_shares, category_shares.c.category_id == subscriptions.c.category_id
            ).join(categories, categories.c.id == subscriptions.c.category_id)
        )
        .where(category_shares.c.user_id == person_id, *only)
        .order_by(subscriptions.c.id)
    ).all()
    for r in shared:
        if r[0] not in found:
            found[r[0]] = Lens(r[0], r[1], r[2], r[3], shared=True, can_manage=bool(r[4]))
    return found


def feed_names(conn: Connection, feed_ids: set[int]) -> dict[int, str]:
    """The feeds' own names (title, else URL), for a feed seen through no subscription."""
    if not feed_ids:
        return {}
    rows = conn.execute(
        select(feeds.c.id, func.coalesce(feeds.c.title, feeds.c.url)).where(
            feeds.c.id.in_(list(feed_ids))
        )
    )
    return {int(r[0]): str(r[1]) for r in rows}


def category_feeds(category: str) -> Any:
    """A select of the feed ids anyone files under a category of that title (no person)."""
    named = select(categories.c.id).where(categories.c.title == category)
    return select(subscriptions.c.feed_id).where(subscriptions.c.category_id.in_(named))


def upsert_states(dialect: str, columns: Iterable[str]) -> Any:
    """An insert of entry states that updates ``columns`` of a row already there."""
    stmt = dialect_insert(dialect)(entry_states)
    key = ("user_id", "entry_id", "feed_id")
    changed = {c: stmt.excluded[c] for c in columns if c not in key}
    return stmt.on_conflict_do_update(index_elements=["user_id", "entry_id"], set_=changed)

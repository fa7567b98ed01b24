"""Entries per feed and each feed's newest publication time: what every person's unread counts
start from (the sidebar, the reader APIs' counters), the same for everyone.

Counting them means reading the whole (feed, published) index of the feeds a person sees:
20 ms for 115,000 entries, on every page. On SQLite they are kept in memory instead, one table
per database, and brought up to date from the entries added since the last look (a range of
ids: SQLite gives ids in commit order, its single writer commits one at a time). A change in
the feeds (one removed with its entries, or added) or ids going back makes it count again from
scratch.
PostgreSQL hands ids out before commit, so a late commit could be missed: there it is counted
each time. Entries go with their feed, or by retention (``store.retention``), which writes a
tombstone for each in the same transaction: the tombstones' highest rowid is part of the shape,
so a cleanup in any process makes every process count again.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, literal_column, select

from newsdesk.store.schema import entries, feeds, removed_entries

Totals = dict[int, tuple[int, datetime | None]]


def count_totals(conn: Connection, where: Any = None) -> Totals:
    """(entries, newest publication) per feed, of the entries ``where`` selects (all)."""
    query = select(entries.c.feed_id, func.count(), func.max(entries.c.published))
    if where is not None:
        query = query.where(where)
    rows = conn.execute(query.group_by(entries.c.feed_id))
    return {int(f): (int(n), newest) for f, n, newest in rows}


# A feed removed (its entries with it) changes the count; one added in its place, the newest
# creation time; entries removed by retention, the newest tombstone's rowid. Built once.
_REMOVED: Any = select(func.max(literal_column("rowid"))).select_from(removed_entries)
_SHAPE = select(
    func.count(), func.max(feeds.c.id), func.max(feeds.c.created_at), _REMOVED.scalar_subquery()
)
_LAST_ID = select(func.max(entries.c.id))


class FeedTotals:
    """The in-memory table of one SQLite database (``CoreStore.feed_totals``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: Totals = {}
        self._last_id = 0
        self._feeds: tuple[Any, ...] | None = None

    def get(self, conn: Connection) -> Totals:
        """Every feed's totals, as of now."""
        shape = tuple(conn.execute(_SHAPE).one())
        last = int(conn.execute(_LAST_ID).scalar() or 0)
        with self._lock:
            if shape != self._feeds or last < self._last_id:
                self._totals = count_totals(conn, entries.c.id <= last)
            elif last > self._last_id:
                added = count_totals(conn, entries.c.id.between(self._last_id + 1, last))
                for feed_id, (n, newest) in added.items():
                    had, was = self._totals.get(feed_id, (0, None))
                    latest = newest if was is None or (newest and newest > was) else was
                    self._totals[feed_id] = (had + n, latest)
            self._feeds, self._last_id = shape, last
            return dict(self._totals)

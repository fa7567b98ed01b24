"""Which watchlists new entries match: one alerts row per (watchlist, entry, channel).

A watchlist matches an entry when every criterion it gives holds: its words (the same full-text
index and query syntax as `newsdesk search`), any of its entities mentioned, one of its
categories, one of its feeds. Only entries first seen after the watchlist was made alert: a new
watchlist does not flood its channels with the archive. The unique constraint ``uq_alerts_once``
with ON CONFLICT DO NOTHING makes matching the same entry again harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, column, func, literal_column, select, table, text
from sqlalchemy.dialects import postgresql, sqlite

from newsdesk.store import search as fts
from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import alerts, categories, entity_mentions, entries, feeds, watchlists
from newsdesk.store.watchlists import Watchlist, watchlist_from_row

_CHUNK = 500


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _text_matches(conn: Connection, query: str, ids: Sequence[int]) -> set[int]:
    """Ids among ``ids`` the search index finds for ``query`` (no ranking: only membership)."""
    dialect = conn.dialect.name
    match = fts.match_expression(dialect, query)
    if not match or not ids:
        return set()
    found: set[int] = set()
    for chunk in _chunks(list(ids)):
        if dialect == "sqlite":
            fts_table = table("entries_fts", column("rowid"))
            stmt = (
                select(fts_table.c.rowid)
                .where(text("entries_fts MATCH :match").bindparams(match=match))
                .where(fts_table.c.rowid.in_(list(chunk)))
            )
        else:
            vector: Any = literal_column("entries.search_vector")
            tsquery = func.to_tsquery("simple", func.newsdesk_unaccent(match))
            stmt = select(entries.c.id).where(vector.op("@@")(tsquery), entries.c.id.in_(chunk))
        found.update(int(i) for i in conn.execute(stmt).scalars())
    return found


def _mentioning(conn: Connection, entity_ids: Sequence[int], ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(list(ids)):
        rows = conn.execute(
            select(entity_mentions.c.entry_id)
            .where(entity_mentions.c.entity_id.in_(list(entity_ids)))
            .where(entity_mentions.c.entry_id.in_(list(chunk)))
        )
        found.update(int(i) for i in rows.scalars())
    return found


def matching_entries(
    conn: Connection, watchlist: Watchlist, candidates: dict[int, tuple[int, str | None]]
) -> list[int]:
    """Entry ids of ``candidates`` (id → (feed id, category title)) the watchlist matches."""
    feed_ids = set(watchlist.feed_ids)
    cats = {c.casefold() for c in watchlist.categories}
    ids = [
        entry_id
        for entry_id, (feed_id, category) in candidates.items()
        if (not feed_ids or feed_id in feed_ids)
        and (not cats or (category is not None and category.casefold() in cats))
    ]
    if ids and watchlist.entity_ids:
        mentioning = _mentioning(conn, watchlist.entity_ids, ids)
        ids = [i for i in ids if i in mentioning]
    if ids and watchlist.query:
        hits = _text_matches(conn, watchlist.query, ids)
        ids = [i for i in ids if i in hits]
    return sorted(ids)


def _insert_ignoring_duplicates(conn: Connection, rows: list[dict[str, Any]]) -> int:
    inserted = 0
    for chunk in _chunks(rows, 400):
        if conn.dialect.name == "postgresql":
            stmt: Any = postgresql.insert(alerts).values(list(chunk)).on_conflict_do_nothing()
        else:
            stmt = sqlite.insert(alerts).values(list(chunk)).on_conflict_do_nothing()
        # RETURNING counts what was inserted (rowcount is not reliable for this everywhere).
        inserted += len(conn.execute(stmt.returning(alerts.c.id)).all())
    return inserted


def match_entries(engine: Engine, entry_ids: Sequence[int], *, now: datetime | None = None) -> int:
    """Record an alert per channel for every enabled watchlist each entry matches; returns the
    alerts rows created (an entry already alerted for a watchlist and channel adds none)."""
    now = now or datetime.now(UTC)
    wanted = sorted({int(i) for i in entry_ids})
    if not wanted:
        return 0
    with engine.connect() as conn:  # no watchlist (the usual case): no write lock taken
        if conn.execute(select(watchlists.c.id).limit(1)).first() is None:
            return 0
    # One write transaction: a watchlist deleted meanwhile cannot leave rows pointing nowhere.
    with write_transaction(engine) as conn:
        lists = [
            watchlist_from_row(r)
            for r in conn.execute(select(watchlists).where(watchlists.c.enabled.is_(True)))
        ]
        if not lists:
            return 0
        info: dict[int, tuple[int, str | None, datetime]] = {}
        source = entries.join(feeds, feeds.c.id == entries.c.feed_id).outerjoin(
            categories, categories.c.id == feeds.c.category_id
        )
        for chunk in _chunks(wanted):
            rows = conn.execute(
                select(entries.c.id, entries.c.feed_id, categories.c.title, entries.c.first_seen)
                .select_from(source)
                .where(entries.c.id.in_(list(chunk)))
            )
            for entry_id, feed_id, category, first_seen in rows:
                info[int(entry_id)] = (int(feed_id), category, first_seen)
        new_rows: list[dict[str, Any]] = []
        for watchlist in lists:
            candidates = {
                entry_id: (feed_id, category)
                for entry_id, (feed_id, category, first_seen) in info.items()
                if first_seen >= watchlist.created_at
            }
            if not candidates:
                continue
            for entry_id in matching_entries(conn, watchlist, candidates):
                for channel in watchlist.channels:
                    new_rows.append(
                        {
                            "watchlist_id": watchlist.id,
                            "entry_id": entry_id,
                            "channel": channel,
                            "status": "pending",
                            "attempts": 0,
                            "created_at": now,
                        }
                    )
        return _insert_ignoring_duplicates(conn, new_rows) if new_rows else 0

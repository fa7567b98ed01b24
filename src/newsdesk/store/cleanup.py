"""One-off repairs of stored rows that migrations run: plain-text fields that older versions
stored with markup in them (titles, authors, feed, category and tag names).

Only rows holding ``<`` or ``&`` can change, so only those are read; the rest of a large
database is not touched.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Table, delete, insert, or_, select, update

from newsdesk.process.sanitize import one_line
from newsdesk.store.schema import categories, entries, entry_tags, feeds

_BATCH = 500


def _suspect(*columns: Column[Any]) -> Any:
    return or_(*(c.like(f"%{mark}%") for c in columns for mark in ("<", "&")))


def _clean(value: str | None, limit: int) -> str | None:
    return (one_line(value) or "")[:limit] or None if value is not None else None


def _clean_rows(conn: Connection, table: Table, limits: dict[str, int]) -> None:
    """Rewrite the columns ``limits`` names (column → longest value) where they hold markup."""
    names = list(limits)
    cols = [table.c[n] for n in names]
    last = 0
    while True:
        rows = conn.execute(
            select(table.c.id, *cols)
            .where(table.c.id > last, _suspect(*cols))
            .order_by(table.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            values = {n: _clean(row._mapping[n], limits[n]) for n in names}
            if any(values[n] != row._mapping[n] for n in names):
                conn.execute(update(table).where(table.c.id == row.id).values(**values))
        last = rows[-1].id


def _clean_categories(conn: Connection) -> None:
    """A cleaned name may equal another category's: its feeds join that one."""
    rows = conn.execute(
        select(categories.c.id, categories.c.title).where(_suspect(categories.c.title))
    ).all()
    for category_id, title in rows:
        clean = _clean(title, 300)
        if clean == title:
            continue
        same = (
            conn.execute(
                select(categories.c.id).where(
                    categories.c.title == clean, categories.c.id != category_id
                )
            ).scalar()
            if clean
            else None
        )
        if clean and same is None:
            conn.execute(
                update(categories).where(categories.c.id == category_id).values(title=clean)
            )
            continue
        conn.execute(
            update(feeds).where(feeds.c.category_id == category_id).values(category_id=same)
        )
        conn.execute(delete(categories).where(categories.c.id == category_id))


def _clean_tags(conn: Connection) -> None:
    rows = conn.execute(
        select(entry_tags.c.entry_id, entry_tags.c.tag).where(_suspect(entry_tags.c.tag))
    ).all()
    for entry_id, tag in rows:
        clean = (_clean(tag, 100) or "").casefold()
        if clean == tag:
            continue
        conn.execute(
            delete(entry_tags).where(entry_tags.c.entry_id == entry_id, entry_tags.c.tag == tag)
        )
        exists = conn.execute(
            select(entry_tags.c.tag).where(
                entry_tags.c.entry_id == entry_id, entry_tags.c.tag == clean
            )
        ).first()
        if clean and exists is None:
            conn.execute(insert(entry_tags).values(entry_id=entry_id, tag=clean))


def clean_plain_text(conn: Connection) -> None:
    """Titles, authors, feed, category and tag names made plain text, as ingest now does."""
    _clean_rows(conn, entries, {"title": 1000, "author": 300})
    _clean_rows(conn, feeds, {"title": 1000, "custom_title": 1000})
    _clean_categories(conn)
    _clean_tags(conn)

"""Site icons: one row per site origin (``icons``), feeds pointing at theirs (``feeds.icon_id``).

A row is made the first time a site's icon is looked for, and keeps the time of the last try
(``checked_at``), the last success (``fetched_at``) and the last error: the refresh decides from
them what is due. A failed re-fetch keeps the icon already stored. ``IconStore`` is the
store's ``icons`` part.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import feeds, icons
from newsdesk.util import chunks


@dataclass(frozen=True, slots=True)
class IconState:
    """What the refresh needs to know about a site's icon (no bytes)."""

    id: int
    origin: str
    has_data: bool
    checked_at: datetime
    fetched_at: datetime | None


@dataclass(frozen=True, slots=True)
class IconRef:
    """A stored icon as views point at it: its id, content hash (URL and ETag) and type."""

    id: int
    hash: str
    mime_type: str


@dataclass(frozen=True, slots=True)
class Icon:
    id: int
    hash: str
    mime_type: str
    data: bytes


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _upsert(conn: Connection, origin: str, values: dict[str, Any]) -> int:
    row = conn.execute(select(icons.c.id).where(icons.c.origin == origin)).first()
    if row is not None:
        conn.execute(update(icons).where(icons.c.id == row.id).values(**values))
        return int(row.id)
    try:
        with conn.begin_nested():
            done = conn.execute(insert(icons).values(origin=origin, **values))
    except IntegrityError:  # another process stored the same site a moment ago
        again = conn.execute(select(icons.c.id).where(icons.c.origin == origin)).one()
        conn.execute(update(icons).where(icons.c.id == again.id).values(**values))
        return int(again.id)
    key = done.inserted_primary_key
    assert key is not None
    return int(key[0])


class IconStore:
    """Site icons (``store.icons``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def icon_states(self, origins: Iterable[str]) -> dict[str, IconState]:
        wanted = sorted(set(origins))
        found: dict[str, IconState] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(wanted):
                rows = conn.execute(
                    select(
                        icons.c.id,
                        icons.c.origin,
                        icons.c.hash,
                        icons.c.checked_at,
                        icons.c.fetched_at,
                    ).where(icons.c.origin.in_(chunk))
                )
                for r in rows:
                    found[r.origin] = IconState(
                        r.id, r.origin, r.hash is not None, r.checked_at, r.fetched_at
                    )
        return found

    def save_icon(
        self, origin: str, *, url: str, mime_type: str, data: bytes, now: datetime
    ) -> int:
        """Store a site's icon (replacing the one before); returns the icon's id."""
        values = {
            "url": url,
            "mime_type": mime_type,
            "data": data,
            "hash": content_hash(data),
            "checked_at": now,
            "fetched_at": now,
            "error": None,
        }
        with write_transaction(self.engine) as conn:
            return _upsert(conn, origin, values)

    def save_icon_failure(self, origin: str, error: str, now: datetime) -> int:
        """Remember a failed try (the icon stored before, if any, stays); returns the icon's id."""
        with write_transaction(self.engine) as conn:
            return _upsert(conn, origin, {"checked_at": now, "error": error[:1000]})

    def link_feeds(self, links: Mapping[int, int]) -> None:
        """Point feeds at their site's icon: ``{feed_id: icon_id}``."""
        if not links:
            return
        with write_transaction(self.engine) as conn:
            for feed_id, icon_id in sorted(links.items()):
                conn.execute(
                    update(feeds)
                    .where(feeds.c.id == feed_id, feeds.c.icon_id.is_distinct_from(icon_id))
                    .values(icon_id=icon_id)
                )

    def feed_icon_refs(self) -> dict[int, IconRef]:
        """Every feed that has an icon to show: ``{feed_id: IconRef}``."""
        query = (
            select(feeds.c.id.label("feed_id"), icons.c.id, icons.c.hash, icons.c.mime_type)
            .select_from(feeds.join(icons, icons.c.id == feeds.c.icon_id))
            .where(icons.c.hash.is_not(None))
        )
        with self.engine.connect() as conn:
            return {
                r.feed_id: IconRef(r.id, r.hash, r.mime_type or "") for r in conn.execute(query)
            }

    def get_icon(self, icon_id: int) -> Icon | None:
        """The icon with this id, bytes included; None when there is none (or none fetched yet)."""
        query = select(icons.c.id, icons.c.hash, icons.c.mime_type, icons.c.data).where(
            icons.c.id == icon_id, icons.c.hash.is_not(None)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or row.data is None:
            return None
        return Icon(row.id, row.hash, row.mime_type or "", bytes(row.data))

    def feed_icon(self, feed_id: int) -> Icon | None:
        with self.engine.connect() as conn:
            icon_id = conn.execute(select(feeds.c.icon_id).where(feeds.c.id == feed_id)).scalar()
        return self.get_icon(int(icon_id)) if icon_id is not None else None

    def linked_icons(self) -> list[Icon]:
        """Every stored icon some feed points at (Fever's ``favicons``), by id."""
        linked = select(feeds.c.icon_id).where(feeds.c.icon_id.is_not(None))
        query = (
            select(icons.c.id, icons.c.hash, icons.c.mime_type, icons.c.data)
            .where(icons.c.id.in_(linked), icons.c.hash.is_not(None))
            .order_by(icons.c.id)
        )
        with self.engine.connect() as conn:
            return [
                Icon(r.id, r.hash, r.mime_type or "", bytes(r.data))
                for r in conn.execute(query)
                if r.data is not None
            ]

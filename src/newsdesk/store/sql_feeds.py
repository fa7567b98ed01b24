"""Feeds and categories: subscribing (one or many), reading, editing and removing feeds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from newsdesk.errors import AlreadySubscribedError, FeedNotFoundError, StoreError
from newsdesk.model import Feed
from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import categories, feeds
from newsdesk.store.sql_base import SqlBase
from newsdesk.util import chunks

_FEED_COLUMNS = [c for c in feeds.c if c.name not in ("lease_owner",)]
# What a fetch needs of a feed (``feeds_to_fetch``): its address and conditional-GET validators,
# the history its next check and a move depend on, the names its outcome shows, its site and icon.
_FETCH_COLUMNS = (
    feeds.c.id,
    feeds.c.url,
    feeds.c.title,
    feeds.c.custom_title,
    feeds.c.site_url,
    feeds.c.etag,
    feeds.c.last_modified,
    feeds.c.error_count,
    feeds.c.error_since,
    feeds.c.check_interval,
    feeds.c.paused,
    feeds.c.pending_url,
    feeds.c.pending_count,
    feeds.c.ttl_minutes,
    feeds.c.entries_per_day,
    feeds.c.icon_id,
)


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    if key is None:
        raise StoreError("the database did not return the new row's id")
    return int(key[0])


def _one_line(text: str | None) -> str | None:
    """``process.sanitize.one_line``, imported when a name is written: reading feeds (a
    refresh) must not load the sanitizer (nh3)."""
    from newsdesk.process.sanitize import one_line as plain

    return plain(text)


def _feed_name(title: str | None) -> str | None:
    """A feed's own name, as a user or an OPML file gives it: plain text, like every title."""
    return (_one_line(title) or "")[:1000] or None


class FeedQueries(SqlBase):
    """``SqlStore``'s feeds and categories."""

    def _feed_select(self) -> Any:
        return select(*_FEED_COLUMNS, categories.c.title.label("category")).select_from(
            feeds.outerjoin(categories, categories.c.id == feeds.c.category_id)
        )

    @staticmethod
    def _feed(row: Row[Any]) -> Feed:
        m = row._mapping
        return Feed(
            id=m["id"],
            url=m["url"],
            title=m["title"],
            custom_title=m["custom_title"],
            site_url=m["site_url"],
            category=m["category"],
            category_id=m["category_id"],
            etag=m["etag"],
            last_modified=m["last_modified"],
            last_status=m["last_status"],
            last_fetched=m["last_fetched"],
            last_success=m["last_success"],
            error_count=m["error_count"] or 0,
            error_since=m["error_since"],
            last_error=m["last_error"],
            next_check=m["next_check"],
            check_interval=m["check_interval"],
            paused=bool(m["paused"]),
            paused_reason=m["paused_reason"],
            moved_from=m["moved_from"],
            pending_url=m["pending_url"],
            pending_count=m["pending_count"] or 0,
            problems=list(m["problems"] or []),
            ttl_minutes=m["ttl_minutes"],
            entries_per_day=m["entries_per_day"],
            created_at=m["created_at"],
            icon_id=m["icon_id"],
        )

    def _category_id(self, conn: Connection, title: str | None) -> int | None:
        # Category names are plain text wherever they come from (CLI, OPML, pages, APIs).
        title = (_one_line(title) or "")[:300]
        if not title:
            return None
        found = conn.execute(select(categories.c.id).where(categories.c.title == title)).scalar()
        if found is not None:
            return int(found)
        return _new_id(conn.execute(insert(categories).values(title=title)))

    def add_feed(self, url: str, *, title: str | None = None, category: str | None = None) -> Feed:
        now = datetime.now(UTC)
        try:
            with write_transaction(self.engine) as conn:
                category_id = self._category_id(conn, category or self.default_category)
                inserted = conn.execute(
                    insert(feeds).values(
                        url=url,
                        custom_title=_feed_name(title),
                        category_id=category_id,
                        created_at=now,
                        error_count=0,
                        paused=False,
                        pending_count=0,
                    )
                )
                feed_id = _new_id(inserted)
        except IntegrityError:
            raise AlreadySubscribedError(f"already subscribed to {url}") from None
        return self.get_feed(feed_id)

    def add_feeds(self, wanted: Sequence[tuple[str, str | None, str | None]]) -> list[int]:
        """Subscribe to many feeds (url, title, category) in one transaction, as an OPML import
        does; URLs already subscribed are skipped. The new feeds' ids, in order."""
        now = datetime.now(UTC)
        with write_transaction(self.engine) as conn:
            known = set(conn.execute(select(feeds.c.url)).scalars())
            category_ids: dict[str | None, int | None] = {}
            rows: list[dict[str, Any]] = []
            for url, title, category in wanted:
                if url in known:
                    continue
                known.add(url)
                category = category or self.default_category
                if category not in category_ids:
                    category_ids[category] = self._category_id(conn, category)
                rows.append(
                    {
                        "url": url,
                        "custom_title": _feed_name(title),
                        "category_id": category_ids[category],
                        "created_at": now,
                        "error_count": 0,
                        "paused": False,
                        "pending_count": 0,
                    }
                )
            if not rows:
                return []
            conn.execute(insert(feeds), rows)
            by_url: dict[str, int] = {}
            for urls in chunks([r["url"] for r in rows]):
                by_url.update(
                    (u, i)
                    for u, i in conn.execute(
                        select(feeds.c.url, feeds.c.id).where(feeds.c.url.in_(urls))
                    )
                )
        return [by_url[r["url"]] for r in rows]

    def get_feed(self, ref: int | str) -> Feed:
        query = self._feed_select()
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            query = query.where(feeds.c.id == int(ref))
        else:
            query = query.where(or_(feeds.c.url == ref, feeds.c.moved_from == ref))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise FeedNotFoundError(f"no feed matches {ref!r} (see `newsdesk feeds`)")
        return self._feed(row)

    def list_feeds(self, ids: Iterable[int] | None = None) -> list[Feed]:
        query = self._feed_select().order_by(feeds.c.id)
        if ids is not None:
            query = query.where(feeds.c.id.in_(list(ids)))
        with self.engine.connect() as conn:
            return [self._feed(row) for row in conn.execute(query)]

    def update_feed(self, feed_id: int, **changes: Any) -> Feed:
        values = dict(changes)
        if "custom_title" in values:
            values["custom_title"] = _feed_name(values["custom_title"])
        with write_transaction(self.engine) as conn:
            if "category" in values:
                values["category_id"] = self._category_id(conn, values.pop("category"))
            if values:
                result = conn.execute(update(feeds).where(feeds.c.id == feed_id).values(**values))
                if result.rowcount == 0:
                    raise FeedNotFoundError(f"no feed with id {feed_id}")
        return self.get_feed(feed_id)

    def remove_feed(self, feed_id: int) -> None:
        with write_transaction(self.engine) as conn:
            result = conn.execute(delete(feeds).where(feeds.c.id == feed_id))
            if result.rowcount == 0:
                raise FeedNotFoundError(f"no feed with id {feed_id}")
            conn.execute(
                delete(categories).where(
                    ~select(feeds.c.id).where(feeds.c.category_id == categories.c.id).exists()
                )
            )

    def due_feeds(self, now: datetime, limit: int | None = None) -> list[Feed]:
        query = (
            self._feed_select()
            .where(feeds.c.paused.is_(False))
            .where(or_(feeds.c.next_check.is_(None), feeds.c.next_check <= now))
            .order_by(feeds.c.next_check.is_not(None), feeds.c.next_check, feeds.c.id)
        )
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [self._feed(row) for row in conn.execute(query)]

    def feeds_to_fetch(
        self, ids: Iterable[int] | None = None, *, due: datetime | None = None
    ) -> list[Feed]:
        """The feeds a refresh fetches, in one query of the columns a fetch needs (the other
        fields of each ``Feed`` keep their defaults): ``ids`` (paused or not), else those due
        at ``due`` (as ``due_feeds`` orders them), else every feed not paused."""
        query = select(*_FETCH_COLUMNS)
        if ids is not None:
            query = query.where(feeds.c.id.in_(list(ids))).order_by(feeds.c.id)
        elif due is not None:
            query = (
                query.where(feeds.c.paused.is_(False))
                .where(or_(feeds.c.next_check.is_(None), feeds.c.next_check <= due))
                .order_by(feeds.c.next_check.is_not(None), feeds.c.next_check, feeds.c.id)
            )
        else:
            query = query.where(feeds.c.paused.is_(False)).order_by(feeds.c.id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            Feed(
                id=r[0],
                url=r[1],
                title=r[2],
                custom_title=r[3],
                site_url=r[4],
                etag=r[5],
                last_modified=r[6],
                error_count=r[7] or 0,
                error_since=r[8],
                check_interval=r[9],
                paused=bool(r[10]),
                pending_url=r[11],
                pending_count=r[12] or 0,
                ttl_minutes=r[13],
                entries_per_day=r[14],
                icon_id=r[15],
            )
            for r in rows
        ]

    def categories(self) -> list[tuple[int, str, int]]:
        query = (
            select(categories.c.id, categories.c.title, func.count(feeds.c.id))
            .select_from(categories.outerjoin(feeds, feeds.c.category_id == categories.c.id))
            .group_by(categories.c.id, categories.c.title)
            .order_by(categories.c.title)
        )
        with self.engine.connect() as conn:
            return [(int(r[0]), str(r[1]), int(r[2])) for r in conn.execute(query)]

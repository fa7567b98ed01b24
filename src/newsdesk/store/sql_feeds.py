"""Feeds and categories: subscribing (one or many), reading, editing and removing feeds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, or_, select, update

from newsdesk.errors import AlreadySubscribedError, FeedNotFoundError, StoreError
from newsdesk.model import Feed
from newsdesk.store.engine import write_transaction
from newsdesk.store.feed_options import options_from_json
from newsdesk.store.schema import categories, category_shares, feeds, subscriptions
from newsdesk.store.sql_base import SqlBase, dialect_insert
from newsdesk.store.visibility import lens, visible_feeds
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
    feeds.c.owner_key,
    feeds.c.fetch_options,
    feeds.c.fetch_secret,
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
    """``SqlStore``'s feeds and categories, as its person sees them: a person follows a feed
    through a subscription (their own title and category); a feed is stored once however many
    follow it, and goes with its last follower."""

    def _feed_select(self) -> Any:
        query = select(*_FEED_COLUMNS)
        if self.person_id is not None:
            query = query.where(feeds.c.id.in_(visible_feeds(self.person_id)))
        return query

    def _feeds(self, conn: Connection, query: Any) -> list[Feed]:
        found = [self._feed(row) for row in conn.execute(query)]
        if self.person_id is not None and found:
            seen = lens(conn, self.person_id)
            for feed in found:
                view = seen.get(feed.id)
                if view is not None:
                    feed.custom_title = view.title
                    feed.category = view.category
                    feed.category_id = view.category_id
        return found

    @staticmethod
    def _feed(row: Row[Any]) -> Feed:
        m = row._mapping
        return Feed(
            id=m["id"],
            url=m["url"],
            title=m["title"],
            site_url=m["site_url"],
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
            owner_key=m["owner_key"] or 0,
            options=options_from_json(m["fetch_options"]),
            secret=m["fetch_secret"],
        )

    def _category_id(
        self, conn: Connection, title: str | None, owner: int | None = None
    ) -> int | None:
        """The category of that title of ``owner`` (default: the person), made if needed."""
        # Category names are plain text wherever they come from (CLI, OPML, pages, APIs).
        title = (_one_line(title) or "")[:300]
        if not title:
            return None
        person = owner if owner is not None else self.require_person()
        found = conn.execute(
            select(categories.c.id).where(
                categories.c.title == title, categories.c.user_id == person
            )
        ).scalar()
        if found is not None:
            return int(found)
        return _new_id(conn.execute(insert(categories).values(title=title, user_id=person)))

    def add_feed(
        self,
        url: str,
        *,
        title: str | None = None,
        category: str | None = None,
        private: bool = False,
    ) -> Feed:
        """Follow ``url``: the feed is made unless someone already follows it. ``private``:
        the person's own copy of the URL (``owner_key``), to be fetched with their secrets."""
        ids = self.add_feeds([(url, title, category)], private=private)
        if not ids:
            raise AlreadySubscribedError(f"already subscribed to {url}")
        return self.get_feed(ids[0])

    def add_feeds(
        self, wanted: Sequence[tuple[str, str | None, str | None]], *, private: bool = False
    ) -> list[int]:
        """Follow many feeds (url, title, category) in one transaction, as an OPML import does;
        URLs the person already follows are skipped. The new subscriptions' feed ids, in
        order. A URL is the public feed of that URL (``owner_key`` 0), or with ``private`` the
        person's own copy."""
        person = self.require_person()
        now = datetime.now(UTC)
        with write_transaction(self.engine) as conn:
            followed = set(
                conn.execute(
                    select(feeds.c.url)
                    .join(subscriptions, subscriptions.c.feed_id == feeds.c.id)
                    .where(subscriptions.c.user_id == person)
                ).scalars()
            )
            fresh = [w for w in dict((w[0], w) for w in wanted).values() if w[0] not in followed]
            if not fresh:
                return []
            owner_key = person if private else 0
            by_url = self._feed_ids(conn, [w[0] for w in fresh], now, owner_key)
            category_ids: dict[str, int | None] = {}
            rows: list[dict[str, Any]] = []
            for url, title, category in fresh:
                category = category or self.default_category
                if category not in category_ids:
                    category_ids[category] = self._category_id(conn, category)
                rows.append(
                    {
                        "user_id": person,
                        "feed_id": by_url[url],
                        "title": _feed_name(title),
                        "category_id": category_ids[category],
                        "created_at": now,
                    }
                )
            conn.execute(insert(subscriptions), rows)
        return [r["feed_id"] for r in rows]

    @staticmethod
    def _feed_ids(
        conn: Connection, urls: list[str], now: datetime, owner_key: int = 0
    ) -> dict[str, int]:
        """The feeds of these URLs (public ones, or the private copies of ``owner_key``), made
        where none is stored yet."""

        def known(wanted: list[str]) -> dict[str, int]:
            found: dict[str, int] = {}
            for chunk in chunks(wanted):
                query = select(feeds.c.url, feeds.c.id).where(
                    feeds.c.url.in_(chunk), feeds.c.owner_key == owner_key
                )
                found.update((u, i) for u, i in conn.execute(query))
            return found

        by_url = known(urls)
        missing = [u for u in urls if u not in by_url]
        if missing:
            fresh = {
                "created_at": now,
                "error_count": 0,
                "paused": False,
                "pending_count": 0,
                "owner_key": owner_key,
            }
            # Someone may subscribe to the same new URL at the same moment (PostgreSQL): theirs
            # is as good as ours.
            conn.execute(
                dialect_insert(conn.dialect.name)(feeds).on_conflict_do_nothing(
                    index_elements=["url", "owner_key"]
                ),
                [{"url": u, **fresh} for u in missing],
            )
            by_url.update(known(missing))
        return by_url

    def get_feed(self, ref: int | str) -> Feed:
        query = self._feed_select()
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            query = query.where(feeds.c.id == int(ref))
        else:
            query = query.where(or_(feeds.c.url == ref, feeds.c.moved_from == ref))
            # The person's private copy of a URL before the public feed of it.
            query = query.order_by((feeds.c.owner_key == (self.person_id or 0)).desc(), feeds.c.id)
        with self.engine.connect() as conn:
            found = self._feeds(conn, query.limit(1))
        if not found:
            raise FeedNotFoundError(f"no feed matches {ref!r} (see `newsdesk feeds`)")
        return found[0]

    def list_feeds(self, ids: Iterable[int] | None = None) -> list[Feed]:
        query = self._feed_select().order_by(feeds.c.id)
        if ids is not None:
            query = query.where(feeds.c.id.in_(list(ids)))
        with self.engine.connect() as conn:
            return self._feeds(conn, query)

    def _subscription(self, conn: Connection, feed_id: int, *, manage: bool) -> int:
        """The subscription through which the person sees the feed: their own, else one in a
        category shared with them (with the right to manage it when ``manage``)."""
        person = self.require_person()
        own = conn.execute(
            select(subscriptions.c.id).where(
                subscriptions.c.user_id == person, subscriptions.c.feed_id == feed_id
            )
        ).scalar()
        if own is not None:
            return int(own)
        view = lens(conn, person, [feed_id]).get(feed_id)
        if view is None or (manage and not view.can_manage):
            raise FeedNotFoundError(f"no feed with id {feed_id}")
        shared = conn.execute(
            select(subscriptions.c.id).where(
                subscriptions.c.feed_id == feed_id,
                subscriptions.c.category_id == view.category_id,
            )
        ).scalar()
        if shared is None:
            raise FeedNotFoundError(f"no feed with id {feed_id}")
        return int(shared)

    def update_feed(self, feed_id: int, **changes: Any) -> Feed:
        """Change a feed: its title and category are the person's (on their subscription), the
        rest (URL, pause, fetch state) is the feed's."""
        values = dict(changes)
        mine: dict[str, Any] = {}
        with write_transaction(self.engine) as conn:
            if "custom_title" in values:
                mine["title"] = _feed_name(values.pop("custom_title"))
            owner = None
            if self.person_id is not None:
                subscription = self._subscription(conn, feed_id, manage=True)
                owner = conn.execute(
                    select(subscriptions.c.user_id).where(subscriptions.c.id == subscription)
                ).scalar_one()
            if "category" in values:  # the subscription's owner's category (a manager's too)
                mine["category_id"] = self._category_id(conn, values.pop("category"), owner)
            if self.person_id is not None and mine:
                conn.execute(
                    update(subscriptions).where(subscriptions.c.id == subscription).values(**mine)
                )
            if values:
                result = conn.execute(update(feeds).where(feeds.c.id == feed_id).values(**values))
                if result.rowcount == 0:
                    raise FeedNotFoundError(f"no feed with id {feed_id}")
        if owner is not None and owner != self.person_id:
            # A manager may have moved it out of the shared category: the owner's view.
            return self.as_person(owner).get_feed(feed_id)
        return self.get_feed(feed_id)

    def remove_feed(self, feed_id: int) -> None:
        """Stop following the feed (the person's subscription, or the shared one they manage);
        the feed and its entries go when nobody follows it any more. With no person, the feed
        goes whoever follows it."""
        with write_transaction(self.engine) as conn:
            owner = None
            if self.person_id is not None:
                subscription = self._subscription(conn, feed_id, manage=True)
                owner = conn.execute(
                    select(subscriptions.c.user_id).where(subscriptions.c.id == subscription)
                ).scalar_one()
                conn.execute(delete(subscriptions).where(subscriptions.c.id == subscription))
                followed = conn.execute(
                    select(subscriptions.c.id).where(subscriptions.c.feed_id == feed_id).limit(1)
                ).first()
            else:
                followed = None
            if followed is None:
                result = conn.execute(delete(feeds).where(feeds.c.id == feed_id))
                if result.rowcount == 0:
                    raise FeedNotFoundError(f"no feed with id {feed_id}")
            # Categories left empty go (as they always did): the subscription owner's only.
            used = select(subscriptions.c.id).where(subscriptions.c.category_id == categories.c.id)
            empty = ~used.exists()
            if owner is not None:
                empty = empty & (categories.c.user_id == owner)
            conn.execute(delete(categories).where(empty))

    def due_feeds(self, now: datetime, limit: int | None = None) -> list[Feed]:
        query = (
            select(*_FEED_COLUMNS)
            .where(feeds.c.paused.is_(False))
            .where(or_(feeds.c.next_check.is_(None), feeds.c.next_check <= now))
            .order_by(feeds.c.next_check.is_not(None), feeds.c.next_check, feeds.c.id)
        )
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return self._feeds(conn, query)

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
                owner_key=r[16] or 0,
                options=options_from_json(r[17]),
                secret=r[18],
            )
            for r in rows
        ]

    def categories(self) -> list[tuple[int, str, int]]:
        """(id, title, feeds) of the person's categories and those shared with them (every
        category, with no person), by title."""
        count = (
            select(func.count(subscriptions.c.id))
            .where(subscriptions.c.category_id == categories.c.id)
            .scalar_subquery()
        )
        query = select(categories.c.id, categories.c.title, count).order_by(
            categories.c.title, categories.c.id
        )
        if self.person_id is not None:
            shared = select(category_shares.c.category_id).where(
                category_shares.c.user_id == self.person_id
            )
            query = query.where(
                or_(categories.c.user_id == self.person_id, categories.c.id.in_(shared))
            )
        with self.engine.connect() as conn:
            return [(int(r[0]), str(r[1]), int(r[2])) for r in conn.execute(query)]

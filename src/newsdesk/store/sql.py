"""``SqlStore``: the Storage protocol on SQLAlchemy Core, for SQLite and PostgreSQL.

Deduplication is the database's job: ``unique (feed_id, key)`` on entries. Each refresh of a feed
is one transaction: its fetch state, new and changed entries, their links and tags, and (through
triggers or a generated column) the search index.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Row,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    null,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError, SQLAlchemyError

from newsdesk.errors import (
    ConcurrentWriteError,
    FeedNotFoundError,
    NewsdeskError,
    StoreError,
)
from newsdesk.model import Enclosure, Entry, Feed, PageText, StoredEntry
from newsdesk.process.sanitize import one_line
from newsdesk.process.urls import canonical_url, is_web_url
from newsdesk.store import search as fts
from newsdesk.store.alerts import AlertStore
from newsdesk.store.editing import EditingStore
from newsdesk.store.engine import create_store_engine, write_transaction
from newsdesk.store.icons import IconStore
from newsdesk.store.labels import LabelStore
from newsdesk.store.leases import LeaseStore
from newsdesk.store.migrations import migrate
from newsdesk.store.portable import PortableStore
from newsdesk.store.protocol import EntryQuery, FeedState, StoreResult
from newsdesk.store.reading import ReadingStore
from newsdesk.store.saved_searches import SavedSearchStore
from newsdesk.store.schema import (
    USER_LABEL,
    categories,
    entity_mentions,
    entries,
    entry_links,
    entry_tags,
    feeds,
    link_cache,
)
from newsdesk.store.schema import pages as pages_table
from newsdesk.store.sync import SyncStore
from newsdesk.store.throttle import ThrottleStore
from newsdesk.store.tokens import TokenStore
from newsdesk.store.users import UserStore
from newsdesk.store.watchlists import WatchlistStore

_CHUNK = 500
DEFAULT_CATEGORY = "General"  # the default of the ``default_category`` setting
# Most matches a search ranks on SQLite (see SqlStore._rank_window).
RANK_WINDOW = 500
_FEED_COLUMNS = [c for c in feeds.c if c.name not in ("lease_owner",)]
_ENTRY_COLUMNS = [
    entries.c.id,
    entries.c.feed_id,
    entries.c.kind,
    entries.c.key,
    entries.c.url,
    entries.c.title,
    entries.c.author,
    entries.c.published,
    entries.c.updated,
    entries.c.first_seen,
    entries.c.content_html,
    entries.c.content_text,
    entries.c.summary_html,
    entries.c.tags,
    entries.c.links,
    entries.c.enclosures,
    entries.c.reposted_by,
    entries.c.reply_to,
    entries.c.language,
    entries.c.read,
    entries.c.starred,
    entries.c.story_id,
    entries.c.fulltext_status,
    entries.c.fulltext_error,
    entries.c.page,
    entries.c.changed_at,
    func.coalesce(feeds.c.custom_title, feeds.c.title, feeds.c.url).label("feed_title"),
    categories.c.title.label("category"),
]


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    if key is None:
        raise StoreError("the database did not return the new row's id")
    return int(key[0])


log = logging.getLogger(__name__)


def _feed_name(title: str | None) -> str | None:
    """A feed's own name, as a user or an OPML file gives it: plain text, like every title."""
    return (one_line(title) or "")[:1000] or None


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Existing(NamedTuple):
    """What an upsert needs to know of an entry already stored under the same key."""

    id: int
    content_hash: str
    url_canonical: str | None
    fulltext_status: str | None


def _keeps_fulltext(stored: _Existing, e: Entry) -> bool:
    """An edited summary-only article keeps the full text extracted from its page as long as
    the feed still points to the same page."""
    same_page = stored.url_canonical == (canonical_url(e.url) if e.url else None)
    return e.wants_fulltext and stored.fulltext_status == "done" and same_page


class SqlStore:
    """The one place that writes SQL (besides ``store.search``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        # A feed subscribed without a category goes here (the Desk sets it from the settings).
        self.default_category = DEFAULT_CATEGORY
        self.engine = create_store_engine(url)
        self.dialect = self.engine.dialect.name
        try:
            migrate(self.engine)
        except OperationalError as exc:
            self.engine.dispose()
            raise StoreError(f"cannot open the database {self._safe_url()}: {exc.orig}") from None
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise StoreError(f"cannot prepare the database {self._safe_url()}: {exc}") from None
        # parts
        self.alerts = AlertStore(self.engine)
        self.editing = EditingStore(self)
        self.icons = IconStore(self.engine)
        self.labels = LabelStore(self)
        self.leases = LeaseStore(self.engine)
        self.portable = PortableStore(self.engine)
        self.reading = ReadingStore(self)
        self.saved_searches = SavedSearchStore(self.engine)
        self.sync = SyncStore(self)
        self.throttle = ThrottleStore(self.engine)
        self.tokens = TokenStore(self.engine)
        self.users = UserStore(self.engine)
        self.watchlists = WatchlistStore(self.engine)

    def _safe_url(self) -> str:
        from sqlalchemy.engine import make_url

        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except Exception:
            return "(invalid URL)"

    def close(self) -> None:
        self.engine.dispose()

    # -- feeds --------------------------------------------------------------------------------

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
        title = (one_line(title) or "")[:300]
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
            raise NewsdeskError(f"already subscribed to {url}") from None
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
            for urls in _chunks([r["url"] for r in rows]):
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

    def categories(self) -> list[tuple[int, str, int]]:
        query = (
            select(categories.c.id, categories.c.title, func.count(feeds.c.id))
            .select_from(categories.outerjoin(feeds, feeds.c.category_id == categories.c.id))
            .group_by(categories.c.id, categories.c.title)
            .order_by(categories.c.title)
        )
        with self.engine.connect() as conn:
            return [(int(r[0]), str(r[1]), int(r[2])) for r in conn.execute(query)]

    # -- refresh ------------------------------------------------------------------------------

    @staticmethod
    def _state_values(state: FeedState, feed: Row[Any] | None) -> dict[str, Any]:
        values: dict[str, Any] = {
            "last_fetched": state.last_fetched,
            "last_status": state.last_status,
            "next_check": state.next_check,
            "pending_url": state.pending_url,
            "pending_count": state.pending_count,
        }
        if state.error is None:
            values.update(
                error_count=0, error_since=None, last_error=None, last_success=state.last_fetched
            )
            if state.etag is not None or state.last_modified is not None:
                values.update(etag=state.etag, last_modified=state.last_modified)
        else:
            values.update(
                error_count=feeds.c.error_count + 1,
                last_error=state.error[:2000],
                error_since=func.coalesce(feeds.c.error_since, state.last_fetched),
            )
        if state.title and (title := one_line(state.title)):
            values["title"] = title[:1000]
        if state.site_url and is_web_url(state.site_url):  # never a javascript: link
            values["site_url"] = state.site_url
        if state.problems or state.title is not None:
            values["problems"] = state.problems[:20]
        if state.ttl_minutes is not None:
            values["ttl_minutes"] = state.ttl_minutes
        if state.entries_per_day is not None:
            values["entries_per_day"] = state.entries_per_day
        if state.paused_reason:
            values.update(paused=True, paused_reason=state.paused_reason)
        return values

    def save_fetch_states(self, states: Sequence[tuple[int, FeedState]]) -> None:
        """Record fetches that stored no entries (304s, errors) in one transaction."""
        if not states:
            return
        with write_transaction(self.engine) as conn:
            for feed_id, state in states:
                self._write_state(conn, feed_id, state)

    def _write_state(self, conn: Connection, feed_id: int, state: FeedState) -> None:
        values = self._state_values(state, None)
        if state.new_url:
            current = conn.execute(select(feeds.c.url).where(feeds.c.id == feed_id)).scalar()
            taken = conn.execute(
                select(feeds.c.id).where(feeds.c.url == state.new_url, feeds.c.id != feed_id)
            ).scalar()
            if current and current != state.new_url and taken is None:
                values.update(
                    url=state.new_url, moved_from=current, pending_url=None, pending_count=0
                )
        conn.execute(update(feeds).where(feeds.c.id == feed_id).values(**values))

    def save_refresh(
        self, feed_id: int, state: FeedState, new_entries: Sequence[Entry], now: datetime
    ) -> StoreResult:
        result = self.save_refresh_batch([(feed_id, state, new_entries)], now)[0]
        if result.error is not None:
            raise ConcurrentWriteError(result.error)
        return result

    def save_refresh_batch(
        self, batch: Sequence[tuple[int, FeedState, Sequence[Entry]]], now: datetime
    ) -> list[StoreResult]:
        """Several feeds' refreshes in one transaction (a commit, with its search-index flush,
        costs far more than a row); each feed in a savepoint, so it is stored whole or not at
        all. When unique (feed_id, key) catches a concurrent refresh of the same feed, that
        feed's savepoint rolls back (the other copy stands) and its result carries the error;
        the other feeds of the batch are stored."""
        results: list[StoreResult] = []
        with write_transaction(self.engine) as conn:
            for feed_id, state, new_entries in batch:
                try:
                    with conn.begin_nested():
                        self._write_state(conn, feed_id, state)
                        results.append(
                            self._upsert_entries(conn, feed_id, new_entries, now)
                            if new_entries
                            else StoreResult()
                        )
                except IntegrityError:
                    results.append(
                        StoreResult(
                            error=(
                                f"feed {feed_id} was stored by another refresh at the same "
                                "time; this copy was discarded"
                            )
                        )
                    )
        return results

    def _upsert_entries(
        self, conn: Connection, feed_id: int, batch: Sequence[Entry], now: datetime
    ) -> StoreResult:
        result = StoreResult()
        existing: dict[str, _Existing] = {}
        for keys in _chunks([e.key for e in batch]):
            rows = conn.execute(
                select(
                    entries.c.key,
                    entries.c.id,
                    entries.c.content_hash,
                    entries.c.url_canonical,
                    entries.c.fulltext_status,
                ).where(entries.c.feed_id == feed_id, entries.c.key.in_(keys))
            )
            existing.update({r[0]: _Existing(r[1], r[2], r[3], r[4]) for r in rows})
        fresh = [e for e in batch if e.key not in existing]
        if fresh:
            # GUIDs that rotate on every fetch: the same content under a new key is not new.
            known_hashes: set[str] = set()
            for hashes in _chunks([e.content_hash for e in fresh]):
                known_hashes.update(
                    conn.execute(
                        select(entries.c.content_hash).where(
                            entries.c.feed_id == feed_id, entries.c.content_hash.in_(hashes)
                        )
                    ).scalars()
                )
            fresh = [e for e in fresh if e.content_hash not in known_hashes]
        changed = [
            (existing[e.key].id, e)
            for e in batch
            if e.key in existing and existing[e.key].content_hash != e.content_hash
        ]
        if fresh:
            # executemany, then one query for the ids: INSERT … RETURNING of many rows runs a
            # statement per row on SQLite.
            conn.execute(insert(entries), [self._entry_row(feed_id, e, now) for e in fresh])
            ids: dict[str, int] = {}
            for keys in _chunks([e.key for e in fresh]):
                ids.update(
                    (key, entry_id)
                    for key, entry_id in conn.execute(
                        select(entries.c.key, entries.c.id).where(
                            entries.c.feed_id == feed_id, entries.c.key.in_(keys)
                        )
                    )
                )
            result.new_ids = [ids[e.key] for e in fresh]
            self._write_links_and_tags(conn, [(ids[e.key], e) for e in fresh], replace=False)
        if changed:
            self._update_changed(conn, changed, existing)
            result.updated_ids = [entry_id for entry_id, _ in changed]
            self._write_links_and_tags(conn, changed, replace=True)
        return result

    @staticmethod
    def _update_changed(
        conn: Connection, changed: Sequence[tuple[int, Entry]], existing: dict[str, _Existing]
    ) -> None:
        """Rewrite entries the feed edited. An article whose full text was extracted keeps it
        when its link is the same (the page did not move; the feed only reworded its summary,
        which is kept beside it); with a new link, or without full text, the entry takes the
        feed's version and waits for extraction again (``fulltext_status`` pending)."""
        keep: list[dict[str, Any]] = []
        replace: list[dict[str, Any]] = []
        now = datetime.now(UTC)
        for entry_id, e in changed:
            values = {"b_id": entry_id, "changed_at": now, **SqlStore._entry_update(e)}
            if _keeps_fulltext(existing[e.key], e):
                values["summary_html"] = e.summary_html or e.content_html
                for name in ("content_html", "content_text", "fulltext_status"):
                    del values[name]
                keep.append(values)
            else:
                replace.append(values)
        shared: dict[str, Any] = {
            name: bindparam(name)
            for name in (
                "title",
                "author",
                "url",
                "url_canonical",
                "updated",
                "summary_html",
                "content_hash",
                "tags",
                "links",
                "enclosures",
                "wants_fulltext",
                "changed_at",
            )
        }
        statement = update(entries).where(entries.c.id == bindparam("b_id"))
        if keep:
            conn.execute(statement.values(**shared), keep)
        if replace:
            conn.execute(
                statement.values(
                    **shared,
                    content_html=bindparam("content_html"),
                    content_text=bindparam("content_text"),
                    fulltext_status=bindparam("fulltext_status"),
                    # what was extracted from the old page no longer describes this entry
                    fulltext_error=None,
                    page=null(),
                ),
                replace,
            )

    @staticmethod
    def _entry_update(e: Entry) -> dict[str, Any]:
        return {
            "title": e.title,
            "author": e.author,
            "url": e.url,
            "url_canonical": canonical_url(e.url) if e.url else None,
            "updated": e.updated,
            "content_html": e.content_html,
            "content_text": e.content_text,
            "summary_html": e.summary_html,
            "content_hash": e.content_hash,
            "tags": e.tags,
            "links": [canonical_url(u) for u in e.links],
            "enclosures": [x.as_dict() for x in e.enclosures],
            "wants_fulltext": e.wants_fulltext,
            "fulltext_status": "pending" if e.wants_fulltext else None,
        }

    def _entry_row(self, feed_id: int, e: Entry, now: datetime) -> dict[str, Any]:
        return {
            "feed_id": feed_id,
            "key": e.key,
            "kind": e.kind,
            "published": e.published,
            "first_seen": now,
            "changed_at": now,
            "reposted_by": e.reposted_by,
            "reply_to": e.reply_to,
            "language": e.language,
            "read": False,
            "starred": False,
            **self._entry_update(e),
        }

    @staticmethod
    def _write_links_and_tags(
        conn: Connection, pairs: Sequence[tuple[int, Entry]], *, replace: bool
    ) -> None:
        if replace:
            ids = [entry_id for entry_id, _ in pairs]
            for chunk in _chunks(ids):
                conn.execute(delete(entry_links).where(entry_links.c.entry_id.in_(chunk)))
                # The feed's tags are rewritten; the reader's own labels stay (store.labels).
                conn.execute(
                    delete(entry_tags).where(
                        entry_tags.c.entry_id.in_(chunk),
                        func.substr(entry_tags.c.tag, 1, len(USER_LABEL)) != USER_LABEL,
                    )
                )
        link_rows: list[dict[str, Any]] = []
        tag_rows: list[dict[str, Any]] = []
        for entry_id, e in pairs:
            seen: set[str] = set()
            for position, url in enumerate(e.links):
                canonical = canonical_url(url)
                if canonical not in seen:
                    seen.add(canonical)
                    link_rows.append({"entry_id": entry_id, "url": canonical, "position": position})
            tag_rows.extend(
                {"entry_id": entry_id, "tag": tag[:100]}
                for tag in dict.fromkeys(t[:100] for t in e.tags)
            )
        if link_rows:
            conn.execute(insert(entry_links), link_rows)
        if tag_rows:
            conn.execute(insert(entry_tags), tag_rows)

    # -- reading ------------------------------------------------------------------------------

    def _entry_filters(self, query: EntryQuery) -> list[Any]:
        where: list[Any] = []
        if query.category is not None:
            where.append(categories.c.title == query.category)
        if query.feed_id is not None:
            where.append(entries.c.feed_id == query.feed_id)
        if query.kind is not None:
            where.append(entries.c.kind == query.kind)
        if query.read is not None:
            where.append(entries.c.read.is_(query.read))
        if query.starred is not None:
            where.append(entries.c.starred.is_(query.starred))
        if query.since is not None:
            where.append(entries.c.published >= query.since)
        if query.until is not None:
            where.append(entries.c.published < query.until)
        if query.ids is not None:
            where.append(entries.c.id.in_(list(query.ids)))
        if query.tag is not None:
            where.append(
                entries.c.id.in_(
                    select(entry_tags.c.entry_id).where(entry_tags.c.tag == query.tag.casefold())
                )
            )
        if query.story_id is not None:
            where.append(entries.c.story_id == query.story_id)
        if query.entity_id is not None:
            where.append(
                entries.c.id.in_(
                    select(entity_mentions.c.entry_id).where(
                        entity_mentions.c.entity_id == query.entity_id
                    )
                )
            )
        return where

    def _entries_from(self) -> Any:
        return entries.join(feeds, feeds.c.id == entries.c.feed_id).outerjoin(
            categories, categories.c.id == feeds.c.category_id
        )

    def list_entries(self, query: EntryQuery) -> list[StoredEntry]:
        order = (
            (entries.c.published.asc(), entries.c.id.asc())
            if query.oldest_first
            else (entries.c.published.desc(), entries.c.id.desc())
        )
        stmt = (
            select(*_ENTRY_COLUMNS)
            .select_from(self._entries_from())
            .where(and_(True, *self._entry_filters(query)))
            .order_by(*order)
            .limit(query.limit)
            .offset(query.offset)
        )
        with self.engine.connect() as conn:
            found = [self._stored(row) for row in conn.execute(stmt)]
            self._attach_related(conn, found)
        return found

    def count_entries(self, query: EntryQuery) -> int:
        stmt = (
            select(func.count())
            .select_from(self._entries_from())
            .where(and_(True, *self._entry_filters(query)))
        )
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def get_entry(self, entry_id: int) -> StoredEntry:
        found = self.list_entries(EntryQuery(ids=[entry_id], limit=1))
        if not found:
            raise NewsdeskError(f"no entry with id {entry_id}")
        return found[0]

    def search(self, text_query: str, query: EntryQuery) -> list[StoredEntry]:
        match = fts.match_expression(self.dialect, text_query)
        if not match:
            return []
        filters = self._entry_filters(query)
        with self.engine.connect() as conn:
            try:
                if self.dialect == "sqlite":
                    filters += self._rank_window(conn, match, filters)
                stmt = (
                    fts.search_statement(self.dialect, match, self._entries_from(), filters)
                    .limit(query.limit)
                    .offset(query.offset)
                )
                hits = conn.execute(stmt).all()
            except (OperationalError, ProgrammingError) as exc:
                # The database's own words stay in the log: they describe our SQL, not the
                # user's mistake.
                log.warning("search for %r failed: %s", text_query[:200], exc.orig)
                raise NewsdeskError(
                    f"cannot search for {text_query[:200]!r}: use plain words"
                ) from None
            if not hits:
                return []
            rows = conn.execute(
                select(*_ENTRY_COLUMNS)
                .select_from(self._entries_from())
                .where(entries.c.id.in_([h.id for h in hits]))
            )
            by_id = {row.id: self._stored(row) for row in rows}
            found = []
            for hit in hits:
                entry = by_id.get(hit.id)
                if entry is not None:
                    entry.snippet = hit.snippet
                    found.append(entry)
            self._attach_related(conn, found)
        return found

    def _rank_window(self, conn: Connection, match: str, filters: list[Any]) -> list[Any]:
        """SQLite ranks (bm25) every match before sorting, seconds for words found in most
        entries; when a query matches more than RANK_WINDOW entries, only the newest
        RANK_WINDOW of them are ranked (a bound on the index's rowid, which FTS5 applies
        while reading)."""
        fts_rowid: Any = literal_column("entries_fts.rowid")
        floor = conn.execute(
            select(entries.c.id)
            .select_from(self._entries_from().join(table("entries_fts"), fts_rowid == entries.c.id))
            .where(text("entries_fts MATCH :match").bindparams(match=match), *filters)
            .order_by(fts_rowid.desc())
            .limit(1)
            .offset(RANK_WINDOW - 1)
        ).scalar()
        return [] if floor is None else [fts_rowid >= floor]

    def set_flags(
        self, ids: Sequence[int], *, read: bool | None = None, starred: bool | None = None
    ) -> int:
        now = datetime.now(UTC)
        values: dict[str, Any] = {}
        if read is not None:
            values.update(read=read, read_at=now if read else None)
        if starred is not None:
            values.update(starred=starred, starred_at=now if starred else None)
        if not values or not ids:
            return 0
        values["changed_at"] = now
        count = 0
        with write_transaction(self.engine) as conn:
            for chunk in _chunks(list(ids)):
                count += conn.execute(
                    update(entries).where(entries.c.id.in_(chunk)).values(**values)
                ).rowcount
        return count

    @staticmethod
    def _stored(row: Row[Any]) -> StoredEntry:
        m = row._mapping
        return StoredEntry(
            id=m["id"],
            feed_id=m["feed_id"],
            feed_title=m["feed_title"],
            category=m["category"],
            kind=m["kind"],
            key=m["key"],
            url=m["url"],
            title=m["title"],
            author=m["author"],
            published=m["published"],
            updated=m["updated"],
            first_seen=m["first_seen"],
            content_html=m["content_html"] or "",
            content_text=m["content_text"] or "",
            summary_html=m["summary_html"],
            tags=list(m["tags"] or []),
            links=list(m["links"] or []),
            enclosures=[
                Enclosure(url=e.get("url", ""), type=e.get("type"), length=e.get("length"))
                for e in (m["enclosures"] or [])
                if isinstance(e, dict)
            ],
            reposted_by=m["reposted_by"],
            reply_to=m["reply_to"],
            language=m["language"],
            read=bool(m["read"]),
            starred=bool(m["starred"]),
            story_id=m["story_id"],
            fulltext_status=m["fulltext_status"],
            fulltext_error=m["fulltext_error"],
            page=m["page"],
            changed_at=max(m["changed_at"] or m["first_seen"], m["first_seen"]),
        )

    def related_ids(self, conn: Connection, ids: Sequence[int]) -> dict[int, list[int]]:
        """Entries related by URL: one links to the other's canonical URL, or both are the
        same page."""
        related: dict[int, set[int]] = {}
        if not ids:
            return {}
        other = entries.alias("other")
        for chunk in _chunks(list(ids)):
            queries = [
                select(entry_links.c.entry_id, other.c.id)
                .join(other, other.c.url_canonical == entry_links.c.url)
                .where(entry_links.c.entry_id.in_(chunk)),
                select(entries.c.id, entry_links.c.entry_id)
                .join(entry_links, entry_links.c.url == entries.c.url_canonical)
                .where(entries.c.id.in_(chunk)),
                select(entries.c.id, other.c.id)
                .join(
                    other,
                    and_(
                        other.c.url_canonical == entries.c.url_canonical, other.c.id != entries.c.id
                    ),
                )
                .where(entries.c.id.in_(chunk)),
            ]
            for q in queries:
                for a, b in conn.execute(q):
                    if a != b:
                        related.setdefault(a, set()).add(b)
        return {k: sorted(v) for k, v in related.items()}

    def _attach_related(self, conn: Connection, found: list[StoredEntry]) -> None:
        related = self.related_ids(conn, [e.id for e in found])
        for entry in found:
            entry.related = related.get(entry.id, [])

    # -- enrichment ---------------------------------------------------------------------------

    def entries_to_enrich(self, ids: Sequence[int], *, fulltext: bool = True) -> list[StoredEntry]:
        """Of ``ids``, the entries enrichment works on: posts that link somewhere, and (with
        ``fulltext``) articles waiting for their full text. Others are not even loaded."""
        wanted = self.ids_to_enrich(ids, fulltext=fulltext)
        found: list[StoredEntry] = []
        for chunk in _chunks(wanted):
            found.extend(self.list_entries(EntryQuery(ids=chunk, limit=len(chunk))))
        return found

    def ids_to_enrich(self, ids: Sequence[int], *, fulltext: bool = True) -> list[int]:
        """The ids of ``entries_to_enrich``."""
        wanted: list[int] = []
        with self.engine.connect() as conn:
            for chunk in _chunks(list(ids)):
                needs = and_(
                    entries.c.kind == "post",
                    select(entry_links.c.entry_id)
                    .where(entry_links.c.entry_id == entries.c.id)
                    .exists(),
                )
                if fulltext:
                    needs = or_(needs, entries.c.fulltext_status == "pending")
                wanted.extend(
                    conn.execute(
                        select(entries.c.id).where(entries.c.id.in_(chunk), needs)
                    ).scalars()
                )
        return wanted

    def cached_expansions(self, urls: Iterable[str]) -> dict[str, str]:
        wanted = list(dict.fromkeys(urls))
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(wanted):
                rows = conn.execute(
                    select(link_cache.c.url, link_cache.c.final_url).where(
                        link_cache.c.url.in_(chunk)
                    )
                )
                found.update({r[0]: r[1] for r in rows})
        return found

    def _upsert(self, table_: Any) -> Any:
        """INSERT … ON CONFLICT for this database (both dialects spell it the same way)."""
        return (postgresql if self.dialect == "postgresql" else sqlite).insert(table_)

    def save_expansions(self, expansions: dict[str, str], now: datetime) -> None:
        """Remember where short links lead. Concurrent enrichers (Celery tasks, two refreshes)
        may resolve the same link at once: the first row stands and the other insert is a
        no-op, where a read-then-insert would fail on the primary key (PostgreSQL reads
        committed rows only) and lose that enricher's whole batch of links."""
        if not expansions:
            return
        rows = [
            {"url": url, "final_url": final, "resolved_at": now}
            for url, final in expansions.items()
        ]
        with write_transaction(self.engine) as conn:
            for chunk in _chunks(rows):
                conn.execute(self._upsert(link_cache).on_conflict_do_nothing(), list(chunk))

    def save_links(self, entry_id: int, links: list[str]) -> None:
        canonical = list(dict.fromkeys(canonical_url(u) for u in links))
        with write_transaction(self.engine) as conn:
            conn.execute(update(entries).where(entries.c.id == entry_id).values(links=canonical))
            conn.execute(delete(entry_links).where(entry_links.c.entry_id == entry_id))
            if canonical:
                conn.execute(
                    insert(entry_links),
                    [
                        {"entry_id": entry_id, "url": u, "position": i}
                        for i, u in enumerate(canonical)
                    ],
                )

    def get_pages(self, urls: Iterable[str]) -> dict[str, PageText]:
        found: dict[str, PageText] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(dict.fromkeys(urls))):
                for r in conn.execute(select(pages_table).where(pages_table.c.url.in_(chunk))):
                    found[r.url] = PageText(
                        url=r.url,
                        final_url=r.final_url or r.url,
                        title=r.title,
                        author=r.author,
                        published=r.published,
                        site_name=r.site_name,
                        text=r.text or "",
                        html=r.html or "",
                        error=r.error,
                    )
        return found

    def save_page(self, canonical: str, page: PageText, now: datetime) -> None:
        """Store (or replace) the page fetched for ``canonical``; one statement, so two
        enrichers saving the same page at once cannot collide on its key."""
        values = {
            "final_url": page.final_url,
            "title": page.title,
            "author": page.author,
            "published": page.published,
            "site_name": page.site_name,
            "text": page.text,
            "html": page.html,
            "error": page.error,
            "fetched_at": now,
        }
        statement = self._upsert(pages_table).values(url=canonical, **values)
        with write_transaction(self.engine) as conn:
            conn.execute(statement.on_conflict_do_update(index_elements=["url"], set_=values))

    def apply_fulltext(self, entry_id: int, page: PageText | None, error: str | None) -> None:
        values: dict[str, Any]
        if page is not None and not page.error and page.text:
            values = {
                # the feed's own summary stays available beside the full text
                "summary_html": func.coalesce(entries.c.summary_html, entries.c.content_html),
                "content_html": page.html,
                "content_text": page.text,
                "fulltext_status": "done",
                "fulltext_error": None,
                "page": {
                    "title": page.title,
                    "author": page.author,
                    "published": page.published,
                    "site_name": page.site_name,
                    "url": page.final_url,
                },
            }
        else:
            values = {
                "fulltext_status": "failed",
                "fulltext_error": (error or (page.error if page else None) or "failed"),
            }
        values["changed_at"] = datetime.now(UTC)
        with write_transaction(self.engine) as conn:
            conn.execute(update(entries).where(entries.c.id == entry_id).values(**values))


def open_store(url: str) -> SqlStore:
    """Open (creating and migrating as needed) the database at ``url``."""
    return SqlStore(url)

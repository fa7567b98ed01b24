"""The refresh writer: a feed's fetch state, its new and edited entries, their links and tags,
in one transaction per batch, written in bulk (``store.bulk_rows``); a savepoint per feed only
when a conflict needs one. Deduplication is the database's job: ``unique (feed_id, key)`` on
entries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, null, select, update
from sqlalchemy.exc import IntegrityError

from newsdesk.errors import ConcurrentWriteError
from newsdesk.model import Entry
from newsdesk.process.sanitize import one_line
from newsdesk.process.urls import canonical_url, is_web_url
from newsdesk.store.bulk_rows import (
    Existing,
    delete_links_and_tags,
    feeds_holding,
    insert_entries,
    last_entry_id,
    plan,
    statements,
    write_links_and_tags,
    write_new_links_and_tags,
)
from newsdesk.store.engine import checkpoint, write_transaction
from newsdesk.store.protocols.refresh import FeedState, StoreResult
from newsdesk.store.schema import entries, feeds
from newsdesk.store.search import index_queued, queued_count
from newsdesk.store.sql_base import SqlBase


def _keeps_fulltext(stored: Existing, e: Entry) -> bool:
    """An edited summary-only article keeps the full text extracted from its page as long as
    the feed still points to the same page."""
    same_page = stored.url_canonical == (canonical_url(e.url) if e.url else None)
    return e.wants_fulltext and stored.fulltext_status == "done" and same_page


@cache
def _state_statement(names: tuple[str, ...], *, failed: bool) -> Any:
    """``UPDATE feeds SET name = :v_name, … WHERE id = :b_id``, for an executemany of the
    states that set ``names`` (and, when ``failed``, count an error); made once per shape."""
    values: dict[str, Any] = {name: bindparam(f"v_{name}") for name in names}
    if failed:
        values["error_count"] = feeds.c.error_count + 1
        values["error_since"] = func.coalesce(feeds.c.error_since, bindparam("v_last_fetched"))
    return update(feeds).where(feeds.c.id == bindparam("b_id")).values(**values)


class RefreshWriter(SqlBase):
    """``SqlStore``'s writes of a refresh."""

    @staticmethod
    def _state_params(state: FeedState) -> dict[str, Any]:
        """The plain values ``state`` sets on its feed; a failed fetch also counts an error
        (``error_count`` + 1, ``error_since`` kept when set: expressions the callers add)."""
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
            values["last_error"] = state.error[:2000]
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

    @staticmethod
    def _state_values(state: FeedState, feed: Row[Any] | None) -> dict[str, Any]:
        """The columns ``state`` sets on its feed, as ``update(feeds).values(...)`` takes them."""
        values = RefreshWriter._state_params(state)
        if state.error is not None:
            values.update(
                error_count=feeds.c.error_count + 1,
                error_since=func.coalesce(feeds.c.error_since, state.last_fetched),
            )
        return values

    def save_fetch_states(self, states: Sequence[tuple[int, FeedState]]) -> None:
        """Record fetches that stored no entries (304s, errors) in one transaction: states that
        set the same columns go in one executemany of one statement (an unchanged refresh of a
        thousand feeds is one statement, compiled once); a feed that moved, on its own."""
        if not states:
            return
        with write_transaction(self.engine) as conn:
            self._write_states(conn, states)

    def index_queued_search(self, from_id: int = 0) -> int:
        """Index the entries queued for search (``search.index_queued``) from ``from_id`` on;
        how many."""
        return index_queued(self.engine, from_id=from_id)

    def queued_search_count(self) -> int:
        """Entries waiting for the search index."""
        with self.engine.connect() as conn:
            return queued_count(conn)

    def checkpoint(self) -> None:
        """Copy what is committed into the database file now, without waiting for anyone
        (``engine.checkpoint``): a refresh's workers call it between their turns to write."""
        checkpoint(self.engine)

    def _write_states(self, conn: Connection, states: Sequence[tuple[int, FeedState]]) -> None:
        """States that set the same columns in one executemany of one statement; a feed that
        moved, on its own."""
        groups: dict[tuple[bool, tuple[str, ...]], list[dict[str, Any]]] = {}
        moved: list[tuple[int, FeedState]] = []
        for feed_id, state in states:
            if state.new_url:
                moved.append((feed_id, state))
                continue
            values = self._state_params(state)
            rows = groups.setdefault((state.error is not None, tuple(values)), [])
            row = {f"v_{name}": value for name, value in values.items()}
            row["b_id"] = feed_id
            rows.append(row)
        for (failed, names), rows in groups.items():
            conn.execute(_state_statement(names, failed=failed), rows)
        for feed_id, state in moved:
            self._write_state(conn, feed_id, state)

    def _write_state(self, conn: Connection, feed_id: int, state: FeedState) -> None:
        values = self._state_values(state, None)
        if state.new_url:
            found = conn.execute(
                select(feeds.c.url, feeds.c.owner_key).where(feeds.c.id == feed_id)
            ).first()
            current = found[0] if found else None
            taken = conn.execute(  # the URL is unique with the owner key (public, or one's own)
                select(feeds.c.id).where(
                    feeds.c.url == state.new_url,
                    feeds.c.owner_key == (found[1] if found else 0),
                    feeds.c.id != feed_id,
                )
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
        self,
        batch: Sequence[tuple[int, FeedState, Sequence[Entry]]],
        now: datetime,
        *,
        index_later: bool = False,
    ) -> list[StoreResult]:
        """Several feeds' refreshes in one transaction (a commit, with its search-index flush,
        costs far more than a row), each feed stored whole or not at all. The batch is written
        in bulk without savepoints; when unique (feed_id, key) catches a concurrent refresh of
        one of its feeds, the transaction rolls back and the batch is written again with each
        feed in a savepoint: that feed's savepoint rolls back (the other copy stands) and its
        result carries the error; the other feeds of the batch are stored. ``index_later``: the
        new entries wait in the search index's queue (``index_queued_search``), on SQLite."""
        try:
            with write_transaction(self.engine) as conn:
                return self._write_feeds(conn, batch, now, index_later)
        except IntegrityError:
            pass  # written again below, one savepoint per feed
        results: list[StoreResult] = []
        with write_transaction(self.engine) as conn:
            for item in batch:
                try:
                    with conn.begin_nested():
                        results.extend(self._write_feeds(conn, [item], now, index_later))
                except IntegrityError:
                    results.append(
                        StoreResult(
                            error=(
                                f"feed {item[0]} was stored by another refresh at the same "
                                "time; this copy was discarded"
                            )
                        )
                    )
        return results

    def _write_feeds(
        self,
        conn: Connection,
        batch: Sequence[tuple[int, FeedState, Sequence[Entry]]],
        now: datetime,
        index_later: bool = False,
    ) -> list[StoreResult]:
        """Write the batch in groups of distinct feeds (a feed given twice sees its first
        copy stored when its second is looked at)."""
        results: list[StoreResult] = []
        group: list[tuple[int, FeedState, Sequence[Entry]]] = []
        in_group: set[int] = set()
        for item in batch:
            if item[0] in in_group:
                results.extend(self._write_group(conn, group, now, index_later))
                group, in_group = [], set()
            group.append(item)
            in_group.add(item[0])
        results.extend(self._write_group(conn, group, now, index_later))
        return results

    def _write_group(
        self,
        conn: Connection,
        group: Sequence[tuple[int, FeedState, Sequence[Entry]]],
        now: datetime,
        index_later: bool = False,
    ) -> list[StoreResult]:
        """Fetch states, then the new entries of every feed in one executemany, their ids in
        one query, their links and tags in one executemany each; edited entries per feed."""
        sql = statements(conn.dialect)
        last_id = last_entry_id(conn, sql)
        self._write_states(conn, [(feed_id, state) for feed_id, state, _ in group])
        holding = feeds_holding(conn, sql, [feed_id for feed_id, _, entries in group if entries])
        plans = [
            plan(conn, sql, feed_id, new_entries, stored=feed_id in holding)
            for feed_id, _, new_entries in group
        ]
        fresh = [(p.feed_id, e, f) for p in plans for e, f in p.fresh]
        ids: dict[tuple[int, str], int] = {}
        if fresh:
            ids = insert_entries(conn, sql, fresh, now, last_id, index_later=index_later)
            pairs = [(ids[fid, e.key], f) for fid, e, f in fresh]
            write_new_links_and_tags(conn, sql, last_id, pairs)
        results: list[StoreResult] = []
        for p in plans:
            result = StoreResult(new_ids=[ids[p.feed_id, e.key] for e, _ in p.fresh])
            if p.changed:
                self._update_changed(conn, [(i, e) for i, e, _ in p.changed], p.existing)
                result.updated_ids = [i for i, _, _ in p.changed]
                delete_links_and_tags(conn, result.updated_ids)
                write_links_and_tags(conn, sql, [(i, f) for i, _, f in p.changed])
            results.append(result)
        return results

    @staticmethod
    def _update_changed(
        conn: Connection, changed: Sequence[tuple[int, Entry]], existing: dict[str, Existing]
    ) -> None:
        """Rewrite entries the feed edited. An article whose full text was extracted keeps it
        when its link is the same (the page did not move; the feed only reworded its summary,
        which is kept beside it); with a new link, or without full text, the entry takes the
        feed's version and waits for extraction again (``fulltext_status`` pending)."""
        keep: list[dict[str, Any]] = []
        replace: list[dict[str, Any]] = []
        now = datetime.now(UTC)
        for entry_id, e in changed:
            values = {"b_id": entry_id, "changed_at": now, **RefreshWriter._entry_update(e)}
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

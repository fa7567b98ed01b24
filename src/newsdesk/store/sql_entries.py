"""Reading entries: filters, lists, counts, one entry, full-text search, related entries, which
entries enrichment should work on; and the reader's read and starred flags."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, func, literal_column, null, or_, select, table, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from newsdesk.errors import NewsdeskError
from newsdesk.model import Enclosure, StoredEntry
from newsdesk.query import Query
from newsdesk.query import parse as parse_query
from newsdesk.store.engine import write_transaction
from newsdesk.store.protocols.refresh import EntryQuery
from newsdesk.store.query_sql import Plan, matched_rows, matching_statement, plan_query
from newsdesk.store.schema import (
    entity_mentions,
    entries,
    entry_links,
    entry_states,
    entry_tags,
    feeds,
    stories,
)
from newsdesk.store.search import fts5_match, match_expression, search_statement
from newsdesk.store.sql_base import SqlBase
from newsdesk.store.visibility import (
    category_feeds,
    in_category,
    is_read,
    is_starred,
    lens,
    not_hidden,
    read_column,
    sees_feed,
    starred_column,
    state_join,
    upsert_states,
    visible_feeds,
)
from newsdesk.util import chunks

log = logging.getLogger(__name__)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Most matches a search ranks on SQLite (see EntryQueries._rank_window).
RANK_WINDOW = 500
# A person's river on SQLite first walks the newest RIVER_WINDOW entries in publication order
# (see EntryQueries._river_walk), when they see at least 1 feed in WALK_SHARE.
RIVER_WINDOW = 20_000
WALK_SHARE = 200
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
    entries.c.story_id,
    entries.c.fulltext_status,
    entries.c.fulltext_error,
    entries.c.page,
    entries.c.changed_at,
    func.coalesce(feeds.c.title, feeds.c.url).label("feed_title"),
]


def _after(entry_id: int, oldest_first: bool) -> Any:
    """Entries after ``entry_id`` in the river's order (published, then id); none when that
    entry is gone."""
    mark = select(entries.c.published).where(entries.c.id == entry_id).scalar_subquery()
    if oldest_first:
        return or_(
            entries.c.published > mark, and_(entries.c.published == mark, entries.c.id > entry_id)
        )
    return or_(
        entries.c.published < mark, and_(entries.c.published == mark, entries.c.id < entry_id)
    )


class EntryQueries(SqlBase):
    """``SqlStore``'s entry reads and search, as its person sees them (``store.visibility``)."""

    def _entry_columns(self) -> list[Any]:
        person = self.person_id
        states_changed: Any = entry_states.c.changed_at if person is not None else null()
        return [
            *_ENTRY_COLUMNS,
            read_column(person),
            starred_column(person),
            states_changed.label("state_changed_at"),
        ]

    def _entry_filters(self, query: EntryQuery, *, walk: bool = False) -> list[Any]:
        """The conditions of ``query``; with ``walk`` the person's feeds are a plain filter
        (``feed_id + 0``: no index), so SQLite walks the entries in publication order."""
        where: list[Any] = []
        person = self.person_id
        if person is not None:
            feed_id = entries.c.feed_id + 0 if walk else entries.c.feed_id
            if query.category is None:
                where.append(feed_id.in_(visible_feeds(person)))
            else:
                where.append(in_category(person, query.category, feed_id))
            where.append(not_hidden())  # blocked by one of their rules (issue 16)
        elif query.category is not None:
            where.append(entries.c.feed_id.in_(category_feeds(query.category)))
        if query.feed_id is not None:
            where.append(entries.c.feed_id == query.feed_id)
        if query.kind is not None:
            where.append(entries.c.kind == query.kind)
        if query.read is not None:
            where.append(is_read(person, query.read))
        if query.starred is not None:
            where.append(is_starred(person, query.starred))
        if query.since is not None:
            where.append(entries.c.published >= query.since)
        if query.until is not None:
            where.append(entries.c.published < query.until)
        if query.ids is not None:
            where.append(entries.c.id.in_(list(query.ids)))
        if query.after_id is not None:
            where.append(_after(query.after_id, query.oldest_first))
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
        source = entries.join(feeds, feeds.c.id == entries.c.feed_id)
        return source if self.person_id is None else state_join(source, self.person_id)

    def _seen(self, conn: Connection, found: list[StoredEntry]) -> None:
        """Each entry's feed and category as the person names them."""
        if self.person_id is None or not found:
            return
        names = lens(conn, self.person_id, (entry.feed_id for entry in found))
        for entry in found:
            seen = names.get(entry.feed_id)
            if seen is not None:
                entry.feed_title = seen.title or entry.feed_title
                entry.category = seen.category

    def list_entries(self, query: EntryQuery) -> list[StoredEntry]:
        order = (
            (entries.c.published.asc(), entries.c.id.asc())
            if query.oldest_first
            else (entries.c.published.desc(), entries.c.id.desc())
        )
        stmt = (
            select(*self._entry_columns())
            .select_from(self._entries_from())
            .order_by(*order)
            .limit(query.limit)
            .offset(query.offset)
        )
        with self.engine.connect() as conn:
            walked = self._river_walk(conn, query, stmt)
            rows = (
                conn.execute(stmt.where(and_(True, *self._entry_filters(query)))).all()
                if walked is None
                else walked
            )
            found = [self._stored(row) for row in rows]
            self._attach_related(conn, found)
            self._seen(conn, found)
        return found

    def _river_walk(
        self, conn: Connection, query: EntryQuery, stmt: Any
    ) -> Sequence[Row[Any]] | None:
        """A person's river, newest first, from the newest RIVER_WINDOW entries; None when
        they do not fill the page (or the walk does not pay), for the plain query.

        SQLite reads a river of the person's feeds through the index on (feed_id, published):
        every entry of 200 feeds (100,000 of 1,000,000), sorted, for a page of 30 (70 ms).
        Walking the publication index instead finds the page after a few hundred entries
        (0.2 ms) when the person sees a fair share of the feeds; bounded to the newest
        RIVER_WINDOW entries (a few ms) for one who has read nearly everything."""
        plain = (query.feed_id, query.ids, query.tag, query.story_id, query.entity_id)
        person = self.person_id
        if (
            self.dialect != "sqlite"
            or person is None
            or query.oldest_first
            or query.starred
            or any(f is not None for f in plain)
        ):
            return None
        seen = select(func.count()).select_from(visible_feeds(person, query.category).subquery())
        all_feeds = select(func.count()).select_from(feeds)
        found = conn.execute(select(seen.scalar_subquery(), all_feeds.scalar_subquery())).one()
        if found[0] * WALK_SHARE < found[1]:
            return None
        floor = conn.execute(
            select(entries.c.published)
            .order_by(entries.c.published.desc(), entries.c.id.desc())
            .offset(RIVER_WINDOW - 1)
            .limit(1)
        ).scalar()
        where = self._entry_filters(query, walk=True)
        if floor is not None:  # else fewer entries than that: all of them
            where.append(entries.c.published >= floor)
        rows = conn.execute(stmt.where(*where)).all()
        return rows if floor is None or len(rows) == query.limit else None

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
        """Entries matching ``text_query`` (the query language, docs/query.md), best first;
        plain words are ranked as they always were. A query of filters or patterns alone lists
        its entries newest first."""
        parsed = parse_query(text_query)
        if parsed.is_empty:
            return []
        filters = self._entry_filters(query)
        with self.engine.connect() as conn:
            try:
                hits = (
                    self._plain_hits(conn, text_query, query, filters)
                    if parsed.plain
                    else self._query_hits(conn, parsed, query, filters)
                )
            except (OperationalError, ProgrammingError) as exc:
                # The database's own words stay in the log: they describe our SQL, not the
                # user's mistake.
                log.warning("search for %r failed: %s", text_query[:200], exc.orig)
                raise NewsdeskError(
                    f"cannot search for {text_query[:200]!r}: use plain words"
                ) from None
            return self._found(conn, hits)

    def _plain_hits(
        self, conn: Connection, text_query: str, query: EntryQuery, filters: list[Any]
    ) -> list[Any]:
        match = match_expression(self.dialect, text_query)
        if self.dialect == "sqlite":
            match, window = self._sqlite_match(conn, text_query, match, filters)
            filters = filters + window
        stmt = (
            search_statement(self.dialect, match, self._entries_from(), filters)
            .limit(query.limit)
            .offset(query.offset)
        )
        return list(conn.execute(stmt).all())

    def _query_hits(
        self, conn: Connection, parsed: Query, query: EntryQuery, filters: list[Any]
    ) -> list[Any]:
        """(id, snippet) rows of a query in the language: ranked on its words when it has some,
        else newest first."""
        plan = plan_query(conn, parsed, self.person_id)
        filters = filters + plan.where
        if plan.match is None:
            stmt: Any = (
                select(entries.c.id, null().label("snippet"), *plan.columns)
                .select_from(self._entries_from())
                .where(*filters)
                .order_by(entries.c.published.desc(), entries.c.id.desc())
            )
        else:
            if self.dialect == "sqlite":
                filters += self._rank_window(conn, plan.match, filters)
            stmt = search_statement(
                self.dialect, plan.match, self._entries_from(), filters
            ).add_columns(*plan.columns)
        if plan.check is None:
            return list(conn.execute(stmt.limit(query.limit).offset(query.offset)).all())
        rows = matched_rows(conn, stmt, plan.check, query.offset + query.limit)
        return list(rows)[query.offset :]

    def _found(self, conn: Connection, hits: Sequence[Any]) -> list[StoredEntry]:
        """The entries of ``hits`` (rows of id and snippet) in their order."""
        if not hits:
            return []
        rows = conn.execute(
            select(*self._entry_columns())
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
        self._seen(conn, found)
        return found

    def matching_ids(
        self,
        query: Query | str,
        *,
        among: Sequence[int] | None = None,
        limit: int | None = None,
    ) -> list[int]:
        """Ids of the entries this view sees that match ``query`` (docs/query.md), newest
        first; only among ``among`` when given (the entries a refresh just stored), at most
        ``limit``. ``QueryError`` when the query cannot be read."""
        parsed = parse_query(query) if isinstance(query, str) else query
        if parsed.is_empty or (among is not None and not among):
            return []
        with self.engine.connect() as conn:
            if among is None:
                plan = plan_query(conn, parsed, self.person_id)
                stmt = self._matching_statement(plan, None)
                return [r.id for r in matched_rows(conn, stmt, plan.check, limit)]
            found: list[Any] = []
            for chunk in chunks(sorted(set(among))):
                plan = plan_query(conn, parsed, self.person_id, chunk)
                stmt = self._matching_statement(plan, chunk)
                found.extend(matched_rows(conn, stmt, plan.check, limit))
        found.sort(key=lambda r: (r.published, r.id), reverse=True)
        return [r.id for r in found[:limit]]

    def count_matching(self, query: Query | str, within: EntryQuery | None = None) -> int:
        """How many entries this view sees (those of ``within``'s filters when given) match
        ``query``: one count in SQL when the query is all SQL, else the rows that pass its
        check."""
        parsed = parse_query(query) if isinstance(query, str) else query
        if parsed.is_empty:
            return 0
        with self.engine.connect() as conn:
            plan = plan_query(conn, parsed, self.person_id)
            stmt = self._matching_statement(plan, None, within, ordered=False)
            if plan.check is None:
                counted = select(func.count()).select_from(stmt.subquery())
                return int(conn.execute(counted).scalar() or 0)
            return sum(1 for _ in matched_rows(conn, stmt, plan.check, None))

    def _matching_statement(
        self,
        plan: Plan,
        among: Sequence[int] | None,
        within: EntryQuery | None = None,
        *,
        ordered: bool = True,
    ) -> Any:
        """Entries of this view (and ``within``'s filters) meeting ``plan``'s SQL, newest
        first (when ``ordered``), with its columns."""
        where = self._entry_filters(within or EntryQuery())
        source = self._entries_from()
        return matching_statement(plan, self.dialect, source, where, among, ordered=ordered)

    def _sqlite_match(
        self, conn: Connection, text_query: str, match: str, filters: list[Any]
    ) -> tuple[str, list[Any]]:
        """The MATCH expression and rank window of a search on SQLite. The last word is a
        prefix (search as you type), but a word found as typed in more than RANK_WINDOW
        entries is matched as typed: expanding a common word's prefix ("the"*: there, theory
        …) costs hundreds of milliseconds and only adds entries the window leaves out."""
        exact = fts5_match(text_query, prefix=False)
        window = self._rank_window(conn, exact, filters)
        if window:
            return exact, window
        return match, self._rank_window(conn, match, filters)

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
        """Set the person's read or starred state of the entries they see among ``ids``; how
        many there were."""
        now = datetime.now(UTC)
        values: dict[str, Any] = {}
        if read is not None:
            values.update(read=read, read_at=now if read else None)
        if starred is not None:
            values.update(starred=starred, starred_at=now if starred else None)
        if not values or not ids:
            return 0
        person = self.require_person()
        values["changed_at"] = now
        count = 0
        with write_transaction(self.engine) as conn:
            for chunk in chunks(list(ids)):
                seen = conn.execute(
                    select(entries.c.id, entries.c.feed_id).where(
                        entries.c.id.in_(chunk), sees_feed(person)
                    )
                )
                rows = [{"user_id": person, "entry_id": i, "feed_id": f, **values} for i, f in seen]
                if rows:
                    conn.execute(upsert_states(self.dialect, rows[0].keys()), rows)
                count += len(rows)
        return count

    @staticmethod
    def _stored(row: Row[Any]) -> StoredEntry:
        m = row._mapping
        return StoredEntry(
            id=m["id"],
            feed_id=m["feed_id"],
            feed_title=m["feed_title"],
            category=None,  # the person's name for it: filled in by _seen
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
            changed_at=max(
                m["changed_at"] or m["first_seen"], m["first_seen"], m["state_changed_at"] or EPOCH
            ),
        )

    def related_ids(self, conn: Connection, ids: Sequence[int]) -> dict[int, list[int]]:
        """Entries related by URL: one links to the other's canonical URL, or both are the
        same page."""
        related: dict[int, set[int]] = {}
        if not ids:
            return {}
        other = entries.alias("other")
        for chunk in chunks(list(ids)):
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

    def entries_to_enrich(self, ids: Sequence[int], *, fulltext: bool = True) -> list[StoredEntry]:
        """Of ``ids``, the entries enrichment works on: posts that link somewhere, and (with
        ``fulltext``) articles waiting for their full text. Others are not even loaded."""
        wanted = self.ids_to_enrich(ids, fulltext=fulltext)
        found: list[StoredEntry] = []
        system = self.as_system()  # whoever follows them
        for chunk in chunks(wanted):
            found.extend(system.list_entries(EntryQuery(ids=chunk, limit=len(chunk))))
        return found

    def ids_to_enrich(self, ids: Sequence[int], *, fulltext: bool = True) -> list[int]:
        """The ids of ``entries_to_enrich``."""
        wanted: list[int] = []
        with self.engine.connect() as conn:
            for chunk in chunks(list(ids)):
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

    def story_leads(self, story_ids: Sequence[int]) -> dict[int, int | None]:
        """Each story's lead entry (its best article, shown on its card), by story id."""
        found: dict[int, int | None] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(list(dict.fromkeys(story_ids))):
                query = select(stories.c.id, stories.c.lead_entry_id).where(stories.c.id.in_(chunk))
                found.update((int(i), lead) for i, lead in conn.execute(query))
        return found

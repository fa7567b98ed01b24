"""The cleanup of retention (``store.retention``): find what every follower lets go, remove it
in batches, give SQLite's freed pages back.

Each batch is one write transaction that decides again on its own rows (read and starred states
as they are now: SQLite holds the write lock from the start of it) and then, all or nothing:
writes the tombstones (``removed_entries``: the refresh writer skips those keys, so the next
fetch does not bring them back), takes the entries' mentions off their entities' counters,
deletes the entries (their states, labels, filings, tags, links, story keys, signatures,
mentions, events and alerts go by ``ON DELETE CASCADE``; the SQLite search index by its
trigger, PostgreSQL's column with the row), and recounts the stories they were in (their
lead, size and dates; a story left empty is deleted). A crash between two batches leaves the
batches before it done and the others untouched.

The in-memory entry counts of SQLite (``store.feed_totals``) notice a cleanup by the
tombstones' highest rowid, which every batch moves.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, bindparam, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from newsdesk.store.engine import write_transaction
from newsdesk.store.retention_policy import Policy
from newsdesk.store.schema import (
    UTCDateTime,
    entities,
    entity_mentions,
    entries,
    entry_states,
    removed_entries,
    stories,
)
from newsdesk.store.stories import refresh_stories
from newsdesk.util import chunks

# feed id → its followers (user id, effective policy)
Followers = dict[int, list[tuple[int, Policy]]]
# On a database that does not vacuum incrementally, VACUUM when this share of it is free.
VACUUM_FREE_SHARE = 0.2


@dataclass(slots=True)
class SpaceReport:
    """What giving space back did (SQLite): ``incremental`` (PRAGMA incremental_vacuum),
    ``vacuum`` (the whole file rewritten) or ``none``; the file and its WAL before and after."""

    mode: str
    bytes_before: int
    bytes_after: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "bytes_before": self.bytes_before,
            "bytes_after": self.bytes_after,
            "bytes_freed": max(0, self.bytes_before - self.bytes_after),
        }


@dataclass(slots=True)
class RetentionReport:
    """A cleanup's counts (with ``dry_run``, what would go)."""

    dry_run: bool = False
    removed: int = 0
    batches: int = 0
    kept_starred: int = 0  # would have gone, kept because starred or in a starred story
    stories_changed: int = 0
    stories_removed: int = 0
    feeds: dict[int, int] = field(default_factory=dict)  # feed id → entries removed
    space: SpaceReport | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "removed": self.removed,
            "batches": self.batches,
            "kept_starred": self.kept_starred,
            "stories_changed": self.stories_changed,
            "stories_removed": self.stories_removed,
            "feeds": {str(k): v for k, v in sorted(self.feeds.items())},
            "space": self.space.as_dict() if self.space else None,
        }


class Candidate(NamedTuple):
    """An entry beyond the feed's largest ``keep_last`` and old enough for someone to let go."""

    id: int
    feed_id: int
    first_seen: datetime
    story_id: int | None


def candidates(conn: Connection, feed_id: int, policies: Sequence[Policy], now: datetime) -> Any:
    """The feed's entries that every follower might let go (a superset: each is decided in
    its batch): beyond the largest ``keep_last`` (newest first by publication) and older than
    the largest of the followers' youngest ages. None when a follower keeps everything."""
    if not policies or not all(p.limits for p in policies):
        return []
    skip = max(p.keep_last or 0 for p in policies)
    age = max(p.min_age_days() for p in policies)
    ranked = (
        select(entries.c.id, entries.c.first_seen, entries.c.story_id)
        .where(entries.c.feed_id == feed_id)
        .order_by(entries.c.published.desc(), entries.c.id.desc())
        .offset(skip)
    ).subquery()
    query = select(ranked.c.id, ranked.c.first_seen, ranked.c.story_id)
    if age > 0:
        query = query.where(ranked.c.first_seen < now - timedelta(days=age))
    rows = conn.execute(query.order_by(ranked.c.id)).all()
    return [Candidate(int(r[0]), feed_id, r[1], r[2]) for r in rows]


def _states(conn: Connection, ids: Sequence[int]) -> tuple[set[tuple[int, int]], set[int]]:
    """(user id, entry id) of the entries read, and the entries starred by anyone."""
    read: set[tuple[int, int]] = set()
    starred: set[int] = set()
    query = select(
        entry_states.c.entry_id,
        entry_states.c.user_id,
        entry_states.c.read,
        entry_states.c.starred,
    )
    for chunk in chunks(ids):
        for entry_id, user_id, is_read, is_starred in conn.execute(
            query.where(entry_states.c.entry_id.in_(chunk))
        ):
            if is_starred:
                starred.add(int(entry_id))
            if is_read:
                read.add((int(user_id), int(entry_id)))
    return read, starred


def _starred_stories(conn: Connection, story_ids: set[int]) -> set[int]:
    """The stories among ``story_ids`` holding an entry someone starred."""
    found: set[int] = set()
    query = (
        select(entries.c.story_id)
        .distinct()
        .select_from(entries.join(entry_states, entry_states.c.entry_id == entries.c.id))
        .where(entry_states.c.starred.is_(True))
    )
    for chunk in chunks(sorted(story_ids)):
        found.update(int(s) for s in conn.scalars(query.where(entries.c.story_id.in_(chunk))))
    return found


def decide(
    conn: Connection, batch: Sequence[Candidate], followers: Followers, now: datetime
) -> tuple[list[int], int]:
    """The ids of the batch every follower lets go now, and how many were kept for a star."""
    read, starred = _states(conn, [c.id for c in batch])
    protected = _starred_stories(conn, {c.story_id for c in batch if c.story_id is not None})
    going: list[int] = []
    kept = 0
    for c in batch:
        if c.id in starred or c.story_id in protected:
            kept += 1
            continue
        age = (now - c.first_seen).total_seconds() / 86400
        if all(p.lets_go(age, (user, c.id) in read) for user, p in followers[c.feed_id]):
            going.append(c.id)
    return going, kept


def _tombstones(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    moment = literal(now, UTCDateTime())
    for chunk in chunks(ids):
        rows = select(entries.c.feed_id, entries.c.key, moment).where(entries.c.id.in_(chunk))
        conn.execute(
            insert(removed_entries)
            .from_select(["feed_id", "key", "removed_at"], rows)
            .on_conflict_do_nothing()
        )


def _uncount_mentions(conn: Connection, ids: Sequence[int]) -> list[int]:
    """Take the entries' mentions off their entities' counters; the entities touched."""
    deltas: dict[int, tuple[int, int]] = {}
    query = select(
        entity_mentions.c.entity_id, func.sum(entity_mentions.c.count), func.count()
    ).group_by(entity_mentions.c.entity_id)
    for chunk in chunks(ids):
        for entity_id, mentions, entries_ in conn.execute(
            query.where(entity_mentions.c.entry_id.in_(chunk))
        ):
            had = deltas.get(int(entity_id), (0, 0))
            deltas[int(entity_id)] = (had[0] + int(mentions or 0), had[1] + int(entries_))
    if deltas:
        conn.execute(
            update(entities)
            .where(entities.c.id == bindparam("b_id"))
            .values(
                mention_count=entities.c.mention_count - bindparam("b_mentions"),
                entry_count=entities.c.entry_count - bindparam("b_entries"),
            ),
            [{"b_id": k, "b_mentions": m, "b_entries": n} for k, (m, n) in sorted(deltas.items())],
        )
    return sorted(deltas)


def _refresh_seen(conn: Connection, entity_ids: Sequence[int]) -> None:
    """first_seen/last_seen of entities from the mentions left (NULL when none is)."""
    mentions = entity_mentions.c
    first = select(func.min(mentions.published)).where(mentions.entity_id == entities.c.id)
    last = select(func.max(mentions.published)).where(mentions.entity_id == entities.c.id)
    for chunk in chunks(entity_ids):
        conn.execute(
            update(entities)
            .where(entities.c.id.in_(chunk))
            .values(first_seen=first.scalar_subquery(), last_seen=last.scalar_subquery())
        )


def remove_batch(conn: Connection, ids: Sequence[int], now: datetime) -> tuple[int, int]:
    """Remove entries (in the caller's transaction): tombstones, entity counters, the rows
    and what cascades from them, their stories recounted. (stories changed, removed)."""
    if not ids:
        return 0, 0
    _tombstones(conn, ids, now)
    touched = _uncount_mentions(conn, ids)
    story_ids: set[int] = set()
    for chunk in chunks(ids):
        story_ids.update(
            int(s)
            for s in conn.scalars(
                select(entries.c.story_id)
                .distinct()
                .where(entries.c.id.in_(chunk), entries.c.story_id.is_not(None))
            )
        )
        conn.execute(delete(entries).where(entries.c.id.in_(chunk)))
    _refresh_seen(conn, touched)
    refresh_stories(conn, story_ids, now)
    left = 0
    for chunk in chunks(sorted(story_ids)):
        left += int(
            conn.scalar(select(func.count()).select_from(stories).where(stories.c.id.in_(chunk)))
            or 0
        )
    return len(story_ids), len(story_ids) - left


def _batches(engine: Engine, followers: Followers, now: datetime, size: int) -> Iterator[Any]:
    """The candidates of every feed, in batches of at most ``size`` (feeds mixed)."""
    pending: list[Candidate] = []
    for feed_id in sorted(followers):
        policies = [p for _user, p in followers[feed_id]]
        with engine.connect() as conn:
            pending.extend(candidates(conn, feed_id, policies, now))
        while len(pending) >= size:
            yield pending[:size]
            pending = pending[size:]
    if pending:
        yield pending


def remove_entries(
    engine: Engine,
    followers: Followers,
    now: datetime,
    *,
    dry_run: bool,
    batch_size: int,
    on_batch: Callable[[RetentionReport], None] | None,
) -> RetentionReport:
    """Decide and remove batch by batch (see the module's docstring)."""
    report = RetentionReport(dry_run=dry_run)
    for batch in _batches(engine, followers, now, batch_size):
        if dry_run:
            with engine.connect() as conn:
                going, kept = decide(conn, batch, followers, now)
        else:
            with write_transaction(engine) as conn:
                going, kept = decide(conn, batch, followers, now)
                changed, emptied = remove_batch(conn, going, now)
                report.stories_changed += changed
                report.stories_removed += emptied
                report.batches += 1
                report.removed += len(going)
                if on_batch is not None:
                    on_batch(report)  # inside the transaction: a test may kill the process here
        if dry_run:
            report.removed += len(going)
        report.kept_starred += kept
        feed_of = {c.id: c.feed_id for c in batch}
        for entry_id in going:
            report.feeds[feed_of[entry_id]] = report.feeds.get(feed_of[entry_id], 0) + 1
    return report


def _file_bytes(raw: Any) -> int:
    row = raw.execute("PRAGMA database_list").fetchone()
    if row is None or not row[2]:
        return 0
    return sum(os.path.getsize(name) for name in (row[2], row[2] + "-wal") if os.path.exists(name))


def _pragma(raw: Any, name: str) -> int:
    return int(raw.execute(f"PRAGMA {name}").fetchone()[0])


def reclaim_space(engine: Engine, *, full: bool = False) -> SpaceReport | None:
    """SQLite only (PostgreSQL's autovacuum reuses the space): free pages given back to the
    file system. A database made since migration 12 vacuums incrementally (``auto_vacuum =
    INCREMENTAL``, set by the engine before the first table); an older one is rewritten with
    VACUUM when a fifth of it is free (or ``full``), which also makes it incremental from then
    on. The WAL is checkpointed and truncated so that the file really shrinks."""
    if engine.dialect.name != "sqlite":
        return None
    with engine.connect() as conn:
        # the driver's connection, outside any transaction (VACUUM refuses to run in one)
        raw: Any = conn.connection.driver_connection
        before = _file_bytes(raw)
        free, pages = _pragma(raw, "freelist_count"), _pragma(raw, "page_count") or 1
        done = "none"
        if _pragma(raw, "auto_vacuum") == 2 and not full:
            if free:
                # executescript steps the pragma to its end (execute frees one page a step)
                raw.executescript("PRAGMA incremental_vacuum;")
                done = "incremental"
        elif full or free / pages >= VACUUM_FREE_SHARE:
            raw.execute("PRAGMA auto_vacuum = INCREMENTAL")  # VACUUM applies it
            raw.execute("VACUUM")
            done = "vacuum"
        if done != "none":
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        return SpaceReport(done, before, _file_bytes(raw))

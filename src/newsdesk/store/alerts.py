"""The alerts stage's queries (``SqlStore.alerts``): which entries a watchlist's words and
entities find, recording alerts at most once, claiming due alerts for delivery and recording how
it went. What matches and what is sent is decided in ``newsdesk.alerts``; this is only the SQL
(``AlertsStorage`` in ``store.protocols.alerts`` is the interface)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    case,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from newsdesk.query import QueryError
from newsdesk.query import parse as parse_query
from newsdesk.store.engine import write_transaction
from newsdesk.store.protocols.alerts import (
    INTERRUPTED,
    AlertEntryRow,
    AlertOutcome,
    Claim,
    ClaimPlanner,
    EntryFacts,
    NewAlert,
    PendingAlert,
)
from newsdesk.store.query_sql import matched_rows, matching_statement, plan_query
from newsdesk.store.schema import (
    alerts,
    categories,
    entity_mentions,
    entries,
    entry_states,
    feeds,
    subscriptions,
    watchlists,
)
from newsdesk.store.visibility import Lens, lens
from newsdesk.store.watchlists import Watchlist, watchlist_from_row
from newsdesk.util import chunks

log = logging.getLogger(__name__)


def _enabled(conn: Connection) -> list[Watchlist]:
    rows = conn.execute(select(watchlists).where(watchlists.c.enabled.is_(True)))
    return [watchlist_from_row(r) for r in rows]


def _insert_ignoring_duplicates(conn: Connection, rows: list[dict[str, Any]]) -> int:
    inserted = 0
    for chunk in chunks(rows, 400):
        if conn.dialect.name == "postgresql":
            stmt: Any = postgresql.insert(alerts).values(list(chunk)).on_conflict_do_nothing()
        else:
            stmt = sqlite.insert(alerts).values(list(chunk)).on_conflict_do_nothing()
        # RETURNING counts what was inserted (rowcount is not reliable for this everywhere).
        inserted += len(conn.execute(stmt.returning(alerts.c.id)).all())
    return inserted


def _name(seen: Lens | None, own: str | None) -> str | None:
    return (seen.title if seen is not None else None) or own


class AlertStore:
    """The part ``SqlStore.alerts``: the ``AlertsStorage`` protocol on SQLAlchemy Core."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- matching -------------------------------------------------------------------------------

    def enabled_watchlists(self) -> list[Watchlist]:
        """Read without a write lock: no watchlist (the usual case) costs one SELECT."""
        with self._engine.connect() as conn:
            return _enabled(conn)

    def entry_facts(self, entry_ids: Sequence[int]) -> dict[int, EntryFacts]:
        """Feed and first-seen time of each entry that exists."""
        found: dict[int, EntryFacts] = {}
        with self._engine.connect() as conn:
            for chunk in chunks(sorted(set(entry_ids))):
                rows = conn.execute(
                    select(entries.c.id, entries.c.feed_id, entries.c.first_seen).where(
                        entries.c.id.in_(list(chunk))
                    )
                )
                for entry_id, feed_id, first_seen in rows:
                    found[int(entry_id)] = EntryFacts(int(feed_id), first_seen)
        return found

    def feeds_seen(
        self, person_id: int | None, feed_ids: Sequence[int]
    ) -> dict[int, frozenset[str]]:
        """Of ``feed_ids``, those the person sees, with their category titles for them (the
        system: every feed, in every category anyone files it under)."""
        wanted = sorted(set(feed_ids))
        if not wanted:
            return {}
        with self._engine.connect() as conn:
            if person_id is not None:
                seen = lens(conn, person_id)
                return {
                    f: frozenset(c for c in (seen[f].category,) if c) for f in wanted if f in seen
                }
            found: dict[int, set[str]] = {
                int(f): set()
                for f in conn.execute(select(feeds.c.id).where(feeds.c.id.in_(wanted))).scalars()
            }
            rows = conn.execute(
                select(subscriptions.c.feed_id, categories.c.title)
                .select_from(
                    subscriptions.join(categories, categories.c.id == subscriptions.c.category_id)
                )
                .where(subscriptions.c.feed_id.in_(wanted))
            )
            for feed_id, title in rows:
                found.setdefault(int(feed_id), set()).add(str(title))
        return {f: frozenset(titles) for f, titles in found.items()}

    def blocked(self, person_id: int | None, entry_ids: Sequence[int]) -> set[int]:
        """Of ``entry_ids``, those the person's rules blocked (issue 16): no alert for them."""
        found: set[int] = set()
        if person_id is None or not entry_ids:
            return found
        with self._engine.connect() as conn:
            for chunk in chunks(sorted(set(entry_ids))):
                found.update(
                    int(i)
                    for i in conn.execute(
                        select(entry_states.c.entry_id).where(
                            entry_states.c.user_id == person_id,
                            entry_states.c.hidden.is_(True),
                            entry_states.c.entry_id.in_(chunk),
                        )
                    ).scalars()
                )
        return found

    def entries_mentioning(self, entity_ids: Sequence[int], entry_ids: Sequence[int]) -> set[int]:
        """Ids among ``entry_ids`` that mention any of ``entity_ids``."""
        found: set[int] = set()
        if not entity_ids:
            return found
        with self._engine.connect() as conn:
            for chunk in chunks(list(entry_ids)):
                rows = conn.execute(
                    select(entity_mentions.c.entry_id)
                    .where(entity_mentions.c.entity_id.in_(list(entity_ids)))
                    .where(entity_mentions.c.entry_id.in_(list(chunk)))
                )
                found.update(int(i) for i in rows.scalars())
        return found

    def entries_matching(
        self, query: str, entry_ids: Sequence[int], person_id: int | None = None
    ) -> set[int]:
        """Ids among ``entry_ids`` that ``query`` (the query language, docs/query.md) matches,
        as ``person_id`` sees labels and categories (no ranking, only membership). A query
        saved before the language could read it matches nothing (logged), rather than stop
        the alerts of everyone else."""
        found: set[int] = set()
        if not entry_ids:
            return found
        try:
            parsed = parse_query(query)
        except QueryError as exc:
            log.warning("watchlist query %r cannot be read: %s", query[:200], exc)
            return found
        if parsed.is_empty:
            return found
        dialect = self._engine.dialect.name
        with self._engine.connect() as conn:
            for chunk in chunks(sorted(set(entry_ids))):
                plan = plan_query(conn, parsed, person_id, chunk)
                stmt = matching_statement(plan, dialect, entries, [], chunk, ordered=False)
                found.update(int(r.id) for r in matched_rows(conn, stmt, plan.check, None))
        return found

    def record_alerts(self, alerts_: Sequence[NewAlert], now: datetime) -> int:
        """Store each as a pending alert, unless it is already there (``uq_alerts_once``) or its
        watchlist was deleted or disabled meanwhile; returns the rows created."""
        if not alerts_:
            return 0
        with write_transaction(self._engine) as conn:
            wanted = sorted({a.watchlist_id for a in alerts_})
            alive = set(
                conn.execute(
                    select(watchlists.c.id).where(
                        watchlists.c.id.in_(wanted), watchlists.c.enabled.is_(True)
                    )
                ).scalars()
            )
            rows = [
                {
                    "watchlist_id": a.watchlist_id,
                    "entry_id": a.entry_id,
                    "channel": a.channel,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                }
                for a in alerts_
                if a.watchlist_id in alive
            ]
            return _insert_ignoring_duplicates(conn, rows) if rows else 0

    # -- delivery -------------------------------------------------------------------------------

    def claim_alerts(
        self, now: datetime, *, stale_before: datetime, limit: int, plan: ClaimPlanner
    ) -> Claim:
        """In one transaction: fail the alerts left "sending" since before ``stale_before``,
        let ``plan`` choose among the (at most ``limit``) pending alerts of enabled watchlists,
        fail its orphans, claim (pending → sending) what it sends, and start a new digest period
        for its digests that got an alert. Only alerts this UPDATE changed are returned."""
        with self._engine.connect() as conn:  # the usual case, nothing to do, takes no write lock
            waiting = conn.execute(
                select(alerts.c.id).where(alerts.c.status.in_(("pending", "sending"))).limit(1)
            ).first()
        claim = Claim()
        if waiting is None:
            return claim
        with write_transaction(self._engine) as conn:
            stale = conn.execute(
                update(alerts)
                .where(alerts.c.status == "sending", alerts.c.sent_at < stale_before)
                .values(status="failed", error=INTERRUPTED, sent_at=None)
            ).rowcount
            claim.stale = max(0, stale or 0)
            claim.watchlists = {w.id: w for w in _enabled(conn)}
            if not claim.watchlists:
                return claim
            pending = [
                PendingAlert(int(r.id), int(r.watchlist_id), int(r.entry_id), r.channel, r.attempts)
                for r in conn.execute(
                    select(
                        alerts.c.id,
                        alerts.c.watchlist_id,
                        alerts.c.entry_id,
                        alerts.c.channel,
                        alerts.c.attempts,
                    )
                    .where(
                        alerts.c.status == "pending",
                        alerts.c.watchlist_id.in_(list(claim.watchlists)),
                    )
                    .order_by(alerts.c.id)
                    .limit(limit)
                )
            ]
            chosen = plan(claim.watchlists, pending)
            if chosen.orphans:
                conn.execute(
                    update(alerts)
                    .where(alerts.c.id.in_(chosen.orphans), alerts.c.status == "pending")
                    .values(status="failed", error="the watchlist no longer has this channel")
                )
                claim.orphans = len(chosen.orphans)
            claimed: set[int] = set()
            for chunk in chunks(chosen.send):
                result = conn.execute(
                    update(alerts)
                    .where(alerts.c.id.in_(list(chunk)), alerts.c.status == "pending")
                    .values(status="sending", sent_at=now)
                    .returning(alerts.c.id)
                )
                claimed.update(int(i) for i in result.scalars())
            by_id = {a.id: a for a in pending}
            claim.alerts = [by_id[i] for i in chosen.send if i in claimed]
            digested = chosen.digests & {a.watchlist_id for a in claim.alerts}
            if digested:
                conn.execute(
                    update(watchlists)
                    .where(watchlists.c.id.in_(sorted(digested)))
                    .values(last_digest_at=now)
                )
        return claim

    def alert_entries(
        self, entry_ids: Iterable[int], person_id: int | None = None
    ) -> list[AlertEntryRow]:
        """The entries as a message shows them (those that still exist), in no set order; the
        feed by the person's name for it."""
        ids = sorted(set(entry_ids))
        found: list[AlertEntryRow] = []
        with self._engine.connect() as conn:
            names = {} if person_id is None else lens(conn, person_id)
            for chunk in chunks(ids):
                rows = conn.execute(
                    select(
                        entries.c.id,
                        entries.c.title,
                        entries.c.url,
                        entries.c.published,
                        entries.c.story_id,
                        entries.c.content_text,
                        entries.c.feed_id,
                        func.coalesce(feeds.c.title, feeds.c.url).label("feed"),
                    )
                    .select_from(entries.join(feeds, feeds.c.id == entries.c.feed_id))
                    .where(entries.c.id.in_(list(chunk)))
                )
                found.extend(
                    AlertEntryRow(
                        id=int(r.id),
                        title=r.title,
                        url=r.url,
                        feed=_name(names.get(int(r.feed_id)), r.feed),
                        published=r.published,
                        story_id=r.story_id,
                        text=r.content_text or "",
                    )
                    for r in rows
                )
        return found

    def record_outcomes(
        self, outcomes: Sequence[AlertOutcome], now: datetime, *, attempts: int
    ) -> None:
        """In one transaction; only alerts still "sending" change. An error counts an attempt
        and makes the alert "failed" once ``attempts`` are used up, else "pending" again."""
        with write_transaction(self._engine) as conn:
            for outcome in outcomes:
                for chunk in chunks(list(outcome.alert_ids)):
                    where = (alerts.c.id.in_(list(chunk)), alerts.c.status == "sending")
                    if outcome.result == "untried":
                        values: dict[str, Any] = {"status": "pending", "sent_at": None}
                    elif outcome.result == "sent":
                        values = {
                            "status": "sent",
                            "sent_at": now,
                            "error": None,
                            "attempts": alerts.c.attempts + 1,
                        }
                    else:
                        values = {
                            "attempts": alerts.c.attempts + 1,
                            "error": (outcome.error or "")[:2000],
                            "sent_at": None,
                            "status": case(
                                (alerts.c.attempts + 1 >= attempts, "failed"), else_="pending"
                            ),
                        }
                    conn.execute(update(alerts).where(*where).values(**values))

"""Who may refresh which feed right now, for distributed mode: leases on feed rows and the
claiming of due feeds by the beat job: ``LeaseStore``, the store's ``leases`` part.

A lease is one conditional UPDATE — taken only when the feed is free or its lease has run out —
so two workers handed the same feed at once cannot both refresh it; a worker that dies keeps
its lease only until ``lease_until``. The unique ``(feed_id, key)`` constraint on entries stays
the last line of defence.

Claiming pushes ``next_check`` of the feeds handed to the queue a little into the future, so a
beat that ticks again before the workers are done does not enqueue them twice; if the task is
lost, the feed simply becomes due again when that hold runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, func, or_, select, update

from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import feeds
from newsdesk.util import chunks


def _free(now: datetime, owner: str | None = None) -> object:
    free = or_(feeds.c.lease_until.is_(None), feeds.c.lease_until < now)
    return or_(free, feeds.c.lease_owner == owner) if owner else free


@dataclass(frozen=True, slots=True)
class FeedCounts:
    """Where the feeds stand, for `newsdesk queue` and the status page."""

    total: int
    due: int
    leased: int
    paused: int
    failing: int
    next_check: datetime | None


class LeaseStore:
    """Feed leases and the claiming of due feeds (``store.leases``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def acquire_leases(
        self, feed_ids: Sequence[int], owner: str, now: datetime, seconds: float
    ) -> list[int]:
        """Lease the free feeds among ``feed_ids`` to ``owner`` until ``now + seconds``; return the
        ids leased (feeds leased to someone else, or gone, are left out). The same owner may renew
        its own lease."""
        until = now + timedelta(seconds=seconds)
        leased: list[int] = []
        with write_transaction(self.engine) as conn:
            for part in chunks(feed_ids):
                chunk = list(part)
                rows = conn.execute(
                    update(feeds)
                    .where(feeds.c.id.in_(chunk), _free(now, owner))  # type: ignore[arg-type]
                    .values(lease_until=until, lease_owner=owner[:200])
                    .returning(feeds.c.id)
                )
                leased.extend(int(r[0]) for r in rows)
        return sorted(leased)

    def release_leases(self, feed_ids: Sequence[int], owner: str) -> int:
        """Give back ``owner``'s leases on ``feed_ids``; return how many were released."""
        released = 0
        with write_transaction(self.engine) as conn:
            for part in chunks(feed_ids):
                chunk = list(part)
                released += conn.execute(
                    update(feeds)
                    .where(feeds.c.id.in_(chunk), feeds.c.lease_owner == owner[:200])
                    .values(lease_until=None, lease_owner=None)
                ).rowcount
        return released

    def claim_due_feeds(self, now: datetime, limit: int, hold_seconds: float) -> list[int]:
        """Up to ``limit`` due feeds (not paused, not leased), oldest due first; their next check is
        moved to ``now + hold_seconds`` so they are not claimed again while queued."""
        hold = now + timedelta(seconds=hold_seconds)
        due = and_(
            feeds.c.paused.is_(False),
            or_(feeds.c.next_check.is_(None), feeds.c.next_check <= now),
            _free(now),  # type: ignore[arg-type]
        )
        with write_transaction(self.engine) as conn:
            pick = (
                select(feeds.c.id)
                .where(due)
                .order_by(feeds.c.next_check.is_not(None), feeds.c.next_check, feeds.c.id)
                .limit(limit)
            )
            if conn.dialect.name == "postgresql":
                # Two beats (or a beat and a manual enqueue) never claim the same rows.
                pick = pick.with_for_update(skip_locked=True)
            ids = [int(r[0]) for r in conn.execute(pick)]
            if not ids:
                return []
            rows = conn.execute(
                update(feeds)
                .where(feeds.c.id.in_(ids), due)
                .values(next_check=hold)
                .returning(feeds.c.id)
            )
            return sorted(int(r[0]) for r in rows)

    def feed_counts(self, now: datetime) -> FeedCounts:
        active = feeds.c.paused.is_(False)
        query = select(
            func.count(),
            func.count().filter(
                and_(active, or_(feeds.c.next_check.is_(None), feeds.c.next_check <= now))
            ),
            func.count().filter(feeds.c.lease_until >= now),
            func.count().filter(feeds.c.paused.is_(True)),
            func.count().filter(and_(active, feeds.c.error_count > 0)),
            func.min(feeds.c.next_check).filter(active),
        ).select_from(feeds)
        with self.engine.connect() as conn:
            row = conn.execute(query).one()
        return FeedCounts(
            total=int(row[0]),
            due=int(row[1]),
            leased=int(row[2]),
            paused=int(row[3]),
            failing=int(row[4]),
            next_check=row[5] if isinstance(row[5], datetime) or row[5] is None else None,
        )

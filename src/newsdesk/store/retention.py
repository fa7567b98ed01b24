"""Retention (issue 16): how long entries are kept, per person and per feed, and the cleanup
that removes what nobody keeps any more (``store.retention``).

A policy is a JSON object ``{"keep_days": N, "keep_read_days": N, "keep_last": M}``, every key
optional, each a positive whole number or null (no such limit):

- ``keep_days``: an entry is kept N days after it was first seen;
- ``keep_read_days``: an entry the person has read is kept N days (instead of ``keep_days``);
- ``keep_last``: the feed's newest M entries (by publication) are kept.

An entry goes when every limit that applies to it lets it go; a policy with no limit keeps
everything (the default). A person's default is ``users.retention``; their policy for one
feed (``subscriptions.retention``) holds only the keys they set for that feed, each replacing
the default's (``{"keep_last": 50}`` keeps the default's days and adds a count; ``{"keep_days":
null}`` lifts the default's days for that feed).

A feed is shared by its followers (their subscriptions): an entry goes only when every
follower's policy lets it go; a feed with one follower that keeps everything keeps everything.
An entry starred by anyone, and every entry of a story holding a starred entry, is never
removed. The removal itself is ``store.retention_removal``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select, update

from newsdesk.errors import FeedNotFoundError, NewsdeskError
from newsdesk.store.engine import write_transaction
from newsdesk.store.retention_policy import (
    FIELDS,
    Policy,
    RetentionError,
    check_policy,
    describe,
)
from newsdesk.store.retention_removal import (
    Followers,
    RetentionReport,
    SpaceReport,
    reclaim_space,
    remove_entries,
)
from newsdesk.store.schema import subscriptions, users

__all__ = [
    "FIELDS",
    "Policy",
    "RetentionError",
    "RetentionReport",
    "RetentionStore",
    "SpaceReport",
    "check_policy",
    "describe",
]


class RetentionStore:
    """``store.retention``: the person's policies (default and per feed), and the cleanup
    (``apply``), which works on every feed whoever asks: the Desk lets the system and admins
    run it."""

    def __init__(self, engine: Engine, person_id: int | None) -> None:
        self.engine = engine
        self.person_id = person_id

    def _person(self) -> int:
        if self.person_id is None:
            raise NewsdeskError("retention policies belong to a person: name one (--user)")
        return self.person_id

    def default(self) -> dict[str, int | None]:
        """The person's default policy (the keys set; empty: keep everything)."""
        with self.engine.connect() as conn:
            stored = conn.execute(
                select(users.c.retention).where(users.c.id == self._person())
            ).scalar()
        return check_policy(stored or {})

    def set_default(self, policy: Mapping[str, Any] | None) -> dict[str, int | None]:
        """Replace the person's default (None or empty: keep everything)."""
        checked = check_policy(policy or {})
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(users).where(users.c.id == self._person()).values(retention=checked or None)
            )
        return checked

    def _own(self, conn: Any, feed_id: int) -> Any:
        row = conn.execute(
            select(subscriptions.c.id, subscriptions.c.retention).where(
                subscriptions.c.user_id == self._person(), subscriptions.c.feed_id == feed_id
            )
        ).first()
        if row is None:
            # a feed seen through a shared category follows its owner's policy
            raise FeedNotFoundError(f"you do not follow feed {feed_id}: no retention to set")
        return row

    def feed(self, feed_id: int) -> dict[str, int | None]:
        """The person's own keys for one feed they follow (empty: their default)."""
        with self.engine.connect() as conn:
            return check_policy(self._own(conn, feed_id).retention or {})

    def set_feed(self, feed_id: int, policy: Mapping[str, Any] | None) -> dict[str, int | None]:
        """Replace the person's keys for one feed (None or empty: back to their default)."""
        checked = check_policy(policy or {})
        with write_transaction(self.engine) as conn:
            row = self._own(conn, feed_id)
            conn.execute(
                update(subscriptions)
                .where(subscriptions.c.id == row.id)
                .values(retention=checked or None)
            )
        return checked

    def feeds(self) -> dict[int, dict[str, int | None]]:
        """The person's feeds that have keys of their own."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(subscriptions.c.feed_id, subscriptions.c.retention)
                .where(
                    subscriptions.c.user_id == self._person(),
                    subscriptions.c.retention.is_not(None),
                )
                .order_by(subscriptions.c.feed_id)
            ).all()
        found = {int(r[0]): check_policy(r[1] or {}) for r in rows}
        return {feed_id: policy for feed_id, policy in found.items() if policy}

    def effective(self, feed_id: int) -> Policy:
        """The person's policy for a feed they follow, default and feed keys merged."""
        return Policy.of(self.default(), self.feed(feed_id))

    def followers(self, keep_days: int | None = None) -> Followers:
        """Every followed feed's followers and their effective policies (``keep_days``, when
        given, replacing everyone's)."""
        query = select(
            subscriptions.c.feed_id,
            subscriptions.c.user_id,
            users.c.retention,
            subscriptions.c.retention,
        ).join(users, users.c.id == subscriptions.c.user_id)
        found: Followers = {}
        with self.engine.connect() as conn:
            for feed_id, user_id, default, own in conn.execute(query):
                policy = Policy.of(default, own).with_keep_days(keep_days)
                found.setdefault(int(feed_id), []).append((int(user_id), policy))
        return found

    def apply(
        self,
        *,
        keep_days: int | None = None,
        dry_run: bool = False,
        now: datetime | None = None,
        batch_size: int = 500,
        on_batch: Callable[[RetentionReport], None] | None = None,
        reclaim: bool = True,
    ) -> RetentionReport:
        """Remove what every follower's policy lets go (``keep_days`` replacing everyone's
        ``keep_days`` for this run), in batches of ``batch_size`` entries, each one transaction
        with its tombstones and the stories and entities it touches; ``on_batch`` is called
        inside each batch's transaction, before it commits. ``dry_run`` counts only. Then, on
        SQLite, the freed pages are given back to the file system (``reclaim``)."""
        if keep_days is not None:
            check_policy({"keep_days": keep_days})
        moment = now or datetime.now(UTC)
        report = remove_entries(
            self.engine,
            self.followers(keep_days),
            moment,
            dry_run=dry_run,
            batch_size=max(1, batch_size),
            on_batch=on_batch,
        )
        if reclaim and report.removed and not dry_run:
            report.space = reclaim_space(self.engine)
        return report

    def reclaim_space(self, *, full: bool = False) -> SpaceReport | None:
        """SQLite: give free pages back (``PRAGMA incremental_vacuum``, or VACUUM when the file
        does not vacuum incrementally and enough of it is free, or ``full``)."""
        return reclaim_space(self.engine, full=full)

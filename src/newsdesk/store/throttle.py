"""The failed-login budget: how many password (or Fever key) attempts a client address and an
account may still make, kept in the database so every process of a deployment (several
``serve`` processes, workers behind one proxy) shares one budget.

An attempt is *reserved* before the password is checked: one write transaction reads the
budgets of all the keys it concerns (``address:…`` and ``account:…``), refuses if any is
blocked, else counts the attempt as a failure at once. A good password then clears the
budgets; a wrong one has nothing more to do. So twenty attempts sent at the same moment are
twenty reservations, serialized by the database, and only the first ``attempts`` are checked.

Past the limit each further failure doubles the wait (``base_delay``, twice that, … up to
``max_delay``); a budget left alone for ``window`` after its last failure (or the end of its
wait) starts afresh. ``ThrottleStore`` is the store's ``throttle`` part; its methods take an
explicit ``now`` (UTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)

from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import UTCDateTime

# A metadata of its own: the table is made by migration 6 and touched only here.
_meta = MetaData()
login_throttle = Table(
    "login_throttle",
    _meta,
    Column("key", String(200), primary_key=True),  # "address:…" or "account:…"
    Column("failures", Integer, nullable=False),
    Column("last_at", UTCDateTime, nullable=False),
    Column("blocked_until", UTCDateTime),
    Index("ix_login_throttle_last_at", "last_at"),
)


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    attempts: int
    window: timedelta = timedelta(minutes=15)
    base_delay: timedelta = timedelta(minutes=15)
    max_delay: timedelta = timedelta(hours=1)

    def delay(self, failures: int) -> timedelta:
        """The wait after ``failures`` failures (``attempts`` or more)."""
        doublings = min(max(failures - self.attempts, 0), 20)
        grown: timedelta = self.base_delay * (2**doublings)
        return min(grown, self.max_delay)


def create_throttle_table(conn: Connection) -> None:
    _meta.create_all(conn)


def _now() -> datetime:
    return datetime.now(UTC)


def _fresh(row: object | None, policy: ThrottlePolicy, now: datetime) -> bool:
    """True when the stored budget has run its course and starts again from zero."""
    if row is None:
        return True
    m = row._mapping  # type: ignore[attr-defined]
    quiet_since = max(m["last_at"], m["blocked_until"] or m["last_at"])
    return bool(now >= quiet_since + policy.window)


def _wait(row: object | None, policy: ThrottlePolicy, now: datetime) -> int:
    if row is None or _fresh(row, policy, now):
        return 0
    until = row._mapping["blocked_until"]  # type: ignore[attr-defined]
    if until is None or until <= now:
        return 0
    return max(1, int((until - now).total_seconds() + 0.999))


def _rows(conn: Connection, keys: Sequence[str]) -> dict[str, object]:
    query = select(login_throttle).where(login_throttle.c.key.in_(list(keys)))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()  # SQLite's BEGIN IMMEDIATE already serializes writers
    return {str(r._mapping["key"]): r for r in conn.execute(query)}


def _charge(
    conn: Connection, key: str, row: object | None, policy: ThrottlePolicy, now: datetime
) -> None:
    failures = 1 if _fresh(row, policy, now) else int(row._mapping["failures"]) + 1  # type: ignore[union-attr]
    until = now + policy.delay(failures) if failures >= policy.attempts else None
    values = {"failures": failures, "last_at": now, "blocked_until": until}
    if row is None:
        conn.execute(insert(login_throttle).values(key=key, **values))
    else:
        conn.execute(update(login_throttle).where(login_throttle.c.key == key).values(**values))


def _lock_keys(conn: Connection, keys: Sequence[str], now: datetime) -> None:
    """On PostgreSQL, make sure every key has a row to lock, so two first attempts at once
    cannot both see "no row"."""
    if conn.dialect.name != "postgresql":
        return
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    rows = [{"key": k, "failures": 0, "last_at": now - timedelta(days=1)} for k in keys]
    conn.execute(pg_insert(login_throttle).values(rows).on_conflict_do_nothing())


def _forget_old(conn: Connection, policy: ThrottlePolicy, now: datetime) -> None:
    # Budgets untouched for longer than any wait plus the window are back to full anyway:
    # dropping them keeps the table as small as the set of recent guessers.
    cutoff = now - policy.max_delay - policy.window
    conn.execute(delete(login_throttle).where(login_throttle.c.last_at < cutoff))


class ThrottleStore:
    """The failed-login budgets (``store.throttle``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def reserve_attempt(
        self,
        keys: Sequence[str],
        policy: ThrottlePolicy,
        now: datetime | None = None,
    ) -> int:
        """Count one attempt against every key; 0 when it may go ahead, else the seconds to wait
        (and nothing is counted)."""
        now = now or _now()
        keys = sorted(set(keys))
        with write_transaction(self.engine) as conn:
            _lock_keys(conn, keys, now)
            rows = _rows(conn, keys)
            wait = max((_wait(rows.get(k), policy, now) for k in keys), default=0)
            if wait:
                return wait
            for key in keys:
                _charge(conn, key, rows.get(key), policy, now)
            _forget_old(conn, policy, now)
        return 0

    def record_failure(
        self, keys: Sequence[str], policy: ThrottlePolicy, now: datetime | None = None
    ) -> None:
        """Count a failure after the fact (API keys: random, so guessing one is hopeless and the
        check need not be reserved ahead)."""
        now = now or _now()
        keys = sorted(set(keys))
        with write_transaction(self.engine) as conn:
            _lock_keys(conn, keys, now)
            rows = _rows(conn, keys)
            for key in keys:
                _charge(conn, key, rows.get(key), policy, now)

    def wait_for(
        self, keys: Sequence[str], policy: ThrottlePolicy, now: datetime | None = None
    ) -> int:
        """Seconds until the keys may try again (0: now), without counting anything."""
        now = now or _now()
        with self.engine.connect() as conn:
            rows = conn.execute(select(login_throttle).where(login_throttle.c.key.in_(list(keys))))
            return max((_wait(r, policy, now) for r in rows), default=0)

    def clear_attempts(self, keys: Sequence[str]) -> None:
        """A good password: the keys start again with their whole budget."""
        with write_transaction(self.engine) as conn:
            conn.execute(delete(login_throttle).where(login_throttle.c.key.in_(list(keys))))

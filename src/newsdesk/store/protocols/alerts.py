"""What the alerts stage (``newsdesk.alerts``) needs of the store, and the plain data it exchanges.

``SqlStore.alerts`` (``newsdesk.store.alerts.AlertStore``) implements it on the database; the
tests' ``MemoryAlerts`` implements it on dicts. Nothing here imports SQLAlchemy."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from newsdesk.store.watchlists import Watchlist

# The error of an alert left "sending" longer than any send could take (a run killed mid-send).
INTERRUPTED = "interrupted while sending; not tried again, so it is never sent twice"


@dataclass(frozen=True, slots=True)
class EntryFacts:
    """What matching a watchlist needs to know about an entry besides its words and entities
    (its feed's categories are the watchlist owner's: ``feeds_seen``)."""

    feed_id: int
    first_seen: datetime


@dataclass(frozen=True, slots=True)
class NewAlert:
    """An alert to record: one per (watchlist, entry, channel), at most once."""

    watchlist_id: int
    entry_id: int
    channel: str


@dataclass(frozen=True, slots=True)
class PendingAlert:
    id: int
    watchlist_id: int
    entry_id: int
    channel: str
    attempts: int  # failed sends so far


@dataclass(slots=True)
class ClaimPlan:
    """What a delivery run takes among the pending alerts (decided by ``alerts.deliver``)."""

    send: list[int] = field(default_factory=list)  # alert ids to claim ("sending")
    orphans: list[int] = field(default_factory=list)  # alert ids to fail: channel removed
    digests: set[int] = field(default_factory=set)  # watchlists whose digest goes out now


@dataclass(slots=True)
class Claim:
    """What ``claim_alerts`` did: the alerts this run claimed, and what it gave up."""

    stale: int = 0  # "sending" too long (a run killed mid-send): now "failed"
    orphans: int = 0  # failed because their channel is gone
    watchlists: dict[int, Watchlist] = field(default_factory=dict)  # the enabled ones
    alerts: list[PendingAlert] = field(default_factory=list)  # claimed, in plan order


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    """How sending some claimed alerts went: ``untried`` (back to pending, no attempt counted),
    ``sent``, or ``error`` (one more attempt; failed once ``attempts`` are used up)."""

    alert_ids: Sequence[int]
    result: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class AlertEntryRow:
    """An entry as an alert message shows it."""

    id: int
    title: str | None
    url: str | None
    feed: str | None
    published: datetime
    story_id: int | None
    text: str


ClaimPlanner = Callable[[Mapping[int, "Watchlist"], Sequence[PendingAlert]], ClaimPlan]


class AlertsStorage(Protocol):
    """What the alerts stage (``newsdesk.alerts``) needs: ``SqlStore.alerts`` or a fake."""

    # matching
    def enabled_watchlists(self) -> list[Watchlist]: ...
    def entry_facts(self, entry_ids: Sequence[int]) -> dict[int, EntryFacts]: ...
    def feeds_seen(
        self, person_id: int | None, feed_ids: Sequence[int]
    ) -> dict[int, frozenset[str]]:
        """Of ``feed_ids``, those the person sees (a watchlist's owner: their subscriptions
        and the categories shared with them; None: every feed), each with the titles of the
        categories it is in for them."""
        ...

    def blocked(self, person_id: int | None, entry_ids: Sequence[int]) -> set[int]:
        """Of ``entry_ids``, those the person's rules blocked: no alert for them."""
        ...

    def entries_mentioning(
        self, entity_ids: Sequence[int], entry_ids: Sequence[int]
    ) -> set[int]: ...
    def entries_matching(
        self, query: str, entry_ids: Sequence[int], person_id: int | None = None
    ) -> set[int]: ...
    def record_alerts(self, alerts: Sequence[NewAlert], now: datetime) -> int: ...

    # delivery
    def claim_alerts(
        self, now: datetime, *, stale_before: datetime, limit: int, plan: ClaimPlanner
    ) -> Claim: ...
    def alert_entries(
        self, entry_ids: Iterable[int], person_id: int | None = None
    ) -> list[AlertEntryRow]:
        """The entries as a message to ``person_id`` (the watchlist's owner) names them."""
        ...

    def record_outcomes(
        self, outcomes: Sequence[AlertOutcome], now: datetime, *, attempts: int
    ) -> None: ...

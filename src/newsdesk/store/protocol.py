"""The storage interface the rest of Newsdesk talks to.

Threading: a store may be used from several threads; each call runs in its own transaction
(writes are atomic per call). Lifecycle: open with ``newsdesk.store.open_store(url)``, which
applies migrations, and ``close()`` at the end. All datetimes going in and out are aware UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from newsdesk.model import Entry, Feed, PageText, StoredEntry

if TYPE_CHECKING:
    from newsdesk.store.watchlists import Watchlist


@dataclass(slots=True)
class EntryQuery:
    category: str | None = None
    feed_id: int | None = None
    tag: str | None = None
    kind: str | None = None
    read: bool | None = None
    starred: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    ids: Sequence[int] | None = None
    story_id: int | None = None
    entity_id: int | None = None
    limit: int = 50
    offset: int = 0
    oldest_first: bool = False


@dataclass(slots=True)
class FeedState:
    """What one refresh learned about a feed, written with its entries in one transaction."""

    last_fetched: datetime
    last_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    title: str | None = None
    site_url: str | None = None
    problems: list[str] = field(default_factory=list)
    ttl_minutes: int | None = None
    next_check: datetime | None = None
    new_url: str | None = None
    paused_reason: str | None = None
    pending_url: str | None = None
    pending_count: int = 0
    entries_per_day: float | None = None


@dataclass(slots=True)
class StoreResult:
    new_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    error: str | None = None


class Storage(Protocol):
    dialect: str

    def close(self) -> None: ...

    # feeds and categories
    def add_feed(
        self, url: str, *, title: str | None = None, category: str | None = None
    ) -> Feed: ...
    def add_feeds(self, wanted: Sequence[tuple[str, str | None, str | None]]) -> list[int]: ...
    def get_feed(self, ref: int | str) -> Feed: ...
    def list_feeds(self, ids: Iterable[int] | None = None) -> list[Feed]: ...
    def update_feed(self, feed_id: int, **changes: Any) -> Feed: ...
    def remove_feed(self, feed_id: int) -> None: ...
    def due_feeds(self, now: datetime, limit: int | None = None) -> list[Feed]: ...
    def categories(self) -> list[tuple[int, str, int]]: ...

    # refresh
    def save_refresh(
        self, feed_id: int, state: FeedState, entries: Sequence[Entry], now: datetime
    ) -> StoreResult: ...
    def save_refresh_batch(
        self, batch: Sequence[tuple[int, FeedState, Sequence[Entry]]], now: datetime
    ) -> list[StoreResult]: ...
    def save_fetch_states(self, states: Sequence[tuple[int, FeedState]]) -> None: ...

    # entries
    def list_entries(self, query: EntryQuery) -> list[StoredEntry]: ...
    def count_entries(self, query: EntryQuery) -> int: ...
    def get_entry(self, entry_id: int) -> StoredEntry: ...
    def search(self, text: str, query: EntryQuery) -> list[StoredEntry]: ...
    def set_flags(
        self, ids: Sequence[int], *, read: bool | None = None, starred: bool | None = None
    ) -> int: ...

    # enrichment
    def entries_to_enrich(
        self, ids: Sequence[int], *, fulltext: bool = True
    ) -> list[StoredEntry]: ...
    def ids_to_enrich(self, ids: Sequence[int], *, fulltext: bool = True) -> list[int]: ...
    def cached_expansions(self, urls: Iterable[str]) -> dict[str, str]: ...
    def save_expansions(self, expansions: dict[str, str], now: datetime) -> None: ...
    def save_links(self, entry_id: int, links: list[str]) -> None: ...
    def get_pages(self, urls: Iterable[str]) -> dict[str, PageText]: ...
    def save_page(self, canonical: str, page: PageText, now: datetime) -> None: ...
    def apply_fulltext(self, entry_id: int, page: PageText | None, error: str | None) -> None: ...


# -- alerts -----------------------------------------------------------------------------------

# The error of an alert left "sending" longer than any send could take (a run killed mid-send).
INTERRUPTED = "interrupted while sending; not tried again, so it is never sent twice"


@dataclass(frozen=True, slots=True)
class EntryFacts:
    """What matching a watchlist needs to know about an entry besides its words and entities."""

    feed_id: int
    category: str | None  # the feed's category title
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
    def entries_mentioning(
        self, entity_ids: Sequence[int], entry_ids: Sequence[int]
    ) -> set[int]: ...
    def entries_matching(self, query: str, entry_ids: Sequence[int]) -> set[int]: ...
    def record_alerts(self, alerts: Sequence[NewAlert], now: datetime) -> int: ...

    # delivery
    def claim_alerts(
        self, now: datetime, *, stale_before: datetime, limit: int, plan: ClaimPlanner
    ) -> Claim: ...
    def alert_entries(self, entry_ids: Iterable[int]) -> list[AlertEntryRow]: ...
    def record_outcomes(
        self, outcomes: Sequence[AlertOutcome], now: datetime, *, attempts: int
    ) -> None: ...

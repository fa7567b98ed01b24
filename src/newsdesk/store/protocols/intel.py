"""What the intel stage (``newsdesk.intel``, ``newsdesk.stories``) needs of the store.

``SqlStore.intel`` (``newsdesk.store.intel.IntelStore``) implements it on the database; the
tests' ``MemoryIntel`` implements it on dicts and lists. Nothing here imports SQLAlchemy."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from newsdesk.model import Event, FoundEntity
    from newsdesk.store.protocols.alerts import AlertsStorage
    from newsdesk.store.protocols.rules import RulesStorage

__all__ = ["ClusterBatch", "EntryRow", "EntryText", "Facts", "IntelStorage", "Reading"]


@dataclass(slots=True)
class EntryRow:
    """An entry as clustering reads it."""

    id: int
    feed_id: int
    kind: str
    title: str
    text: str
    url_canonical: str | None
    links: list[str]
    published: datetime
    story_id: int | None
    title_terms: str | None  # as stored when it was last clustered


class Facts(NamedTuple):
    story_id: int | None
    feed_id: int
    published: datetime


@dataclass(frozen=True, slots=True)
class EntryText:
    """An entry as the reading step sees it."""

    id: int
    title: str
    text: str
    content_hash: str
    published: datetime
    language: str | None


@dataclass(frozen=True, slots=True)
class Reading:
    """What was read in one entry, to store in one go. ``mentions`` or ``events`` None: leave
    the stored ones as they are. ``fresh``: the entry was never read (nothing to replace)."""

    entry_id: int
    published: datetime
    content_hash: str
    text_length: int
    mentions: Sequence[FoundEntity] | None
    events: Sequence[Event] | None
    fresh: bool


class ClusterBatch(Protocol):
    """What clustering reads and writes inside one transaction (one batch of entries)."""

    def unclustered_ids(self, limit: int) -> list[int]: ...
    def load_entries(self, ids: Sequence[int]) -> list[EntryRow]: ...
    def story_leads(self, story_ids: Iterable[int]) -> dict[int, tuple[int | None, int]]: ...
    def key_hits(self, keys: Iterable[str]) -> list[tuple[str, int]]: ...
    def entry_facts(self, ids: Iterable[int]) -> dict[int, Facts]: ...
    def signatures(self, ids: Iterable[int]) -> dict[int, tuple[bytes | None, str | None]]: ...
    def create_stories(self, count: int, when: datetime, now: datetime) -> list[int]: ...
    def merge_stories(self, merged: Mapping[int, int]) -> None: ...
    def replace_keys(
        self, rekeyed: Sequence[int], rows: Sequence[tuple[str, int, datetime]]
    ) -> None: ...
    def replace_signatures(self, rows: Sequence[tuple[int, bytes | None, str]]) -> None: ...
    def assign_stories(self, assignments: Mapping[int, int]) -> None: ...
    def refresh_stories(self, story_ids: Iterable[int], now: datetime) -> None: ...


class IntelStorage(Protocol):
    """The intel stage's door to the store."""

    def clustering(self) -> AbstractContextManager[ClusterBatch]:
        """One clustering batch's transaction: committed when the block ends normally."""
        ...

    def clustering_lock(self) -> AbstractContextManager[None]:
        """One clusterer at a time (several worker processes)."""
        ...

    def index_queued_search(self, from_id: int = 0) -> int:
        """Put the entries a big refresh queued for the search index in it (SQLite;
        ``store.search.index_queued``); how many."""
        ...

    def all_entry_ids(self) -> Iterator[list[int]]:
        """Every stored entry id, in chunks, oldest first."""
        ...

    def pending(self, ids: Sequence[int], model: str | None, version: int) -> dict[int, bool]:
        """Of ``ids``, those never read (True), or changed or read otherwise since (False)."""
        ...

    def entry_texts(self, ids: Sequence[int]) -> list[EntryText]: ...

    def save_readings(
        self, readings: Sequence[Reading], *, version: int, model: str | None, done_at: datetime
    ) -> int:
        """Store the entries' mentions and events and mark them read, in one transaction;
        returns how many events were stored."""
        ...

    @property
    def alerts(self) -> AlertsStorage:
        """The alerts stage's door, for the watchlists the new entries match."""
        ...

    @property
    def rules(self) -> RulesStorage | None:
        """Every person's rules, applied to the new entries before alerts (None: a store
        without rules, the tests' fakes)."""
        ...

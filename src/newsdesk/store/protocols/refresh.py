"""What refresh and enrich need of the store (``Storage``), and the plain data they exchange.

Threading: a store may be used from several threads; each call runs in its own transaction
(writes are atomic per call). Lifecycle: open with ``newsdesk.store.open_store(url)``, which
applies migrations, and ``close()`` at the end. All datetimes going in and out are aware UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from newsdesk.model import Entry, Feed, PageText, StoredEntry


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
    # Only the entries after this one in the order asked (a cursor for the next page that holds
    # while the entries above it change state); None: from the start (``offset`` applies).
    after_id: int | None = None


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
    """What the refresh and enrichment stages (``newsdesk.refresh``, ``newsdesk.enrich``) ask of
    a store, and no more: ``SqlStore`` implements it on a database, ``tests/fakes`` in memory.
    Faces (CLI, web, APIs) use ``SqlStore`` itself."""

    # feeds
    def list_feeds(self, ids: Iterable[int] | None = None) -> list[Feed]: ...
    def due_feeds(self, now: datetime, limit: int | None = None) -> list[Feed]: ...
    def feeds_to_fetch(
        self, ids: Iterable[int] | None = None, *, due: datetime | None = None
    ) -> list[Feed]: ...

    # refresh
    def save_refresh_batch(
        self,
        batch: Sequence[tuple[int, FeedState, Sequence[Entry]]],
        now: datetime,
        *,
        index_later: bool = False,
    ) -> list[StoreResult]: ...
    def save_fetch_states(self, states: Sequence[tuple[int, FeedState]]) -> None: ...
    def checkpoint(self) -> None: ...
    def index_queued_search(self, from_id: int = 0) -> int: ...
    def queued_search_count(self) -> int: ...

    # enrichment
    def entries_to_enrich(
        self, ids: Sequence[int], *, fulltext: bool = True
    ) -> list[StoredEntry]: ...
    def cached_expansions(self, urls: Iterable[str]) -> dict[str, str]: ...
    def save_expansions(self, expansions: dict[str, str], now: datetime) -> None: ...
    def save_links(self, entry_id: int, links: list[str]) -> None: ...
    def get_pages(self, urls: Iterable[str]) -> dict[str, PageText]: ...
    def save_page(self, canonical: str, page: PageText, now: datetime) -> None: ...
    def apply_fulltext(self, entry_id: int, page: PageText | None, error: str | None) -> None: ...

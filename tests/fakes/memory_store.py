"""``MemoryStore``: the ``Storage`` protocol in plain Python, no database, for fast tests of
refresh and enrichment. It keeps what ``SqlStore`` keeps and deduplicates as its unique keys do
(one entry per feed and key; a new key with known content is not new), but it is not a second
database: no search, no categories, no transactions beyond "each call is whole"."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from newsdesk.model import Entry, Feed, PageText, StoredEntry
from newsdesk.process.urls import canonical_url
from newsdesk.store import FeedState, Storage, StoreResult


class MemoryStore:
    """Feeds, entries, link cache and pages in dicts; one lock makes each call atomic."""

    def __init__(self) -> None:
        self.feeds: dict[int, Feed] = {}
        self.entries: dict[int, StoredEntry] = {}
        self.hashes: dict[int, str] = {}  # entry id -> content hash
        self.expansions: dict[str, str] = {}
        self.pages: dict[str, PageText] = {}
        self.writes = 0  # calls that wrote something (a refresh's transactions)
        self._lock = threading.Lock()

    # -- what tests set up and read ----------------------------------------------------------

    def add_feed(self, url: str, *, title: str | None = None) -> Feed:
        with self._lock:
            feed = Feed(id=len(self.feeds) + 1, url=url, custom_title=title)
            self.feeds[feed.id] = feed
            return replace(feed)

    def feed_entries(self, feed_id: int) -> list[StoredEntry]:
        return [e for e in self.entries.values() if e.feed_id == feed_id]

    # -- Storage: feeds ----------------------------------------------------------------------

    def list_feeds(self, ids: Iterable[int] | None = None) -> list[Feed]:
        with self._lock:
            wanted = sorted(self.feeds) if ids is None else sorted(set(ids) & set(self.feeds))
            return [replace(self.feeds[i]) for i in wanted]

    def due_feeds(self, now: datetime, limit: int | None = None) -> list[Feed]:
        due = [
            f
            for f in self.list_feeds()
            if not f.paused and (f.next_check is None or f.next_check <= now)
        ]
        return due[:limit] if limit else due

    def feeds_to_fetch(
        self, ids: Iterable[int] | None = None, *, due: datetime | None = None
    ) -> list[Feed]:
        if ids is not None:
            return self.list_feeds(ids)
        if due is not None:
            return self.due_feeds(due)
        return [f for f in self.list_feeds() if not f.paused]

    # -- Storage: refresh --------------------------------------------------------------------

    def save_fetch_states(self, states: Sequence[tuple[int, FeedState]]) -> None:
        with self._lock:
            self.writes += bool(states)
            for feed_id, state in states:
                self._write_state(feed_id, state)

    def checkpoint(self) -> None:
        pass  # nothing is logged ahead in memory

    def index_queued_search(self, from_id: int = 0) -> int:
        return 0  # entries are searchable as soon as they are stored

    def queued_search_count(self) -> int:
        return 0

    def save_refresh_batch(
        self,
        batch: Sequence[tuple[int, FeedState, Sequence[Entry]]],
        now: datetime,
        *,
        index_later: bool = False,
    ) -> list[StoreResult]:
        with self._lock:
            self.writes += 1
            results = []
            for feed_id, state, entries in batch:
                self._write_state(feed_id, state)
                results.append(self._upsert(feed_id, entries, now))
            return results

    def _write_state(self, feed_id: int, state: FeedState) -> None:
        feed = self.feeds[feed_id]
        feed.last_fetched, feed.last_status = state.last_fetched, state.last_status
        feed.next_check = state.next_check
        feed.pending_url, feed.pending_count = state.pending_url, state.pending_count
        if state.error is None:
            feed.error_count, feed.error_since, feed.last_error = 0, None, None
            feed.last_success = state.last_fetched
            if state.etag is not None or state.last_modified is not None:
                feed.etag, feed.last_modified = state.etag, state.last_modified
        else:
            feed.error_count += 1
            feed.last_error = state.error
            feed.error_since = feed.error_since or state.last_fetched
        feed.title = state.title or feed.title
        feed.site_url = state.site_url or feed.site_url
        if state.entries_per_day is not None:
            feed.entries_per_day = state.entries_per_day
        if state.paused_reason:
            feed.paused, feed.paused_reason = True, state.paused_reason
        if state.new_url:
            feed.moved_from, feed.url = feed.url, state.new_url

    def _upsert(self, feed_id: int, entries: Sequence[Entry], now: datetime) -> StoreResult:
        result = StoreResult()
        by_key = {e.key: e for e in self.feed_entries(feed_id)}
        known_hashes = {self.hashes[e.id] for e in by_key.values()}
        for entry in entries:
            stored = by_key.get(entry.key)
            if stored is None and entry.content_hash in known_hashes:
                continue  # a rotating GUID: same content, new key
            if stored is not None and self.hashes[stored.id] == entry.content_hash:
                continue
            entry_id = stored.id if stored is not None else len(self.entries) + 1
            self.entries[entry_id] = self._stored(entry_id, feed_id, entry, stored, now)
            self.hashes[entry_id] = entry.content_hash
            known_hashes.add(entry.content_hash)
            by_key[entry.key] = self.entries[entry_id]
            (result.new_ids if stored is None else result.updated_ids).append(entry_id)
        return result

    def _stored(
        self, entry_id: int, feed_id: int, e: Entry, old: StoredEntry | None, now: datetime
    ) -> StoredEntry:
        feed = self.feeds[feed_id]
        return StoredEntry(
            id=entry_id,
            feed_id=feed_id,
            feed_title=feed.display_title,
            category=feed.category,
            kind=e.kind,
            key=e.key,
            url=e.url,
            title=e.title,
            author=e.author,
            published=e.published,
            updated=e.updated,
            first_seen=old.first_seen if old else now,
            content_html=e.content_html,
            content_text=e.content_text,
            summary_html=e.summary_html,
            tags=list(e.tags),
            links=[canonical_url(u) for u in e.links],
            enclosures=list(e.enclosures),
            read=old.read if old else False,
            starred=old.starred if old else False,
            fulltext_status="pending" if e.wants_fulltext else None,
            changed_at=now,
        )

    # -- Storage: enrichment -----------------------------------------------------------------

    def entries_to_enrich(self, ids: Sequence[int], *, fulltext: bool = True) -> list[StoredEntry]:
        with self._lock:
            found = [self.entries[i] for i in ids if i in self.entries]
            return [
                replace(e)
                for e in found
                if (e.kind == "post" and e.links) or (fulltext and e.fulltext_status == "pending")
            ]

    def cached_expansions(self, urls: Iterable[str]) -> dict[str, str]:
        with self._lock:
            return {u: self.expansions[u] for u in urls if u in self.expansions}

    def save_expansions(self, expansions: dict[str, str], now: datetime) -> None:
        with self._lock:
            for url, final in expansions.items():
                self.expansions.setdefault(url, final)

    def save_links(self, entry_id: int, links: list[str]) -> None:
        with self._lock:
            self.entries[entry_id].links = list(dict.fromkeys(canonical_url(u) for u in links))

    def get_pages(self, urls: Iterable[str]) -> dict[str, PageText]:
        with self._lock:
            return {u: self.pages[u] for u in urls if u in self.pages}

    def save_page(self, canonical: str, page: PageText, now: datetime) -> None:
        with self._lock:
            self.pages[canonical] = page

    def apply_fulltext(self, entry_id: int, page: PageText | None, error: str | None) -> None:
        with self._lock:
            entry = self.entries[entry_id]
            if page is not None and not page.error and page.text:
                entry.summary_html = entry.summary_html or entry.content_html
                entry.content_html, entry.content_text = page.html, page.text
                entry.fulltext_status, entry.fulltext_error = "done", None
            else:
                entry.fulltext_status = "failed"
                entry.fulltext_error = error or (page.error if page else None) or "failed"


def as_storage(store: MemoryStore) -> Storage:
    """The fake, checked against the protocol by mypy wherever this is called."""
    return store

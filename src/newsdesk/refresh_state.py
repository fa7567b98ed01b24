"""What one fetch of a feed means for it: its new fetch state (validators, next check, errors,
a move, a pause) and, for a document, the entries to store. Plain functions of plain data, so
the refresh process and the workers that parse and store (``refresh_worker``) decide alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from newsdesk import schedule
from newsdesk.fetch.encoded import Decoding
from newsdesk.model import Entry, Feed, FetchResult
from newsdesk.settings import Settings
from newsdesk.store.protocols.refresh import FeedState

if TYPE_CHECKING:
    from newsdesk.process.document import ParsedDocument


@dataclass(slots=True)
class FeedOutcome:
    feed_id: int
    url: str
    title: str
    new: int = 0
    updated: int = 0
    not_modified: bool = False
    error: str | None = None


@dataclass(slots=True)
class Verdict:
    """A fetch, judged: its outcome, the feed's new state and, when a document came, the
    entries to store (None: only the state is written)."""

    outcome: FeedOutcome
    state: FeedState
    entries: list[Entry] | None = None


@dataclass(slots=True)
class Fetched:
    """One feed's fetch, as it crosses to a worker: the body as it came (``how`` decodes it)."""

    feed: Feed
    result: FetchResult
    how: Decoding | None


@dataclass(slots=True)
class Stored:
    """What became of one feed: its outcome and the ids of the entries stored, or ``left``
    true when the body needs the refresh process's own decoder (nothing written)."""

    outcome: FeedOutcome | None
    new_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    left: bool = False


class FeedStates:
    """Judges the fetches of one run (its settings and its clock)."""

    def __init__(self, settings: Settings, now: datetime) -> None:
        self.settings = settings
        self.now = now

    def base(self, feed: Feed, result: FetchResult) -> FeedState:
        state = FeedState(
            last_fetched=self.now,
            last_status=result.status,
            etag=result.etag,
            last_modified=result.last_modified,
        )
        if result.permanent_redirect and result.permanent_redirect != feed.url:
            # A move is believed once seen on consecutive fetches.
            count = feed.pending_count if feed.pending_url == result.permanent_redirect else 0
            state.pending_url, state.pending_count = result.permanent_redirect, count + 1
            if state.pending_count >= 2:
                state.new_url = state.pending_url
        return state

    def hints(
        self, result: FetchResult, ttl: int | None, feed: Feed | None = None
    ) -> schedule.Hints:
        if feed is not None and feed.options.ignore_cache_hints:  # a rate limit still counts
            return schedule.Hints(retry_after=result.retry_after, status=result.status)
        return schedule.Hints(
            ttl_minutes=ttl,
            cache_control=result.cache_control,
            expires=result.expires,
            retry_after=result.retry_after,
            status=result.status,
        )

    def fail(self, feed: Feed, state: FeedState, message: str, result: FetchResult) -> None:
        state.error = message
        state.etag = state.last_modified = None
        errors = feed.error_count + 1
        state.next_check = schedule.next_check(
            self.now, self.settings, error_count=errors, hints=self.hints(result, None)
        )
        if result.status == 410:
            state.paused_reason = "the server says the feed is gone for good (HTTP 410)"
        elif feed.error_since and self.now - feed.error_since > timedelta(
            days=self.settings.pause_after_days
        ):
            state.paused_reason = (
                f"failing for more than {self.settings.pause_after_days} days: {message}"
            )

    def without_document(self, feed: Feed, result: FetchResult) -> Verdict | None:
        """The verdict on a fetch that brought no document to parse (an error, or not
        modified); None when it brought one."""
        if result.error is not None:
            return self._failed(feed, result, result.error)
        if not result.not_modified:
            return None
        outcome = FeedOutcome(feed.id, feed.url, feed.display_title, not_modified=True)
        state = self.base(feed, result)
        state.next_check = self._next_check(feed, result, feed.entries_per_day, feed.ttl_minutes)
        return Verdict(outcome, state)

    def _failed(self, feed: Feed, result: FetchResult, message: str) -> Verdict:
        outcome = FeedOutcome(feed.id, feed.url, feed.display_title, error=message)
        state = self.base(feed, result)
        self.fail(feed, state, message, result)
        return Verdict(outcome, state)

    def _next_check(
        self, feed: Feed, result: FetchResult, per_day: float | None, ttl: int | None
    ) -> datetime:
        return schedule.next_check(
            self.now,
            self.settings,
            entries_per_day=per_day,
            hints=self.hints(result, ttl, feed),
            interval_override=feed.check_interval,
        )

    def of_document(
        self, feed: Feed, result: FetchResult, document: ParsedDocument | str
    ) -> Verdict:
        """The verdict on a fetched document, parsed (or the message saying why it could not
        be)."""
        if isinstance(document, str):
            return self._failed(feed, result, document)
        outcome = FeedOutcome(feed.id, feed.url, feed.display_title)
        state = self.base(feed, result)
        batch = document.entries
        if feed.options.fulltext is not None:  # the feed's own choice over the setting's
            for entry in batch:
                entry.wants_fulltext = feed.options.fulltext and entry.kind == "article"
        state.title = document.title
        state.site_url = document.site_url
        state.problems = document.problems
        state.ttl_minutes = document.ttl_minutes
        dated = [e.published for e in batch if e.date_from_feed]
        # Undated feeds tell us nothing about their pace (None: the default interval).
        state.entries_per_day = schedule.entries_per_day(dated, self.now) if dated else None
        state.next_check = self._next_check(
            feed, result, state.entries_per_day, document.ttl_minutes
        )
        if document.title:
            outcome.title = feed.custom_title or document.title
        return Verdict(outcome, state, batch)

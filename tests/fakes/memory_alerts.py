"""``MemoryAlerts``: the ``AlertsStorage`` protocol (what ``newsdesk.alerts`` needs from the store)
in plain Python dicts, so the real matching and delivery code runs with no database.

Words match as whole words, every one of the query's (a stand-in for the full-text index, which
has its own tests); everything else behaves as ``store.alerts.AlertStore``: at most one alert per
(watchlist, entry, channel), claims that only take alerts still pending, outcomes that only
change alerts still sending."""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from newsdesk.store.protocols.alerts import (
    INTERRUPTED,
    AlertEntryRow,
    AlertOutcome,
    AlertsStorage,
    Claim,
    ClaimPlanner,
    EntryFacts,
    NewAlert,
    PendingAlert,
)
from newsdesk.store.watchlists import Watchlist

_WORD = re.compile(r"\w+")


@dataclass
class MemoryEntry:
    id: int
    feed_id: int
    title: str
    text: str
    category: str | None
    first_seen: datetime
    published: datetime
    entity_ids: set[int] = field(default_factory=set)
    feed: str = "Wire"
    url: str | None = None
    story_id: int | None = None


@dataclass
class MemoryAlert:
    id: int
    watchlist_id: int
    entry_id: int
    channel: str
    created_at: datetime
    status: str = "pending"
    attempts: int = 0
    error: str | None = None
    sent_at: datetime | None = None


class MemoryAlerts:
    """Watchlists, entries and alerts in dicts; helpers ``add_watchlist`` and ``add_entry``."""

    def __init__(self) -> None:
        self.watchlists: dict[int, Watchlist] = {}
        self.entries: dict[int, MemoryEntry] = {}
        self.alerts: dict[int, MemoryAlert] = {}
        # person id → the feeds they see (a person not here, or None, sees every feed)
        self.follows: dict[int, set[int]] = {}
        self._ids = itertools.count(1)

    # -- test helpers ---------------------------------------------------------------------------

    def add_watchlist(
        self,
        name: str,
        *,
        channels: dict[str, dict[str, Any]],
        created_at: datetime,
        query: str = "",
        entity_ids: Sequence[int] = (),
        categories: Sequence[str] = (),
        feed_ids: Sequence[int] = (),
        mode: str = "instant",
        enabled: bool = True,
        user_id: int | None = None,
    ) -> Watchlist:
        watchlist = Watchlist(
            id=next(self._ids),
            name=name,
            query=query,
            entity_ids=tuple(entity_ids),
            categories=tuple(categories),
            feed_ids=tuple(feed_ids),
            channels=channels,
            mode=mode,
            enabled=enabled,
            created_at=created_at,
            user_id=user_id,
        )
        self.watchlists[watchlist.id] = watchlist
        return watchlist

    def change_watchlist(self, watchlist_id: int, **changes: Any) -> None:
        self.watchlists[watchlist_id] = dataclasses.replace(
            self.watchlists[watchlist_id], **changes
        )

    def add_entry(
        self,
        title: str,
        *,
        first_seen: datetime,
        feed_id: int = 1,
        text: str = "",
        category: str | None = None,
        entity_ids: Iterable[int] = (),
    ) -> int:
        entry_id = next(self._ids)
        self.entries[entry_id] = MemoryEntry(
            id=entry_id,
            feed_id=feed_id,
            title=title,
            text=text or title,
            category=category,
            first_seen=first_seen,
            published=first_seen,
            entity_ids=set(entity_ids),
            url=f"https://news.example/{entry_id}",
        )
        return entry_id

    # -- matching -------------------------------------------------------------------------------

    def enabled_watchlists(self) -> list[Watchlist]:
        return [w for w in self.watchlists.values() if w.enabled]

    def entry_facts(self, entry_ids: Sequence[int]) -> dict[int, EntryFacts]:
        return {
            i: EntryFacts(e.feed_id, e.first_seen)
            for i in entry_ids
            if (e := self.entries.get(i)) is not None
        }

    def feeds_seen(
        self, person_id: int | None, feed_ids: Sequence[int]
    ) -> dict[int, frozenset[str]]:
        sees = None if person_id is None else self.follows.get(person_id)
        found: dict[int, set[str]] = {}
        for entry in self.entries.values():
            if entry.feed_id in feed_ids and (sees is None or entry.feed_id in sees):
                titles = found.setdefault(entry.feed_id, set())
                if entry.category is not None:
                    titles.add(entry.category)
        return {f: frozenset(t) for f, t in found.items()}

    def entries_mentioning(self, entity_ids: Sequence[int], entry_ids: Sequence[int]) -> set[int]:
        wanted = set(entity_ids)
        return {i for i in entry_ids if i in self.entries and self.entries[i].entity_ids & wanted}

    def blocked(self, person_id: int | None, entry_ids: Sequence[int]) -> set[int]:
        return set()  # no rules here

    def entries_matching(
        self, query: str, entry_ids: Sequence[int], person_id: int | None = None
    ) -> set[int]:
        words = set(_WORD.findall(query.casefold()))
        found: set[int] = set()
        for i in entry_ids:
            entry = self.entries.get(i)
            if entry is not None and words:
                have = set(_WORD.findall(f"{entry.title} {entry.text}".casefold()))
                if words <= have:
                    found.add(i)
        return found

    def record_alerts(self, alerts: Sequence[NewAlert], now: datetime) -> int:
        taken = {(a.watchlist_id, a.entry_id, a.channel) for a in self.alerts.values()}
        created = 0
        for new in alerts:
            watchlist = self.watchlists.get(new.watchlist_id)
            key = (new.watchlist_id, new.entry_id, new.channel)
            if watchlist is None or not watchlist.enabled or key in taken:
                continue
            taken.add(key)
            alert_id = next(self._ids)
            self.alerts[alert_id] = MemoryAlert(alert_id, *key, created_at=now)
            created += 1
        return created

    # -- delivery -------------------------------------------------------------------------------

    def claim_alerts(
        self, now: datetime, *, stale_before: datetime, limit: int, plan: ClaimPlanner
    ) -> Claim:
        claim = Claim()
        for alert in self.alerts.values():
            if alert.status == "sending" and alert.sent_at and alert.sent_at < stale_before:
                alert.status, alert.error, alert.sent_at = "failed", INTERRUPTED, None
                claim.stale += 1
        claim.watchlists = {w.id: w for w in self.enabled_watchlists()}
        pending = [
            PendingAlert(a.id, a.watchlist_id, a.entry_id, a.channel, a.attempts)
            for a in sorted(self.alerts.values(), key=lambda a: a.id)
            if a.status == "pending" and a.watchlist_id in claim.watchlists
        ][:limit]
        if not pending:
            return claim
        chosen = plan(claim.watchlists, pending)
        for alert_id in chosen.orphans:
            alert = self.alerts[alert_id]
            if alert.status == "pending":
                alert.status, alert.error = "failed", "the watchlist no longer has this channel"
        claim.orphans = len(chosen.orphans)
        by_id = {p.id: p for p in pending}
        for alert_id in chosen.send:
            alert = self.alerts[alert_id]
            if alert.status == "pending":
                alert.status, alert.sent_at = "sending", now
                claim.alerts.append(by_id[alert_id])
        for watchlist_id in chosen.digests & {a.watchlist_id for a in claim.alerts}:
            self.change_watchlist(watchlist_id, last_digest_at=now)
        return claim

    def alert_entries(
        self, entry_ids: Iterable[int], person_id: int | None = None
    ) -> list[AlertEntryRow]:
        return [
            AlertEntryRow(e.id, e.title, e.url, e.feed, e.published, e.story_id, e.text)
            for i in set(entry_ids)
            if (e := self.entries.get(i)) is not None
        ]

    def record_outcomes(
        self, outcomes: Sequence[AlertOutcome], now: datetime, *, attempts: int
    ) -> None:
        for outcome in outcomes:
            for alert_id in outcome.alert_ids:
                alert = self.alerts[alert_id]
                if alert.status != "sending":
                    continue
                if outcome.result == "untried":
                    alert.status, alert.sent_at = "pending", None
                elif outcome.result == "sent":
                    alert.status, alert.sent_at, alert.error = "sent", now, None
                    alert.attempts += 1
                else:
                    alert.attempts += 1
                    alert.error, alert.sent_at = (outcome.error or "")[:2000], None
                    alert.status = "failed" if alert.attempts >= attempts else "pending"


def _conforms(store: MemoryAlerts) -> AlertsStorage:
    return store  # mypy checks the fake against the protocol here

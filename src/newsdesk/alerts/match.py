"""Which watchlists new entries match: one alert per (watchlist, entry, channel).

A watchlist matches an entry when every criterion it gives holds: its words (the same full-text
index and query syntax as `newsdesk search`), any of its entities mentioned, one of its
categories, one of its feeds. Only entries first seen after the watchlist was made alert: a new
watchlist does not flood its channels with the archive. The store records each alert at most
once (the unique constraint ``uq_alerts_once``), so matching the same entry again is harmless.
The store is anything with the ``AlertsStorage`` protocol (``SqlStore.alerts``, or a fake).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from newsdesk.store.protocols.alerts import AlertsStorage, NewAlert
from newsdesk.store.watchlists import Watchlist


def matching_entries(
    store: AlertsStorage, watchlist: Watchlist, candidates: dict[int, tuple[int, str | None]]
) -> list[int]:
    """Entry ids of ``candidates`` (id → (feed id, category title)) the watchlist matches."""
    feed_ids = set(watchlist.feed_ids)
    cats = {c.casefold() for c in watchlist.categories}
    ids = [
        entry_id
        for entry_id, (feed_id, category) in candidates.items()
        if (not feed_ids or feed_id in feed_ids)
        and (not cats or (category is not None and category.casefold() in cats))
    ]
    if ids and watchlist.entity_ids:
        mentioning = store.entries_mentioning(watchlist.entity_ids, ids)
        ids = [i for i in ids if i in mentioning]
    if ids and watchlist.query:
        hits = store.entries_matching(watchlist.query, ids)
        ids = [i for i in ids if i in hits]
    return sorted(ids)


def match_entries(
    store: AlertsStorage, entry_ids: Sequence[int], *, now: datetime | None = None
) -> int:
    """Record an alert per channel for every enabled watchlist each entry matches; returns the
    alerts created (an entry already alerted for a watchlist and channel adds none)."""
    now = now or datetime.now(UTC)
    wanted = sorted({int(i) for i in entry_ids})
    if not wanted:
        return 0
    lists = store.enabled_watchlists()  # none (the usual case): no write lock taken
    if not lists:
        return 0
    info = store.entry_facts(wanted)
    new: list[NewAlert] = []
    for watchlist in lists:
        candidates = {
            entry_id: (facts.feed_id, facts.category)
            for entry_id, facts in info.items()
            if facts.first_seen >= watchlist.created_at
        }
        if not candidates:
            continue
        for entry_id in matching_entries(store, watchlist, candidates):
            new.extend(NewAlert(watchlist.id, entry_id, channel) for channel in watchlist.channels)
    # The store skips the watchlists deleted or disabled meanwhile.
    return store.record_alerts(new, now) if new else 0

"""Which watchlists new entries match: one alert per (watchlist, entry, channel).

A watchlist matches an entry its owner sees when every criterion it gives holds: its words
(the query language of `newsdesk search`, docs/query.md), any of its entities
mentioned, one of its categories (as its owner files the feed), one of its feeds. Only entries
first seen after the watchlist was made alert: a new watchlist does not flood its channels
with the archive. The store records each alert at most once (the unique constraint
``uq_alerts_once``), so matching the same entry again is harmless.
The store is anything with the ``AlertsStorage`` protocol (``SqlStore.alerts``, or a fake).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from newsdesk.store.protocols.alerts import AlertsStorage, NewAlert
from newsdesk.store.watchlists import Watchlist


def matching_entries(
    store: AlertsStorage, watchlist: Watchlist, candidates: dict[int, tuple[int, frozenset[str]]]
) -> list[int]:
    """Entry ids of ``candidates`` (id → (feed id, its category titles for the watchlist's
    owner)) the watchlist matches."""
    feed_ids = set(watchlist.feed_ids)
    cats = {c.casefold() for c in watchlist.categories}
    ids = [
        entry_id
        for entry_id, (feed_id, categories) in candidates.items()
        if (not feed_ids or feed_id in feed_ids)
        and (not cats or any(c.casefold() in cats for c in categories))
    ]
    if ids and watchlist.entity_ids:
        mentioning = store.entries_mentioning(watchlist.entity_ids, ids)
        ids = [i for i in ids if i in mentioning]
    if ids and watchlist.query:
        hits = store.entries_matching(watchlist.query, ids, watchlist.user_id)
        ids = [i for i in ids if i in hits]
    return sorted(ids)


def match_entries(
    store: AlertsStorage, entry_ids: Sequence[int], *, now: datetime | None = None
) -> int:
    """Record an alert per channel for every enabled watchlist each entry matches; returns the
    alerts created (an entry already alerted for a watchlist and channel adds none). A
    watchlist sees only the entries its owner sees (issue 15): the feeds they follow and those
    of the categories shared with them."""
    now = now or datetime.now(UTC)
    wanted = sorted({int(i) for i in entry_ids})
    if not wanted:
        return 0
    lists = store.enabled_watchlists()  # none (the usual case): no write lock taken
    if not lists:
        return 0
    info = store.entry_facts(wanted)
    feed_ids = sorted({facts.feed_id for facts in info.values()})
    seen: dict[int | None, dict[int, frozenset[str]]] = {}
    blocked: dict[int, set[int]] = {}
    new: list[NewAlert] = []
    for watchlist in lists:
        owner = watchlist.user_id
        if owner not in seen:
            seen[owner] = store.feeds_seen(owner, feed_ids) if feed_ids else {}
        visible = seen[owner]
        candidates = {
            entry_id: (facts.feed_id, visible[facts.feed_id])
            for entry_id, facts in info.items()
            if facts.first_seen >= watchlist.created_at and facts.feed_id in visible
        }
        if candidates and owner is not None:  # an entry its owner's rules blocked: no alert
            if owner not in blocked:
                blocked[owner] = store.blocked(owner, wanted)
            for entry_id in blocked[owner]:
                candidates.pop(entry_id, None)
        if not candidates:
            continue
        for entry_id in matching_entries(store, watchlist, candidates):
            new.extend(NewAlert(watchlist.id, entry_id, channel) for channel in watchlist.channels)
    # The store skips the watchlists deleted or disabled meanwhile.
    return store.record_alerts(new, now) if new else 0

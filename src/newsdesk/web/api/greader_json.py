"""The JSON shapes of the Google Reader API: items, subscriptions and unread counts, with the
field names FreshRSS and Miniflux answer with (``greader`` serves them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from newsdesk.model import Feed, StoredEntry
from newsdesk.store import labels
from newsdesk.store import sync as sync_store
from newsdesk.web.api.greader_common import (
    LABEL_PREFIX,
    READING_LIST,
    STATE_READ,
    STATE_STARRED,
    long_id,
)
from newsdesk.web.api.titles import entry_title


def _usec(value: datetime) -> str:
    return str(int(value.timestamp() * 1_000_000))


def item_json(entry: StoredEntry, feed: Feed | None, labels: Sequence[str] = ()) -> dict[str, Any]:
    categories = [READING_LIST]
    if entry.read:
        categories.append(STATE_READ)
    if entry.starred:
        categories.append(STATE_STARRED)
    if entry.category:
        categories.append(LABEL_PREFIX + entry.category)
    categories.extend(LABEL_PREFIX + label for label in labels)
    content = {"direction": "ltr", "content": entry.content_html}
    links = [{"href": entry.url}] if entry.url else []
    return {
        "id": long_id(entry.id),
        "crawlTimeMsec": str(int(entry.first_seen.timestamp() * 1000)),
        "timestampUsec": _usec(entry.published),
        "published": int(entry.published.timestamp()),
        "updated": int((entry.updated or entry.published).timestamp()),
        "title": entry_title(entry),
        "author": entry.author or "",
        "canonical": links,
        "alternate": [{"href": entry.url, "type": "text/html"}] if entry.url else [],
        "categories": categories,
        "origin": {
            "streamId": f"feed/{entry.feed_id}",
            "title": feed.display_title if feed else (entry.feed_title or ""),
            "htmlUrl": (feed.site_url or feed.url) if feed else "",
        },
        "summary": content,
        "content": content,
        "enclosure": [
            {"href": e.url, "type": e.type or "", **({"length": e.length} if e.length else {})}
            for e in entry.enclosures
        ],
    }


def subscription_json(feed: Feed, icon_url: str = "") -> dict[str, Any]:
    categories = (
        [{"id": LABEL_PREFIX + feed.category, "label": feed.category}] if feed.category else []
    )
    return {
        "id": f"feed/{feed.id}",
        "title": feed.display_title,
        "categories": categories,
        "url": feed.url,
        "htmlUrl": feed.site_url or feed.url,
        "iconUrl": icon_url,
        "sortid": f"{feed.id:08X}",
        "firstitemmsec": str(int(feed.created_at.timestamp() * 1000)) if feed.created_at else "0",
    }


def _newest(*values: datetime | None) -> datetime | None:
    return max((v for v in values if v is not None), default=None)


def _count(stream: str, count: int, newest: datetime | None) -> dict[str, Any]:
    return {
        "id": stream,
        "count": count,
        "newestItemTimestampUsec": _usec(newest) if newest else "0",
    }


def unread_counts(
    feeds: list[Feed],
    counts: dict[int, sync_store.FeedCount],
    label_counts: Sequence[labels.LabelCount] = (),
) -> dict[str, Any]:
    """``unread-count``: every feed (one without entries too, at 0), every category, every
    user label, then the reading list."""
    out: list[dict[str, Any]] = []
    folders: dict[str, tuple[int, datetime | None]] = {}
    total, newest_all = 0, None
    for feed in feeds:
        found = counts.get(feed.id)
        unread, newest = (found.unread, found.newest) if found else (0, None)
        out.append(_count(f"feed/{feed.id}", unread, newest))
        total += unread
        newest_all = _newest(newest_all, newest)
        if feed.category:
            seen, latest = folders.get(feed.category, (0, None))
            folders[feed.category] = (seen + unread, _newest(latest, newest))
    out.extend(_count(LABEL_PREFIX + name, n, t) for name, (n, t) in folders.items())
    out.extend(
        _count(LABEL_PREFIX + c.name, c.unread, c.newest)
        for c in label_counts
        if c.name not in folders
    )
    out.append(_count(READING_LIST, total, newest_all))
    return {"max": total, "unreadcounts": out}

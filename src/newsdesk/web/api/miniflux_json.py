"""The JSON shapes of the Miniflux-compatible API: users, categories, feeds and entries with
the field names of Miniflux's model package (https://miniflux.app/docs/api.html)."""

from __future__ import annotations

import base64
import hashlib
import math
from datetime import datetime
from typing import Any

from newsdesk.model import SECRET_NAMES, Feed, FeedOptions, StoredEntry
from newsdesk.store.icons import Icon
from newsdesk.store.users import User
from newsdesk.util import iso
from newsdesk.web.api.titles import entry_title

ZERO_TIME = "0001-01-01T00:00:00Z"
READING_SPEED = 265  # words a minute, as Miniflux counts


def iso_time(value: datetime | None) -> str:
    return iso(value) if value else ZERO_TIME


def category_json(category_id: int, title: str, user_id: int) -> dict[str, Any]:
    return {"id": category_id, "title": title, "user_id": user_id, "hide_globally": False}


def feed_json(feed: Feed, user_id: int) -> dict[str, Any]:
    return {
        "id": feed.id,
        "user_id": user_id,
        "feed_url": feed.url,
        "site_url": feed.site_url or feed.url,
        "title": feed.display_title,
        "checked_at": iso_time(feed.last_fetched),
        "next_check_at": iso_time(feed.next_check),
        "etag_header": feed.etag or "",
        "last_modified_header": feed.last_modified or "",
        "parsing_error_message": feed.last_error or "",
        "parsing_error_count": feed.error_count,
        "scraper_rules": feed.options.extract_body or "",
        "rewrite_rules": "",
        "crawler": feed.options.fulltext is True,
        "blocklist_rules": "",
        "keeplist_rules": "",
        "urlrewrite_rules": "",
        "user_agent": feed.options.user_agent or "",
        "cookie": "",  # secrets are never shown back (issue 16)
        "username": "",
        "password": "",
        "disabled": feed.paused,
        "no_media_player": False,
        "ignore_http_cache": feed.options.ignore_cache_hints,
        "allow_self_signed_certificates": False,
        "fetch_via_proxy": False,
        "category": category_json(feed.category_id or 0, feed.category or "", user_id),
        "icon": {"feed_id": feed.id, "icon_id": feed.icon_id} if feed.icon_id else None,
        "hide_globally": False,
        "apprise_service_urls": "",
    }


def entry_hash(entry: StoredEntry) -> str:
    return hashlib.sha256(f"{entry.feed_id}:{entry.key}".encode()).hexdigest()


def icon_json(icon: Icon) -> dict[str, Any]:
    # Miniflux's "data URL" has no "data:" scheme: "image/png;base64,…" (model.Icon.DataURL).
    data = base64.b64encode(icon.data).decode("ascii")
    return {"id": icon.id, "data": f"{icon.mime_type};base64,{data}", "mime_type": icon.mime_type}


def entry_json(entry: StoredEntry, feed: dict[str, Any] | None, user_id: int) -> dict[str, Any]:
    words = len(entry.content_text.split())
    return {
        "id": entry.id,
        "user_id": user_id,
        "feed_id": entry.feed_id,
        "status": "read" if entry.read else "unread",
        "hash": entry_hash(entry),
        "title": entry_title(entry),
        "url": entry.url or "",
        "comments_url": "",
        "published_at": iso_time(entry.published),
        "created_at": iso_time(entry.first_seen),
        "changed_at": iso_time(max(entry.changed_at or entry.first_seen, entry.first_seen)),
        "content": entry.content_html,
        "author": entry.author or "",
        "share_code": "",
        "starred": entry.starred,
        "reading_time": math.ceil(words / READING_SPEED) if words else 0,
        "enclosures": [
            {
                "id": entry.id * 100 + index + 1,
                "user_id": user_id,
                "entry_id": entry.id,
                "url": enclosure.url,
                "mime_type": enclosure.type or "",
                "size": enclosure.length or 0,
                "media_progression": 0,
            }
            for index, enclosure in enumerate(entry.enclosures[:99])
        ],
        "feed": feed,
        "tags": list(entry.tags),
    }


def user_json(user: User) -> dict[str, Any]:
    """A person as Miniflux's ``model.User`` shapes one (the settings Newsdesk does not keep
    per person carry Miniflux's defaults; ``mark_read_on_view`` is their
    ``mark_read_on_open``)."""
    return {
        "id": user.id,
        "username": user.username,
        "is_admin": user.is_admin,
        "theme": "light_serif",
        "language": "en_US",
        "timezone": "UTC",
        "entry_sorting_direction": "desc",
        "entry_sorting_order": "published_at",
        "stylesheet": "",
        "custom_js": "",
        "external_font_hosts": "",
        "google_id": "",
        "openid_connect_id": "",
        "entries_per_page": 100,
        "keyboard_shortcuts": True,
        "show_reading_time": True,
        "entry_swipe": True,
        "gesture_nav": "tap",
        "last_login_at": iso(user.last_login_at) if user.last_login_at else None,
        "display_mode": "standalone",
        "default_reading_speed": READING_SPEED,
        "cjk_reading_speed": 500,
        "default_home_page": "unread",
        "categories_sorting_order": "unread_count",
        "mark_read_on_view": user.preferences.mark_read_on_open,
        "mark_read_on_media_player_completion": False,
        "media_playback_rate": 1.0,
        "block_filter_entry_rules": "",
        "keep_filter_entry_rules": "",
        "always_open_external_links": False,
    }


# Miniflux's names for a feed's own options (issue 16) → ours.
_MINIFLUX_OPTIONS = {
    "user_agent": "user_agent",
    "scraper_rules": "extract_body",
    "ignore_http_cache": "ignore_cache_hints",
    "cookie": "cookie",
    "username": "username",
    "password": "password",
}


def feed_options_of(data: dict[str, Any], current: FeedOptions | None = None) -> dict[str, Any]:
    """The per-feed options a Miniflux feed body asks for, as ``Desk.set_feed_options`` takes
    them: only those that differ from ``current`` (a client sends the whole feed back). An
    empty secret changes nothing: we never show one, so "" is what a client got back."""
    current = current or FeedOptions()
    wanted: dict[str, Any] = {}
    for theirs, ours in _MINIFLUX_OPTIONS.items():
        value = data.get(theirs)
        if value is None or (ours in SECRET_NAMES and value == ""):
            continue
        if ours in SECRET_NAMES:
            wanted[ours] = value
            continue
        now = getattr(current, ours)
        if value != (now if now is not None else ""):
            wanted[ours] = value
    crawler = data.get("crawler")
    if isinstance(crawler, bool) and crawler != (current.fulltext is True):
        wanted["fulltext"] = True if crawler else None
    elif crawler is not None and not isinstance(crawler, bool):
        wanted["fulltext"] = crawler  # refused by the check, with its reason
    return wanted

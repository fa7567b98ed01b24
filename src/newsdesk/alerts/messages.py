"""What an alert says on each channel: pure functions from a watchlist and entries to the bytes
sent, so the formats are tested without a network.

Webhook: a JSON body signed with HMAC-SHA256 of the exact bytes sent (``X-Newsdesk-Signature:
sha256=<hex>``); the timestamp is in the body too, so the signature covers it and a receiver can
refuse replays. ntfy: the plain-text body and the Title/Click/Tags/Priority headers of ntfy's
publish API (non-ASCII titles RFC 2047-encoded, which ntfy decodes). E-mail: text and HTML.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from html import escape
from typing import Any

from yarl import URL

from newsdesk.store.watchlists import Watchlist
from newsdesk.util import iso

EVENTS = ("alert", "digest", "test")
SNIPPET_CHARS = 280
NTFY_LISTED = 10  # entries a digest push lists by title (ntfy keeps messages short)
DEFAULT_NTFY_TAGS = ("newspaper",)


@dataclass(frozen=True, slots=True)
class AlertEntry:
    id: int
    title: str | None
    url: str | None
    feed: str | None
    published: datetime
    story_id: int | None
    snippet: str

    @property
    def label(self) -> str:
        return self.title or self.snippet[:80] or f"entry {self.id}"

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "feed": self.feed,
            "published": iso(self.published),
            "story_id": self.story_id,
            "snippet": self.snippet,
        }


@dataclass(frozen=True, slots=True)
class HttpMessage:
    url: str
    body: bytes
    headers: dict[str, str]


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The start of the text on one line, cut at a word."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] or flat[:limit]
    return cut.rstrip(" ,.;:") + "…"


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of ``body``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def headline(watchlist: Watchlist, entries: Sequence[AlertEntry], event: str) -> str:
    if event == "test":
        return f"Newsdesk test: {watchlist.name}"
    if event == "alert" and len(entries) == 1:
        return f"{watchlist.name}: {entries[0].label}"
    count = len(entries)
    return f"{watchlist.name}: {count} new entr{'y' if count == 1 else 'ies'}"


def webhook_request(
    watchlist: Watchlist,
    entries: Sequence[AlertEntry],
    *,
    event: str,
    now: datetime,
    url: str,
    secret: str,
) -> HttpMessage:
    payload = {
        "event": event,
        "sent_at": iso(now),
        "watchlist": {"id": watchlist.id, "name": watchlist.name, "mode": watchlist.mode},
        "entries": [e.as_dict() for e in entries],
    }
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Newsdesk-Event": event,
        "X-Newsdesk-Timestamp": str(int(now.timestamp())),
    }
    if secret:
        headers["X-Newsdesk-Signature"] = sign(secret, body)
    return HttpMessage(url=url, body=body, headers=headers)


def _header_text(value: str) -> str:
    """ASCII as is; anything else as an RFC 2047 encoded word (HTTP headers are bytes)."""
    flat = " ".join(value.split())[:250]
    if flat.isascii():
        return flat
    return Header(flat, "utf-8").encode(maxlinelen=10_000)


def _entry_lines(entry: AlertEntry, *, with_snippet: bool) -> list[str]:
    lines = [entry.label]
    source = " · ".join(p for p in (entry.feed, iso(entry.published)[:10]) if p)
    if source:
        lines.append(source)
    if with_snippet and entry.snippet and entry.snippet != entry.title:
        lines.append(entry.snippet)
    if entry.url:
        lines.append(entry.url)
    return lines


def ntfy_request(
    watchlist: Watchlist,
    entries: Sequence[AlertEntry],
    *,
    event: str,
    conf: Mapping[str, Any],
) -> HttpMessage:
    if event == "test":
        body = f"Test push from Newsdesk for the watchlist “{watchlist.name}”."
    elif len(entries) == 1:
        body = "\n".join(_entry_lines(entries[0], with_snippet=True)[1:])
    else:
        lines = [f"• {e.label}" for e in entries[:NTFY_LISTED]]
        if len(entries) > NTFY_LISTED:
            lines.append(f"… and {len(entries) - NTFY_LISTED} more")
        body = "\n".join(lines)
    headers = {
        "Content-Type": "text/plain; charset=utf-8",
        "Title": _header_text(headline(watchlist, entries, event)),
        "Tags": ",".join(conf.get("tags") or DEFAULT_NTFY_TAGS),
    }
    if len(entries) == 1 and entries[0].url:
        with contextlib.suppress(ValueError):  # percent-encoded: headers are ASCII
            headers["Click"] = str(URL(entries[0].url))
    if conf.get("priority"):
        headers["Priority"] = str(conf["priority"])
    if conf.get("token"):
        headers["Authorization"] = f"Bearer {conf['token']}"
    return HttpMessage(url=str(conf["url"]), body=body.encode("utf-8"), headers=headers)


def email_parts(
    watchlist: Watchlist, entries: Sequence[AlertEntry], *, event: str
) -> tuple[str, str, str]:
    """(subject, text, html) of the e-mail."""
    subject = "[Newsdesk] " + headline(watchlist, entries, event)
    if event == "test":
        intro = f"Test message from Newsdesk for the watchlist “{watchlist.name}”."
    else:
        intro = f"New in your watchlist “{watchlist.name}”:"
    text_parts = [intro, ""]
    html_parts = [f"<p>{escape(intro)}</p>"]
    if entries:
        html_parts.append("<ul>")
    for entry in entries:
        text_parts += [*_entry_lines(entry, with_snippet=True), ""]
        title = escape(entry.label)
        if entry.url:
            title = f'<a href="{escape(entry.url, quote=True)}">{title}</a>'
        source = " · ".join(p for p in (entry.feed, iso(entry.published)[:10]) if p)
        item = f"<li><strong>{title}</strong><br><small>{escape(source)}</small>"
        if entry.snippet and entry.snippet != entry.title:
            item += f"<br>{escape(entry.snippet)}"
        html_parts.append(item + "</li>")
    if entries:
        html_parts.append("</ul>")
    html = (
        '<!doctype html><html><head><meta charset="utf-8"></head><body>'
        + "".join(html_parts)
        + "</body></html>"
    )
    return subject, "\n".join(text_parts).rstrip() + "\n", html

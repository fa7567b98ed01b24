"""Google Reader's Atom stream (``/reader/atom/STREAM``), the form FeedHQ, Inoreader and The Old
Reader also serve and some clients (newsboat's FeedHQ and Inoreader back ends) read: an Atom
feed whose entries carry the Reader item id and their state as ``<category>`` elements in the
``http://www.google.com/reader/`` scheme (``fresh`` while unread, ``read``, ``starred``)."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from newsdesk.model import Feed, StoredEntry
from newsdesk.util import iso
from newsdesk.web.api.titles import entry_title

SCHEME = "http://www.google.com/reader/"
STATE = "user/-/state/com.google/"


def _category(state: str) -> str:
    return (
        f"<category term={quoteattr(STATE + state)} scheme={quoteattr(SCHEME)} "
        f"label={quoteattr(state)}/>"
    )


def _entry(entry: StoredEntry, feed: Feed | None, item_id: str) -> str:
    states = ["reading-list", "read" if entry.read else "fresh"]
    if entry.starred:
        states.append("starred")
    parts = [
        f'<entry gr:crawl-timestamp-msec="{int(entry.first_seen.timestamp() * 1000)}">',
        f"<id>{escape(item_id)}</id>",
        *(_category(s) for s in states),
        # Titles are stored as plain text: sent as text, so no client decodes them into markup.
        f'<title type="text">{escape(entry_title(entry))}</title>',
        f"<published>{iso(entry.published)}</published>",
        f"<updated>{iso(entry.updated or entry.published)}</updated>",
    ]
    if entry.url:
        parts.append(f'<link rel="alternate" href={quoteattr(entry.url)} type="text/html"/>')
    for enclosure in entry.enclosures:
        parts.append(
            f'<link rel="enclosure" href={quoteattr(enclosure.url)} '
            f"type={quoteattr(enclosure.type or '')}/>"
        )
    parts.append(f'<content type="html">{escape(entry.content_html)}</content>')
    if entry.author:
        parts.append(f"<author><name>{escape(entry.author)}</name></author>")
    title = feed.display_title if feed else (entry.feed_title or "")
    parts.append(
        f'<source gr:stream-id="feed/{entry.feed_id}">'
        f"<id>tag:google.com,2005:reader/feed/{entry.feed_id}</id>"
        f"<title>{escape(title)}</title></source>"
    )
    parts.append("</entry>")
    return "".join(parts)


def render_atom(
    stream: str,
    title: str,
    entries: list[tuple[StoredEntry, str]],
    feeds: dict[int, Feed],
    continuation: str | None,
    site_url: str | None = None,
) -> str:
    """``entries`` pairs each entry with its long item id."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:gr="http://www.google.com/schemas/reader/atom/">',
        f"<id>tag:google.com,2005:reader/{escape(stream)}</id>",
        f"<title>{escape(title)}</title>",
        f"<updated>{iso(datetime.now(UTC))}</updated>",
    ]
    if site_url:
        parts.append(f'<link rel="alternate" href={quoteattr(site_url)} type="text/html"/>')
    if continuation:
        parts.append(f"<gr:continuation>{escape(continuation)}</gr:continuation>")
    parts.extend(_entry(e, feeds.get(e.feed_id), item_id) for e, item_id in entries)
    parts.append("</feed>")
    return "\n".join(parts)

"""The title the reader APIs give an entry: untitled posts (Mastodon, Bluesky) get one made
from their text, as Miniflux does at ingest (its ``TruncateHTML(content, 100)``, else the URL),
so apps listing titles do not show blank rows. Stored titles stay as the feed gave them: the
reading room shows posts as "@author: text", and stories compare stored titles."""

from __future__ import annotations

from newsdesk.model import StoredEntry

TITLE_CHARACTERS = 100  # as Miniflux truncates


def entry_title(entry: StoredEntry) -> str:
    """The stored title; else the first 100 characters of the text ("…" when cut); else the
    URL; else empty."""
    if entry.title and entry.title.strip():
        return entry.title
    text = " ".join(entry.content_text.split())
    if text:
        return text if len(text) <= TITLE_CHARACTERS else text[:TITLE_CHARACTERS] + "…"
    return entry.url or ""

"""Resolving the URLs a document gives against its base, without letting a malformed URL (an
unclosed IPv6 bracket, say) stop the parse."""

from __future__ import annotations

from urllib.parse import urljoin


def join(base: str, url: str) -> str | None:
    """``url`` resolved against ``base``; None when it cannot be read as a URL."""
    try:
        return urljoin(base, url)
    except ValueError:
        return None

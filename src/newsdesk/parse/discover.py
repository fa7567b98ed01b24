"""Find the feeds a web page advertises (``<link rel="alternate" type="application/rss+xml">``)."""

from __future__ import annotations

from lxml import html as lxml_html

from newsdesk.parse.links import join

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/json",
        "application/rdf+xml",
        "text/xml",
        "application/xml",
    }
)


def discover_feeds(page: bytes, url: str) -> list[tuple[str, str | None]]:
    """(feed URL, title) for each alternate link of a feed type, in page order."""
    try:
        doc = lxml_html.fromstring(page)
    except (ValueError, TypeError, Exception):
        return []
    base = doc.xpath("string(//base/@href)") or url
    found: list[tuple[str, str | None]] = []
    for link in doc.xpath("//link[@href]"):
        rels = (link.get("rel") or "").lower().split()
        mime = (link.get("type") or "").lower().split(";")[0].strip()
        if "alternate" in rels and mime in FEED_TYPES:
            page_base = join(url, str(base)) or url
            href = join(page_base, link.get("href").strip())
            if href is not None and href not in [f for f, _ in found]:
                found.append((href, (link.get("title") or "").strip() or None))
    return found

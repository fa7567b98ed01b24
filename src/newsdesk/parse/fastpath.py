"""When the fast path (fastfeedparser) cannot be trusted with a document, which then goes to
feedparser, and what of its reading we correct.

Two kinds of test: before the fast parse, on the bytes (substring tests first: a regular
expression's scan of a large body costs many times more); after it, on its result, where a
sign of loss is cheap to see and only then is the body scanned.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# What the fast path reads wrongly: xml:base; inline XHTML (Atom type="xhtml",
# application/xhtml+xml, <xhtml:body>), whose markup it drops; all of Atom 0.3 (mode="xml"
# and mode="base64" text).
_XHTML_MARKERS = re.compile(rb"type=[\"'](?:xhtml|application/xhtml\+xml)[\"']|<xhtml:body[\s>]")
_ATOM03 = b"purl.org/atom/ns#"
# An element of another namespace named "description" (or RSS's own, prefixed): the fast path
# goes by local names, so it may take it for the item's description.
_ODD_DESCRIPTION = re.compile(rb"<(?!media:|itunes:|content:)[\w.-]+:description[\s>]")
# Atom 1.0 content of a media type other than text, HTML or XML is base64 (RFC 4287 4.1.3.3):
# feedparser decodes it, the fast path does not.
_MEDIA_TYPED = re.compile(
    rb"<(?:[\w.-]+:)?(?:content|summary|title)\s[^>]*?\btype=[\"']"
    rb"(?!text/|[^\"']*xml[\"'])[\w.+-]+/"
)
_BASE64_TEXT = re.compile(r"^[A-Za-z0-9+/=\s]{8,}$")
# Inline markup in a description, summary or content element (not escaped, not CDATA).
_CHILD_MARKUP = re.compile(rb"<(?:description|summary|content)\b[^>]*>\s*<[A-Za-z]")
# An Atom link that gives its URL as text instead of in href.
_LINK_TEXT = re.compile(rb"<link\b[^>]*[^/]>\s*[a-zA-Z][\w+.-]*:")
_HTML_TITLE_MARKS = (b'<title type="html"', b"<title type='html'")


def needs_fallback(body: bytes) -> bool:
    """Documents the fast path is known to misread, told from their bytes."""
    if _ATOM03 in body[:4096] or b"xml:base" in body:
        return True
    if b"xhtml" in body and _XHTML_MARKERS.search(body):
        return True
    if b":description" in body and _ODD_DESCRIPTION.search(body):
        return True
    return _item_itunes_category(body) or _media_title_first(body)


def _item_itunes_category(body: bytes) -> bool:
    """iTunes categories inside an item (feedparser reads them as tags; the fast path does
    not). A channel's, before the first item, are the podcast's own: not wanted."""
    if b"<itunes:category" not in body:
        return False
    first = body.find(b"<item")
    return first != -1 and body.find(b"<itunes:category", first) != -1


def _media_title_first(body: bytes) -> bool:
    """A media:title before the item's own title: the fast path takes it for the title."""
    start = body.find(b"<media:title")
    while start != -1:
        end = body.find(b"</item>", start)
        if end != -1 and body.find(b"<title", start, end) != -1:
            return True
        start = body.find(b"<media:title", end) if end != -1 else -1
    return False


def misread(raw: Mapping[str, Any], body: bytes, fmt: str) -> bool:
    """Signs in the fast path's result that it lost something the document holds."""
    return _text_dropped(raw, body) or _base64_left(raw, body, fmt) or _link_text(raw, body, fmt)


def _text_dropped(raw: Mapping[str, Any], body: bytes) -> bool:
    """An item without text whose document has inline markup in a description or content, an
    RSS <body> or an old blog's <fullitem>: the fast path dropped that markup."""
    entries = raw.get("entries") or []
    if all(_has_text(entry) for entry in entries):
        return False
    return b"<body" in body or b"<fullitem" in body or bool(_CHILD_MARKUP.search(body))


def _has_text(entry: Mapping[str, Any]) -> bool:
    if entry.get("description"):
        return True
    return any(
        isinstance(part, Mapping) and part.get("value") for part in entry.get("content") or []
    )


def _link_text(raw: Mapping[str, Any], body: bytes, fmt: str) -> bool:
    if fmt != "atom" or all(entry.get("link") for entry in raw.get("entries") or []):
        return False
    return bool(_LINK_TEXT.search(body))


def _base64_left(raw: Mapping[str, Any], body: bytes, fmt: str) -> bool:
    """An Atom text the fast path left base64 encoded. The document is scanned only when an
    entry's content has a media type, or a title or summary reads as base64 (no spaces)."""
    if fmt != "atom":
        return False
    feed = raw.get("feed") or {}
    suspects = [feed.get("title")]
    for entry in raw.get("entries") or []:
        if any(is_media_type(part.get("type")) for part in entry.get("content") or []):
            return True
        suspects += (entry.get("title"), entry.get("description"))
    return any(
        isinstance(text, str) and " " not in text.strip() and _BASE64_TEXT.match(text)
        for text in suspects
    ) and bool(_MEDIA_TYPED.search(body))


def is_media_type(kind: Any) -> bool:
    """A MIME type that is neither text, HTML nor XML: its Atom content was base64."""
    if not isinstance(kind, str) or "/" not in kind:
        return False
    kind = kind.lower()
    return not (kind.startswith("text/") or kind.endswith("xml") or "html" in kind)


def html_titles(body: bytes, fmt: str) -> bool:
    """The fast path does not tell a title's type; an Atom document that marks titles as
    HTML (both quotings) has its titles read as HTML."""
    return fmt == "atom" and any(mark in body for mark in _HTML_TITLE_MARKS)


def drop_made_up_summaries(raw: Mapping[str, Any], body: bytes, fmt: str) -> None:
    """Lacking a description, the fast path makes one of the content's text (script code
    included), which we would take for the feed's own summary. When the document holds no
    item description or summary element at all (counted cheaply: a channel's description
    opens and closes once), every such description is made up: drop it."""
    if fmt == "rss":
        own = body.count(b"description>") > 2 or b"summary" in body
    else:
        own = b"summary" in body
    if own:
        return
    for entry in raw.get("entries") or []:
        if entry.get("content") and isinstance(entry, dict):
            entry.pop("description", None)

"""When the fast path (fastfeedparser) cannot be trusted with a document, which then goes to
feedparser, and what of its reading we correct.

Two kinds of test: before the fast parse, on the bytes; after it, on its result, where a
sign of loss is cheap to see and only then is the body scanned. Every scan of a whole body
costs a good part of what the fast parse does (about a fifth for one substring test), so
what depends on how a feed writes its items (they come from one template) is looked for in
its first item only: :func:`first_item`.
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
# Whether a body holds "xml:base" or "xhtml" at all: one regular-expression scan for both costs
# a fraction of two substring tests (which go by the last byte of the word, common in text).
_XML_BASE_OR_XHTML = re.compile(rb"xml:base|xhtml")
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
_PREFIXED_ITEM = re.compile(rb"<([\w.-]{1,16}:(?:item|entry))[\s>]")
_OWN_SUMMARY_MARKS = (b"<description", b":description", b"<summary", b":summary")
_HTML_TITLE_MARKS = (b'<title type="html"', b"<title type='html'")


def first_item(body: bytes, fmt: str) -> tuple[bytes, bytes]:
    """The document up to the end of its first item or entry, and that item alone (empty
    when there is none)."""
    name = b"entry" if fmt == "atom" else b"item"
    start = body.find(b"<" + name)
    closing = b"</" + name + b">"
    if start == -1 and (prefixed := _PREFIXED_ITEM.search(body)):  # <r:item>, rare
        start, closing = prefixed.start(), b"</" + prefixed.group(1) + b">"
    if start == -1:
        return body[:65536], b""
    end = body.find(closing, start)
    end = len(body) if end == -1 else end + len(closing)
    return body[:end], body[start:end]


def needs_fallback(body: bytes, item: bytes) -> bool:
    """Documents the fast path is known to misread, told from their bytes (``item``: the
    first item, see :func:`first_item`). iTunes categories inside an item are tags to
    feedparser, not to the fast path (a channel's are the podcast's own: not wanted); a
    media:title before the item's title is taken for it."""
    if _ATOM03 in body[:4096]:
        return True
    if _XML_BASE_OR_XHTML.search(body) is not None:  # one scan of the body, rarely a match
        if b"xml:base" in body:
            return True
        if b"xhtml" in body and _XHTML_MARKERS.search(body):
            return True
    if b":description" in item and _ODD_DESCRIPTION.search(item):
        return True
    if b"<itunes:category" in item:
        return True
    media_title = item.find(b"<media:title")
    return media_title != -1 and item.find(b"<title", media_title) != -1


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


def html_titles(head: bytes, fmt: str) -> bool:
    """The fast path does not tell a title's type; an Atom document that marks titles as
    HTML (both quotings; in ``head``, the document through its first entry) has its titles
    read as HTML."""
    return fmt == "atom" and any(mark in head for mark in _HTML_TITLE_MARKS)


def drop_made_up_summaries(raw: Mapping[str, Any], item: bytes) -> None:
    """Lacking a description, the fast path makes one of the content's text (script code
    included), which we would take for the feed's own summary. When the first item has no
    description or summary element, such descriptions are made up: dropped."""
    if not item or any(mark in item for mark in _OWN_SUMMARY_MARKS):
        return
    for entry in raw.get("entries") or []:
        if entry.get("content") and isinstance(entry, dict):
            entry.pop("description", None)

"""Cheap looks at raw bytes before parsing: is it JSON, HTML or XML; remove DOCTYPEs."""

from __future__ import annotations

import re

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
# A DOCTYPE, with its internal subset if any: removing it stops entity expansion (billion laughs)
# and external entities (XXE) before any XML parser sees the document.
_DOCTYPE = re.compile(rb"<!DOCTYPE[^>\[]*(\[.*?\])?\s*>", re.IGNORECASE | re.DOTALL)
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*(<!doctype\s+html|<html)", re.I | re.DOTALL)
_FEED_ROOT = re.compile(rb"<(rss|feed|rdf:RDF|RDF)[\s>]", re.I)


def strip_bom(body: bytes) -> bytes:
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:]
    return body


def looks_like_json(body: bytes) -> bool:
    return strip_bom(body).lstrip()[:1] in (b"{", b"[")


def looks_like_html(body: bytes) -> bool:
    head = strip_bom(body)[:4096]
    if _HTML_START.match(head):
        return True
    return b"<html" in head.lower() and not _FEED_ROOT.search(head)


def is_utf16(body: bytes) -> bool:
    return body.startswith((b"\xff\xfe", b"\xfe\xff"))


_GENERAL_ENTITY = re.compile(rb"<!ENTITY\s+[^%\s]", re.I)


def strip_doctype(body: bytes) -> tuple[bytes, bool]:
    """Remove DOCTYPE declarations; True when one declared general entities (which the
    document may then use, unexpanded). Parameter entities (``<!ENTITY % x ...>``) act inside
    the DOCTYPE only: removing them changes nothing. Text that looks like a DOCTYPE inside a
    comment or a CDATA section is text, kept."""
    found_subset = False

    def drop(match: re.Match[bytes]) -> bytes:
        nonlocal found_subset
        start = match.start()
        # The words "<!DOCTYPE" inside a comment, or inside a CDATA section past the root
        # element (a prolog holds none), are text. Entity declarations are refused anyway.
        if head.rfind(b"<!--", 0, start) > head.rfind(b"-->", 0, start):
            return match.group(0)
        past_root = root is not None and start > root.start()
        if past_root and head.rfind(b"<![CDATA[", 0, start) > head.rfind(b"]]>", 0, start):
            return match.group(0)
        subset = match.group(1)
        found_subset = found_subset or (subset is not None and bool(_GENERAL_ENTITY.search(subset)))
        return b""

    head, tail = body[:65536], body[65536:]
    if b"<!" not in head:
        return body, False
    root = _FEED_ROOT.search(head)
    return _DOCTYPE.sub(drop, head, count=4) + tail, found_subset

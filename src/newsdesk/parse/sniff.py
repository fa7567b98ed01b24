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


def strip_doctype(body: bytes) -> tuple[bytes, bool]:
    """Remove DOCTYPE declarations; True when one carried an internal subset (entities)."""
    found_subset = False

    def drop(match: re.Match[bytes]) -> bytes:
        nonlocal found_subset
        found_subset = found_subset or match.group(1) is not None
        return b""

    head, tail = body[:65536], body[65536:]
    if b"<!" not in head:
        return body, False
    return _DOCTYPE.sub(drop, head, count=4) + tail, found_subset

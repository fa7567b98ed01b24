"""Byte-level repairs applied before XML parsing, each recorded as a problem on the feed.

Real feeds break XML in a few common ways that lose data in a strict or recovering parser:
bytes that are not the declared UTF-8 (usually Windows-1252), HTML named entities that XML does
not define (``&nbsp;``), and bare ampersands. We repair them outside CDATA sections and
comments.
"""

from __future__ import annotations

import html.entities
import re

_DECLARED = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']", re.I)
_SUSPECT_AMP = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)")
# CDATA sections and comments: no entity is read there, so a bare "&" in them is legal XML.
_VERBATIM = re.compile(rb"(<!\[CDATA\[.*?\]\]>|<!--.*?-->)", re.DOTALL)
_NAMED = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
_BARE_AMP = re.compile(rb"&(?!(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]+|#x[0-9a-fA-F]+);)")
_XML_NAMED = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})


def declared_encoding(body: bytes) -> str | None:
    match = _DECLARED.match(body[:200])
    return match.group(1).decode("ascii").lower() if match else None


def repair_utf8(body: bytes) -> tuple[bytes, str | None]:
    """When a document that is (or claims to be) UTF-8 holds invalid bytes, decode those bytes
    as Windows-1252 instead of dropping them."""
    encoding = declared_encoding(body)
    if encoding not in (None, "utf-8", "utf8"):
        return body, None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return body, None
    text = body.decode("utf-8", errors="surrogateescape")
    fixed = re.sub(
        "[\udc80-\udcff]+",
        lambda m: bytes(ord(c) - 0xDC00 for c in m.group()).decode("cp1252", errors="replace"),
        text,
    )
    return fixed.encode("utf-8"), (
        "the feed is not valid UTF-8 as declared; invalid bytes were read as Windows-1252"
    )


def _fix_entities(segment: bytes) -> bytes:
    def named(match: re.Match[bytes]) -> bytes:
        name = match.group(1)
        if name in _XML_NAMED:
            return match.group(0)
        codepoint = html.entities.name2codepoint.get(name.decode("ascii"))
        if codepoint is None:
            return b"&amp;" + name + b";"
        return b"&#%d;" % codepoint

    return _BARE_AMP.sub(b"&amp;", _NAMED.sub(named, segment))


def repair_entities(body: bytes) -> tuple[bytes, str | None]:
    """Turn HTML named entities into character references and escape bare ampersands, outside
    CDATA sections and comments. Cheap when there is nothing to repair."""
    if _SUSPECT_AMP.search(body) is None:
        return body, None
    parts = _VERBATIM.split(body)
    changed = False
    for index in range(0, len(parts), 2):  # even indexes are outside CDATA and comments
        if b"&" in parts[index]:
            fixed = _fix_entities(parts[index])
            if fixed != parts[index]:
                parts[index] = fixed
                changed = True
    if not changed:
        return body, None
    return b"".join(parts), "the feed has undefined entities or unescaped '&'; they were repaired"

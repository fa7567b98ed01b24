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
# Also a reference to U+0080..U+009F (see repair_c1): one scan finds both.
_SUSPECT_AMP = re.compile(
    rb"&(?!(?:amp|lt|gt|quot|apos|#(?!1[2-5][0-9];)[0-9]+|#x(?![89][0-9a-fA-F];)[0-9a-fA-F]+);)"
)
# CDATA sections and comments: no entity is read there, so a bare "&" in them is legal XML.
_VERBATIM = re.compile(rb"(<!\[CDATA\[.*?\]\]>|<!--.*?-->)", re.DOTALL)
_NAMED = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
_BARE_AMP = re.compile(rb"&(?!(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]+|#x[0-9a-fA-F]+);)")
_XML_NAMED = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})
_UPPER_HEX_REF = re.compile(rb"&#X([0-9a-fA-F]+);")
# U+0080..U+009F are C1 controls nobody means: a feed holding them (as UTF-8 or as a character
# reference such as &#146;) was written as Windows-1252. Browsers read them so (HTML5's numeric
# character reference rule); so do we.
_C1_RAW = re.compile(rb"\xc2[\x80-\x9f]")
_C1_REF = re.compile(rb"&#(1[2-5][0-9]|x[89][0-9a-fA-F]);")
_LATIN1 = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "iso_8859-1"})
_C1_BYTE = re.compile(rb"[\x80-\x9f]")


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


def _cp1252(code: int) -> bytes | None:
    try:
        return bytes([code]).decode("cp1252").encode("utf-8")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: undefined, kept as they are
        return None


_C1_TABLE = {code: fixed.decode("utf-8") for code in range(0x80, 0xA0) if (fixed := _cp1252(code))}


def _ref_to_cp1252(ref: bytes, whole: bytes) -> bytes:
    code = int(ref[1:], 16) if ref.startswith(b"x") else int(ref)
    fixed = _cp1252(code) if 0x80 <= code <= 0x9F else None
    # A reference stays one: in an attribute or in markup, text must stay escaped.
    return b"&#%d;" % ord(fixed.decode("utf-8")) if fixed is not None else whole


def _c1_raw_to_cp1252(match: re.Match[bytes]) -> bytes:
    return _cp1252(match.group(0)[1]) or match.group(0)


def _c1_ref_to_cp1252(match: re.Match[bytes]) -> bytes:
    return _ref_to_cp1252(match.group(1), match.group(0))


def repair_c1(body: bytes) -> tuple[bytes, str | None]:
    """Windows-1252 code points written as U+0080..U+009F in UTF-8 are read as the
    Windows-1252 characters they stand for (written as references, ``&#146;``, they are
    mended by :func:`repair_entities`, whose scan finds them). Not recorded as a problem: the
    document is well formed, and this is how a browser reads it. In a UTF-8 document only
    (other encodings are decoded to UTF-8 before, or read by the parser)."""
    # A one-byte substring test (memchr) first: far cheaper than the expression's scan.
    if b"\xc2" not in body or declared_encoding(body) not in (None, "utf-8", "utf8"):
        return body, None
    return _C1_RAW.sub(_c1_raw_to_cp1252, body), None


def repair_latin1(body: bytes) -> tuple[bytes, str | None]:
    """A document declared ISO-8859-1 whose bytes 0x80..0x9F are used is Windows-1252 (the
    WHATWG Encoding Standard reads the label so): decode it as such, as UTF-8."""
    if declared_encoding(body) not in _LATIN1 or not _C1_BYTE.search(body):
        return body, None
    text = body.decode("latin-1").translate(_C1_TABLE)
    text = re.sub(r"^(\s*<\?xml[^>]*encoding=[\"'])[^\"']+", r"\1utf-8", text, count=1)
    return text.encode("utf-8"), None


def _fix_entities(segment: bytes) -> bytes:
    def named(match: re.Match[bytes]) -> bytes:
        name = match.group(1)
        if name in _XML_NAMED:
            return match.group(0)
        codepoint = html.entities.name2codepoint.get(name.decode("ascii"))
        if codepoint is None:
            return b"&amp;" + name + b";"
        return b"&#%d;" % codepoint

    segment = _UPPER_HEX_REF.sub(rb"&#x\1;", segment)  # HTML reads "&#X41;"; XML does not
    return _BARE_AMP.sub(b"&amp;", _NAMED.sub(named, segment))


def repair_entities(body: bytes) -> tuple[bytes, str | None]:
    """Turn HTML named entities into character references and escape bare ampersands, outside
    CDATA sections and comments. Cheap when there is nothing to repair."""
    if b"&" not in body or _SUSPECT_AMP.search(body) is None:  # memchr first: far cheaper
        return body, None
    parts = _VERBATIM.split(body)
    changed = mended = False
    for index in range(0, len(parts), 2):  # even indexes are outside CDATA and comments
        if b"&" in parts[index]:
            part = _C1_REF.sub(_c1_ref_to_cp1252, parts[index])  # not a problem: repair_c1
            fixed = _fix_entities(part)
            changed = changed or fixed != part
            mended = mended or fixed != parts[index]
            parts[index] = fixed
    if not mended:
        return body, None
    problem = "the feed has undefined entities or unescaped '&'; they were repaired"
    return b"".join(parts), problem if changed else None

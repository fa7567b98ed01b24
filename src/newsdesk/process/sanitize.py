"""HTML sanitizing (nh3 allowlist) with URL resolution, and HTML → plain text.

Every URL attribute is made absolute against the item's base and kept only when its scheme is
http(s) (or mailto for links); ``javascript:``, ``data:``, ``vbscript:`` and the rest are dropped,
entity-encoded or not, because the filter sees values after entity decoding.
"""

from __future__ import annotations

import html as html_module
import re
from typing import Any

import nh3

from newsdesk.process.urls import absolute

ALLOWED_TAGS = (
    nh3.ALLOWED_TAGS
    - {"nav", "header", "footer", "map", "area", "center", "acronym", "strike", "tt"}
) | {"audio", "video", "source", "picture", "figure", "figcaption"}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "title", "width", "height"},
    "audio": {"src", "controls", "preload"},
    "video": {"src", "controls", "poster", "width", "height", "preload"},
    "source": {"src", "type"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "time": {"datetime"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start", "reversed"},
    "abbr": {"title"},
}
# Dropped with what they hold. Not <object>: what it holds is its fallback, the HTML a browser
# shows when it does not run the object (nor do we), so it is kept, cleaned like the rest.
_DROP_WITH_CONTENT = {
    "script",
    "style",
    "template",
    "noscript",
    "iframe",
    "embed",
    "form",
    "button",
    "select",
    "textarea",
    "svg",
    "math",
    "frameset",
    "frame",
    "applet",
    "title",
    "head",
    "meta",
    "base",
    "link",
}


# C0/C1 control characters other than tab and newlines: terminal escapes (ESC, CSI, OSC, BEL)
# in text we print, and characters XML 1.0 forbids in documents we publish.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# The same set, for ASCII text: ``bytes.translate`` deletes them in one pass, several times
# faster than the regular expression (most text is ASCII).
_ASCII_CONTROLS = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def strip_controls(text: str) -> str:
    """``text`` without control characters (tab, CR and LF kept)."""
    if text.isascii():
        data = text.encode("ascii")
        kept = data.translate(None, _ASCII_CONTROLS)
        return text if len(kept) == len(data) else kept.decode("ascii")
    return _CONTROL.sub("", text)


# What a browser would start a tag (or comment, doctype, processing instruction) with: "<" then
# a letter, "/", "!" or "?". "3 < 4" is text to a browser and stays.
_TAG_LIKE = re.compile(r"<[a-zA-Z/!?][^<>]*>")
_TAG_OPENING = re.compile(r"<[a-zA-Z/!?][^<>]*$")
_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);?")
# Each round peels one layer of escaping or nesting; more than this is an attack, and what is
# left is still stripped of anything tag-like by the last pass.
_MAX_ROUNDS = 8


def plain_text(text: str) -> str:
    """``text`` with no markup left in it, however often it was escaped: entities are decoded
    *before* tags are removed, and both are repeated until nothing changes. Stripping first and
    decoding after (the old order) turned ``&lt;img onerror=…&gt;`` into a live tag."""
    for _ in range(_MAX_ROUNDS):
        before = text
        if "&" in text and _ENTITY.search(text):
            text = html_module.unescape(text)
        if "<" in text:
            text = _TAG_OPENING.sub("", _TAG_LIKE.sub("", text))
        if text == before:
            return text
    return text.replace("<", "")  # still changing: keep no "<" at all


def one_line(text: str | None) -> str | None:
    """A title, author, tag, feed or category name: plain text (no markup, entities decoded),
    control characters removed, whitespace runs made one space."""
    if not text:
        return None
    if "<" in text or "&" in text:
        text = plain_text(text)
    return " ".join(strip_controls(text).split()) or None


_CLEANER_OPTIONS: dict[str, Any] = {
    "tags": ALLOWED_TAGS,
    "clean_content_tags": _DROP_WITH_CONTENT,
    "attributes": ALLOWED_ATTRIBUTES,
    "url_schemes": {"http", "https", "mailto"},
    "link_rel": "noopener noreferrer",
    "strip_comments": True,
}
# Building a cleaner costs three times what cleaning a page does: build it once. Its scheme
# allowlist drops javascript:, data:, vbscript: and the rest from href and src, entity-encoded or
# not (nh3 decodes before it checks).
_CLEANER = nh3.Cleaner(**_CLEANER_OPTIONS)
# Then relative URLs are made absolute and every URL attribute (cite and poster too, which the
# allowlist does not cover) is checked, in nh3's *output*: there every tag is well formed and
# every value double-quoted and escaped, so a regular expression reads it exactly as a browser
# would (raw input, with its unbalanced quotes, it could not).
_TAG = re.compile(r"""<[a-zA-Z][a-zA-Z0-9]*(?:\s+[^\s"'>/=]+(?:="[^"]*")?)*\s*/?>""")
_URL_ATTR = re.compile(r'(\s(?:href|src|cite|poster|longdesc)=)"([^"]*)"')
_ABSOLUTE = ("http://", "https://", "mailto:")


# A URL attribute whose value does not start with a lower-case absolute prefix, found from the
# '="' of each attribute (a literal: a fast scan). When there is none, every URL attribute is
# absolute already and there is nothing to fix; else each tag is looked at (``_absolutize``).
# Each attribute is tested on its own: a scan for whole ``name="value"`` pairs over the whole
# document could start in text (' cite="http://x' written in a paragraph), read on to the next
# quote and so swallow the attribute of the tag after it, left unchecked (javascript: kept).
_MAYBE_RELATIVE = re.compile(
    r'="(?:(?<=href=")|(?<=src=")|(?<=cite=")|(?<=poster=")|(?<=longdesc="))'
    r"(?!https?://|mailto:)"
)


def _needs_fixing(clean: str) -> bool:
    return _MAYBE_RELATIVE.search(clean) is not None


def _absolutize(clean: str, base: str | None) -> str:
    def fix_attr(match: re.Match[str]) -> str:
        value = html_module.unescape(match.group(2)).strip()
        if value.lower().startswith(_ABSOLUTE):
            return match.group(0)
        url = absolute(value, base) if base else value
        if url is None or not url.lower().startswith(_ABSOLUTE):
            url = ""  # javascript:, data:, unresolvable…: an empty value
        return f'{match.group(1)}"{html_module.escape(url)}"'

    return _TAG.sub(lambda tag: _URL_ATTR.sub(fix_attr, tag.group(0)), clean)


def sanitize_html(html: str, base: str | None) -> str:
    """Allowlisted, inert HTML with absolute http(s) URLs; links get rel="noopener noreferrer"."""
    if not html:
        return ""
    clean = _CLEANER.clean(html)
    if _needs_fixing(clean):
        clean = _absolutize(clean, base)
    return strip_controls(clean)


# nh3's output is normalised HTML (quoted attributes, no comments, no script or style, tag
# names in lower case), so text can be read from it with a few regular expressions, much
# faster than a tree walk; matched case-sensitively (a case-blind match costs twice as much).
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|li|blockquote|h[1-6]|pre|tr|dt|dd|figcaption|table|ul|ol|section|article|"
    r"figure|aside|details|summary|dl|hr)\b[^>]*>"
)
_BR = re.compile(r"<br\s*/?>")
_ANY_TAG = re.compile(r"<[^>]*>")
# Tidying: control characters removed, odd spaces (tab, CR, no-break space; VT and FF are
# controls) made spaces, runs of spaces made one, lines stripped, three or more line breaks
# made two. Each pass is one whose regular expression starts with a literal (a fast scan):
# spaces are everywhere in text, and a pattern that starts at each of them is slow.
_ODD_SPACE = re.compile(r"[\t\r\f\v\u00a0]")
_ODD_SPACES = ("\t", "\r", "\f", "\v", "\u00a0")
# ASCII text: controls deleted and tab, CR made spaces, in one ``bytes.translate``.
_ASCII_SPACES = bytes.maketrans(b"\t\r", b"  ")
_SPACE_RUN = re.compile(r"  +")
_BLANKS = re.compile(r"\n\n\n+")


def html_to_text(html: str) -> str:
    """Readable plain text of sanitized HTML (``sanitize_html``'s output: tag names in lower
    case): one paragraph per block element, separated by blank lines."""
    if not html:
        return ""
    if "<" in html:
        html = _ANY_TAG.sub("", _BR.sub("\n", _BLOCK_TAG.sub("\n\n", html)))
    return _tidy(html_module.unescape(html))


def _tidy(text: str) -> str:
    # character references (&#27;) decode to controls too
    if text.isascii():
        text = text.encode("ascii").translate(_ASCII_SPACES, _ASCII_CONTROLS).decode("ascii")
    else:
        text = strip_controls(text)
        if any(space in text for space in _ODD_SPACES):
            text = _ODD_SPACE.sub(" ", text)
    if "  " in text:  # the pattern's scan stops at every space: most text has no run
        text = _SPACE_RUN.sub(" ", text)
    # Lines are stripped only when one starts or ends with a space. Looked for line by line:
    # a text has few lines, and a search for "\n " stops at every space (3x as slow).
    lines = text.split("\n")
    if any(line[:1] == " " or line[-1:] == " " for line in lines):
        text = "\n".join([line.strip(" ") for line in lines])
    return _BLANKS.sub("\n\n", text).strip()

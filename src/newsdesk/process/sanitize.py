"""HTML sanitizing (nh3 allowlist) with URL resolution, and HTML → plain text.

Every URL attribute is made absolute against the item's base and kept only when its scheme is
http(s) (or mailto for links); ``javascript:``, ``data:``, ``vbscript:`` and the rest are dropped,
entity-encoded or not, because the filter sees values after entity decoding.
"""

from __future__ import annotations

import re
from functools import partial

import nh3

from newsdesk.process.urls import absolute

_URL_ATTRS = frozenset({"href", "src", "cite", "poster", "longdesc"})
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_MEDIA_SCHEMES = ("http://", "https://")

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
_DROP_WITH_CONTENT = {
    "script",
    "style",
    "template",
    "noscript",
    "iframe",
    "object",
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


def _filter(base: str | None, tag: str, attr: str, value: str) -> str | None:
    if attr not in _URL_ATTRS:
        return value
    url = absolute(value, base)
    if url is None:
        return None
    lowered = url.lower()
    allowed = _LINK_SCHEMES if tag == "a" else _MEDIA_SCHEMES
    return url if lowered.startswith(allowed) else None


def sanitize_html(html: str, base: str | None) -> str:
    """Allowlisted, inert HTML with absolute http(s) URLs; links get rel="noopener noreferrer"."""
    if not html:
        return ""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=partial(_filter, base),
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


_BLOCK = frozenset(
    {
        "p",
        "div",
        "li",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "pre",
        "tr",
        "dt",
        "dd",
        "figcaption",
        "hr",
        "table",
        "ul",
        "ol",
        "section",
        "article",
        "figure",
        "aside",
        "details",
        "summary",
        "dl",
    }
)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANKS = re.compile(r"\n{3,}")


def html_to_text(html: str) -> str:
    """Readable plain text: one paragraph per block element, separated by blank lines."""
    if not html:
        return ""
    if "<" not in html:
        import html as html_module

        return _tidy(html_module.unescape(html))
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return ""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        block = tag in _BLOCK
        if block:
            parts.append("\n\n")
        if tag == "br":
            parts.append("\n")
        if node.text and tag not in ("script", "style"):
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append("\n\n")

    walk(root)
    return _tidy("".join(parts))


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()

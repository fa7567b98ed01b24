"""OPML in and out: the subscription lists every feed reader exchanges."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import quoteattr

from lxml import etree

from newsdesk.errors import ParseError

MAX_OUTLINES = 200_000


@dataclass(slots=True, frozen=True)
class Outline:
    url: str
    title: str | None
    category: str | None
    site_url: str | None = None


def parse_opml(data: bytes) -> list[Outline]:
    """Every outline with an ``xmlUrl``; its category is the title of the enclosing outline
    (or the ``category`` attribute). Entities are never expanded, depth is bounded."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"the OPML file is not valid XML: {exc}") from None
    if root is None or root.tag != "opml":
        raise ParseError("the file is not OPML (its root element is not <opml>)")
    body = root.find("body")
    if body is None:
        raise ParseError("the OPML file has no <body>")
    found: list[Outline] = []
    # Iterative walk: deep nesting cannot exhaust the stack.
    stack: list[tuple[etree._Element, str | None]] = [(body, None)]
    while stack:
        node, category = stack.pop()
        children = [c for c in node if c.tag == "outline"]
        for child in reversed(children):
            url = (child.get("xmlUrl") or child.get("xmlurl") or "").strip()
            title = (child.get("title") or child.get("text") or "").strip() or None
            if url:
                if len(found) >= MAX_OUTLINES:
                    raise ParseError(f"the OPML file lists more than {MAX_OUTLINES} feeds")
                cat = (child.get("category") or "").strip().split(",")[0].strip("/ ") or category
                found.append(Outline(url, title, cat, (child.get("htmlUrl") or "").strip() or None))
            else:
                stack.append((child, title or category))
    found.reverse()
    return found


def render_opml(outlines: Iterable[Outline], title: str = "Newsdesk subscriptions") -> str:
    """OPML 2.0, one folder outline per category."""
    by_category: dict[str | None, list[Outline]] = {}
    for outline in outlines:
        by_category.setdefault(outline.category, []).append(outline)
    now = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{_esc(title)}</title><dateCreated>{now}</dateCreated></head>",
        "  <body>",
    ]
    for category in sorted(by_category, key=lambda c: (c is None, c or "")):
        indent = "    "
        if category is not None:
            lines.append(f"    <outline text={_attr(category)} title={_attr(category)}>")
            indent = "      "
        for o in by_category[category]:
            name = o.title or o.url
            attrs = f'type="rss" text={_attr(name)} title={_attr(name)} xmlUrl={_attr(o.url)}'
            if o.site_url:
                attrs += f" htmlUrl={_attr(o.site_url)}"
            lines.append(f"{indent}<outline {attrs}/>")
        if category is not None:
            lines.append("    </outline>")
    lines += ["  </body>", "</opml>"]
    return "\n".join(lines) + "\n"


# Characters XML 1.0 does not allow in a document (a title from a feed may carry them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _attr(text: str) -> str:
    return quoteattr(_NOT_XML.sub("", text))


def _esc(text: str) -> str:
    text = _NOT_XML.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

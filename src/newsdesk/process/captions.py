"""Figure captions and photo credits: kept in an extracted page's HTML, left out of its plain text.

The reading room shows a page's pictures, so the HTML keeps them with their captions. The plain
text feeds search, stories, entities and digests, where "The mayor opens the new bridge.
Photo: Ana Lima" is not the article. The extractor flattens a ``<figcaption>`` into an ordinary
paragraph, so captions are marked in the page before extraction with two private-use characters
that survive it (``OPEN`` before a caption's text, ``CLOSE`` after it); the text drops what lies
between them, the HTML only the marks.

A caption is what trafilatura itself leaves out when it is not asked for images: a ``<figure>``
(unless it holds a table, which trafilatura reads as a table) and an element named a caption
(``<figcaption>``, or a ``div``/``p``/``span``/``section`` whose class or id says *caption*).
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

# From the supplementary private-use plane: icon fonts put their glyphs at U+E000 and up, so a
# page may hold those, never these.
OPEN = "\U0010fffc"
CLOSE = "\U0010fffd"
_CAPTIONS = etree.XPath(
    "//body//figure[not(.//table)] | //body//figcaption"
    " | //body//*[contains(@class, 'caption') or contains(@id, 'caption')]"
)
# A "caption" longer than this is an article wrapped in a figure or a class name that lies.
_CAPTION_MAX = 600
_BLANK_RUN = re.compile(r"\n\s*\n\s*")
_MARKS = re.compile(f"[{OPEN}{CLOSE}]")


def _outermost(nodes: list[Any]) -> list[Any]:
    chosen = set(nodes)
    return [n for n in nodes if not any(a in chosen for a in n.iterancestors())]


def _text_slots(node: Any) -> list[tuple[Any, str]]:
    """The places text sits inside ``node``, in reading order: (element, "text" or "tail")."""
    slots = []
    for event, element in etree.iterwalk(node, events=("start", "end")):
        if not isinstance(element.tag, str):
            continue  # a comment's text is not the page's
        if event == "start":
            slots.append((element, "text"))
        elif element is not node:
            slots.append((element, "tail"))
    return slots


def mark_captions(tree: Any) -> int:
    """Put the marks around every caption's text in ``tree`` (in place); how many were marked."""
    marked = 0
    for node in _outermost(list(_CAPTIONS(tree))):
        text = " ".join("".join(node.itertext()).split())
        if not text or len(text) > _CAPTION_MAX:
            continue
        slots = [slot for slot in _text_slots(node) if getattr(*slot) and getattr(*slot).strip()]
        first, last = slots[0], slots[-1]
        # on the text itself: the extractor drops whitespace between a figure's tags, marks too
        setattr(*first, OPEN + getattr(*first))
        setattr(*last, getattr(*last) + CLOSE)
        marked += 1
    return marked


def unmark(html_or_text: str) -> str:
    """``html_or_text`` with the marks removed and the captions kept."""
    return _MARKS.sub("", html_or_text)


def drop_captions(text: str) -> str:
    """Plain ``text`` without the marked captions: a mark the extractor lost the closing half of
    ends at the end of its line (blocks are lines in the plain text)."""
    if OPEN not in text:
        return unmark(text)
    kept, start = [], 0
    while (begin := text.find(OPEN, start)) >= 0:
        kept.append(text[start:begin])
        end = text.find(CLOSE, begin)
        reopened = text.find(OPEN, begin + 1)
        if end < 0 or 0 <= reopened < end or end - begin > 2 * _CAPTION_MAX:
            # the closing mark is lost: the caption ends with its paragraph
            end = text.find("\n\n", begin)
            end = len(text) if end < 0 else end - 1
        start = end + 1
    kept.append(text[start:])
    return _BLANK_RUN.sub("\n\n", unmark("".join(kept))).strip()

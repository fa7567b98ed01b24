"""Main text of a web page, without the site's boilerplate, as sanitized HTML and plain text, with
the page's own metadata (title, author, date, site name).

The page is parsed once; trafilatura reads the metadata and the main text from that one tree.
Nothing is removed from the page before extraction except what a user's extraction rule names and
a few elements that can only be widgets (see ``boilerplate.drop_widgets``): class words such as
"share", "related" or "comments" sit on article containers too often to be trusted. Boilerplate
rules apply to what the extractor returned instead. trafilatura runs without its own fallback
first, and again with it when that text is short. When the result looks poor (too short, mostly
link text, a menu), readability-lxml reads the same tree and the better of the two is kept. Figure
captions stay in the HTML and leave the plain text (``captions.py``).
"""

from __future__ import annotations

import re
import unicodedata
from copy import deepcopy
from typing import Any

from lxml import etree

from newsdesk.model import PageText
from newsdesk.process.boilerplate import clean_extracted, covers, drop_widgets, quality
from newsdesk.process.captions import drop_captions, mark_captions, unmark
from newsdesk.process.extract_rules import ExtractRule, PlainRule, compiled_rule
from newsdesk.process.page_meta import read_page_meta
from newsdesk.process.sanitize import html_to_text, one_line, sanitize_html

__all__ = ["ExtractRule", "choose_extraction", "extract_page", "parse_page"]

# trafilatura's own fallback (its readability port and jusText, compared with its first result)
# is a sixth of its time and changes one page in sixteen, mostly pages where the first result is
# short or a menu: it runs only when trafilatura's quick result holds less text than this, or is
# poor (see ``quality``).
_CHECKED = 1000
_WRAPPER = re.compile(r"^\s*<html>\s*<body>|</body>\s*</html>\s*$")
# Below this many characters of text, or below this quality, the extraction is tried again.
_SHORT = 500
_POOR = 0.6
# readability-lxml's text replaces a short one when it is this much longer and holds this share
# of the short one's words: the same article, found whole.
_LONGER = 1.5
_SUPERSET = 0.9


def parse_page(page: bytes | str) -> Any:
    """One lxml tree for the whole pipeline (trafilatura decodes bytes in the page's charset)."""
    from trafilatura.utils import load_html

    try:
        return load_html(page)
    except (etree.ParserError, ValueError, TypeError):
        return None


def _metadata(tree: Any, final: str, result: PageText) -> None:
    meta = read_page_meta(tree, final)
    result.title = one_line(meta.title)
    result.author = one_line(meta.author)
    result.published = meta.date
    result.site_name = one_line(meta.site_name)


def _trafilatura(tree: Any, url: str, fast: bool) -> str:
    from trafilatura import bare_extraction
    from trafilatura.htmlprocessing import build_html_output

    # bare_extraction + build_html_output is what extract(output_format="html") does, less the
    # document fingerprint it computes and we never use. trafilatura copies a tree it is given,
    # so ``tree`` stays whole for a fallback.
    document: Any = bare_extraction(
        tree,
        url=url,
        output_format="html",
        include_comments=False,
        include_tables=True,
        include_images=True,
        include_links=True,
        deduplicate=False,
        with_metadata=False,
        fast=fast,
    )
    if document is None or document.body is None:
        return ""
    extracted = unicodedata.normalize("NFC", build_html_output(document))
    return _WRAPPER.sub("", extracted)


def _readability(tree: Any, url: str) -> str:
    import logging

    from readability import Document

    # readability-lxml logs every page it finds hard at INFO; a fallback is allowed to fail
    logging.getLogger("readability.readability").setLevel(logging.WARNING)
    try:
        return str(Document(deepcopy(tree), url=url).summary(html_partial=True))
    except Exception:  # readability raises its own Unparseable and lxml's errors alike
        return ""


def choose_extraction(
    tree: Any, url: str, body: str, measured: tuple[float, int] | None = None
) -> str:
    """``body`` (trafilatura's result), unless it is short or poor (mostly links, a menu) and
    readability-lxml reads the same page better: more of the same article (a superset of
    trafilatura's words), or an article where trafilatura found a menu. ``measured`` is the
    body's ``quality`` when the caller has it."""
    score, length = measured or quality(body)
    if length >= _SHORT and score >= _POOR:
        return body  # the common case: readability never runs
    other = _readability(tree, url)
    other_score, other_length = quality(other)
    if other_score < _POOR or not other_length:
        return body
    if not length:
        return other
    if other_length > _LONGER * length and covers(other, body) >= _SUPERSET:
        return other
    if score < _POOR and other_score >= score + 0.2 and other_length >= length / 2:
        return other
    return body


def _could_hold(page: bytes | str, *words: str) -> bool:
    """False when ``page`` names none of ``words`` (any case): a whole-tree search for them can
    be skipped. Pages in UTF-16 or UTF-32 are searched always."""
    if isinstance(page, str):
        lowered = page.lower()
        return any(word in lowered for word in words)
    if b"\x00" in page[:1024]:
        return True
    raw = page.lower()
    return any(word.encode() in raw for word in words)


def extract_page(
    page: bytes | str,
    url: str,
    final_url: str | None = None,
    rule: ExtractRule | None = None,
) -> PageText:
    """Extract the main text of ``page`` (fetched from ``url``, landing at ``final_url``),
    following ``rule`` (a body selector and selectors to drop) when one is given."""
    final = final_url or url
    result = PageText(url=url, final_url=final)
    if not page.strip():
        result.error = "the page is empty"
        return result
    tree = parse_page(page)
    if tree is None:
        result.error = "the page is not HTML that can be read"
        return result
    _metadata(tree, final, result)
    if rule is not None:
        rule.apply(tree)
    # each is a search of the whole tree, as long as a third of the extraction's own overhead
    if _could_hold(page, "onclick", "dialog"):
        drop_widgets(tree)
    if _could_hold(page, "caption", "figure"):
        mark_captions(tree)
    body = _trafilatura(tree, final, fast=True)
    measured = quality(body)
    if measured[1] < _CHECKED or measured[0] < _POOR:
        body = _trafilatura(tree, final, fast=False)  # again, with trafilatura's fallback
        measured = quality(body)
    body = choose_extraction(tree, final, body, measured)
    body = clean_extracted(body, result.title)
    if not body:
        result.error = "no main text found on the page"
        return result
    marked = sanitize_html(body, final)
    result.html = unmark(marked)
    result.text = drop_captions(html_to_text(marked))
    if not result.text:
        result.error = "no main text found on the page"
    return result


def extract_page_plain(
    page: bytes, url: str, final_url: str | None, rule: PlainRule | None
) -> PageText:
    """``extract_page`` for a worker process: the rule comes as plain data (see ``plain_rule``)."""
    return extract_page(page, url, final_url, compiled_rule(rule))

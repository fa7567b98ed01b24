"""Main text of a web page, without the site's boilerplate (trafilatura), as sanitized HTML and
plain text, with the page's own metadata (title, author, date, site name).

Before trafilatura sees a page we drop the widgets it sometimes keeps when images and links are
on (print and share buttons, cookie banners, newsletter boxes, related links); after it, the
leading kicker and title repeat, since the entry has its own title.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from newsdesk.model import PageText
from newsdesk.process.sanitize import html_to_text, one_line, sanitize_html

_BOILERPLATE = re.compile(
    r"(^|[-_\s])(print(friendly)?|pf-|share|sharing|social|cookie|consent|gdpr|newsletter|"
    r"subscribe|signup|related|recommend|promo|advert|ads?|sponsor|comments?|respond|reply|"
    r"breadcrumbs?|skip|popup|modal|banner|sidebar|widget|toolbar|byline-share|jp-relatedposts|"
    r"sharedaddy|outbrain|taboola)([-_\s]|$)",
    re.I,
)
_KEEP_TAGS = frozenset({"html", "body", "main", "article"})
_WS = re.compile(r"\s+")


def _preclean(page: str) -> str:
    try:
        doc = lxml_html.document_fromstring(page)
    except (etree.ParserError, ValueError):
        return page
    for node in list(doc.iter()):
        if not isinstance(node.tag, str) or node.tag in _KEEP_TAGS:
            continue
        marker = f"{node.get('class', '')} {node.get('id', '')}"
        if (marker.strip() and _BOILERPLATE.search(marker)) or (
            node.tag == "a"
            and (node.get("href") or "").strip() in ("#", "")
            and node.get("onclick")
        ):
            node.drop_tree()
    return str(lxml_html.tostring(doc, encoding="unicode"))


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip().casefold()


def _drop_leading_title(body_html: str, title: str | None) -> str:
    """Remove the kicker and headline repeat at the top of the extracted text."""
    if not title:
        return body_html
    try:
        root = lxml_html.fragment_fromstring(body_html, create_parent="div")
    except (etree.ParserError, ValueError):
        return body_html
    children = list(root)
    wanted = _norm(title)
    for index, child in enumerate(children[:4]):
        text = _norm(child.text_content())
        if text and (text == wanted or (wanted.startswith(text) and len(text) > 20)):
            for node in children[: index + 1]:
                root.remove(node)
            return "".join(str(lxml_html.tostring(c, encoding="unicode")) for c in root) + (
                root.text or ""
            )
    return body_html


def extract_page(page: bytes | str, url: str, final_url: str | None = None) -> PageText:
    """Extract the main text of ``page`` (fetched from ``url``)."""
    import trafilatura

    final = final_url or url
    result = PageText(url=url, final_url=final)
    if isinstance(page, bytes):
        from trafilatura.utils import decode_file

        text = str(decode_file(page))
    else:
        text = page
    if not text.strip():
        result.error = "the page is empty"
        return result
    cleaned = _preclean(text)
    metadata: Any = trafilatura.extract_metadata(text, default_url=final)
    extracted = trafilatura.extract(
        cleaned,
        url=final,
        output_format="html",
        include_comments=False,
        include_tables=True,
        include_images=True,
        include_links=True,
        deduplicate=False,
        with_metadata=False,
    )
    if metadata is not None:
        result.title = one_line(metadata.title)
        result.author = one_line(metadata.author)
        result.published = metadata.date
        result.site_name = one_line(metadata.sitename)
    if not extracted:
        result.error = "no main text found on the page"
        return result
    body = re.sub(r"^\s*<html>\s*<body>|</body>\s*</html>\s*$", "", extracted)
    body = _drop_leading_title(body, result.title)
    result.html = sanitize_html(body, final)
    result.text = html_to_text(result.html)
    if not result.text:
        result.error = "no main text found on the page"
    return result

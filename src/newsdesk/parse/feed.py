"""Bytes → ``ParsedFeed`` for RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed.

Fast path: fastfeedparser (lxml based). Fallback: feedparser, for what the fast path rejects and
for documents that use ``xml:base`` (which feedparser resolves and the fast path ignores). Both
return feedparser-shaped dicts; ``_from_dict`` turns either into our model. Before any XML parser
sees the bytes, DOCTYPEs are removed (no entity is ever expanded) and common breakage is repaired.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from newsdesk.errors import NotAFeedError, ParseError
from newsdesk.model import Enclosure, ParsedFeed, ParsedItem
from newsdesk.parse import sniff
from newsdesk.parse.dates import parse_date
from newsdesk.parse.jsonfeed import parse_json_feed
from newsdesk.parse.repair import repair_entities, repair_utf8

_TTL = re.compile(rb"<ttl>\s*(\d{1,7})\s*</ttl>", re.I)
_ROOT = re.compile(rb"<(rss|feed|rdf:RDF|RDF|channel)[\s>]", re.I)
_XHTML_WRAPPER = re.compile(r"^\s*<content\b[^>]*>\s*<div\b[^>]*>(.*)</div>\s*</content>\s*$", re.S)
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)

NOT_A_FEED = (
    "the URL returned an HTML page, not a feed (use `newsdesk add` with the page URL to find "
    "the feeds it links to)"
)


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse a feed document. Raises ``ParseError`` (``NotAFeedError`` for an HTML page) when
    nothing can be read; problems that did not stop us are listed in ``ParsedFeed.problems``."""
    if not body.strip():
        raise ParseError("the response is empty")
    if sniff.looks_like_json(body):
        return parse_json_feed(body, url)
    if sniff.is_utf16(body):
        body = _utf16_to_utf8(body)
    if sniff.looks_like_html(body):
        raise NotAFeedError(NOT_A_FEED)
    problems: list[str] = []
    body, had_subset = sniff.strip_doctype(sniff.strip_bom(body))
    if had_subset:
        problems.append("the feed declares a DOCTYPE with entities; it was removed unexpanded")
    if _ENTITY_DECL.search(body[:65536]):
        raise ParseError("the feed declares XML entities, which Newsdesk never expands")
    for repair in (repair_utf8, repair_entities):
        body, problem = repair(body)
        if problem:
            problems.append(problem)
    root = _ROOT.search(body[:8192])
    if root is None:
        raise ParseError(_not_xml_feed_message(body, content_type))
    fmt = _format_of(root.group(1))

    raw: Mapping[str, Any] | None = None
    if b"xml:base" not in body:
        raw = _fast_parse(body)
    if raw is None:
        raw = _fallback_parse(body, url, content_type, problems)
    parsed = _from_dict(raw, url, fmt)
    parsed.problems = problems + parsed.problems
    ttl = _TTL.search(body)
    if ttl:
        parsed.ttl_minutes = int(ttl.group(1))
    return parsed


def _utf16_to_utf8(body: bytes) -> bytes:
    text = body.decode("utf-16")
    text = re.sub(r"^(\s*<\?xml[^>]*encoding=[\"'])utf-16([\"'])", r"\1utf-8\2", text, flags=re.I)
    return text.encode("utf-8")


def _not_xml_feed_message(body: bytes, content_type: str | None) -> str:
    kind = f" ({content_type})" if content_type else ""
    if sniff.looks_like_html(body) or b"<body" in body[:8192].lower():
        return NOT_A_FEED
    return f"the response{kind} is not an RSS, Atom or JSON feed"


def _format_of(root: bytes) -> str:
    name = root.lower()
    if name == b"feed":
        return "atom"
    if name in (b"rdf:rdf", b"rdf"):
        return "rdf"
    return "rss"


def _fast_parse(body: bytes) -> Mapping[str, Any] | None:
    import fastfeedparser

    try:
        result: Mapping[str, Any] = fastfeedparser.parse(body)
    except Exception:  # any rejection sends the document to the fallback parser
        return None
    if not result.get("entries") and not (result.get("feed") or {}).get("title"):
        return None
    return result


def _fallback_parse(
    body: bytes, url: str, content_type: str | None, problems: list[str]
) -> Mapping[str, Any]:
    import feedparser

    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    result = feedparser.parse(
        body, response_headers=headers, sanitize_html=False, resolve_relative_uris=True
    )
    if not result.get("entries") and not result.get("feed", {}).get("title"):
        reason = result.get("bozo_exception")
        raise ParseError(f"the feed cannot be read: {reason or 'no feed elements found'}")
    if result.get("bozo"):
        exc = result.get("bozo_exception")
        if exc is not None and "CharacterEncodingOverride" not in type(exc).__name__:
            problems.append(f"malformed XML, read what could be read: {exc}")
    return dict(result)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _from_dict(raw: Mapping[str, Any], url: str, fmt: str) -> ParsedFeed:
    feed = raw.get("feed") or {}
    feed_base = _text(feed.get("base") if isinstance(feed, Mapping) else None) or url
    site = _site_url(feed, url)
    parsed = ParsedFeed(
        title=_text(feed.get("title")),
        site_url=urljoin(feed_base, site) if site else None,
        self_url=_self_url(feed, url),
        language=_text(feed.get("language")),
        format=fmt,
    )
    for entry in raw.get("entries") or []:
        parsed.items.append(_item(entry, url))
    return parsed


def _site_url(feed: Mapping[str, Any], url: str) -> str | None:
    for link in feed.get("links") or []:
        if link.get("rel") in (None, "alternate") and link.get("href"):
            return str(link["href"])
    link = _text(feed.get("link"))
    if link and link != url:
        return link
    return None


def _self_url(feed: Mapping[str, Any], url: str) -> str | None:
    for link in feed.get("links") or []:
        if link.get("rel") == "self" and link.get("href"):
            return urljoin(url, str(link["href"]))
    return None


def _item(entry: Mapping[str, Any], feed_url: str) -> ParsedItem:
    base = _text((entry.get("title_detail") or {}).get("base")) or feed_url
    link = _text(entry.get("link"))
    if link is None:
        for candidate in entry.get("links") or []:
            if candidate.get("rel") in (None, "alternate") and candidate.get("href"):
                link = str(candidate["href"])
                break
    content = _content(entry)
    summary = _text(entry.get("summary")) or _text(entry.get("description"))
    if summary and content and summary.strip() == content.strip():
        summary = None
    title = _text(entry.get("title"))
    if title and (entry.get("title_detail") or {}).get("type") == "text/html":
        title = _strip_tags(title)
    return ParsedItem(
        guid=_text(entry.get("id")),
        link=urljoin(base, link) if link else None,
        title=title,
        author=_author(entry),
        summary=summary,
        content=content,
        published=_date(entry, "published") or _date(entry, "created"),
        updated=_date(entry, "updated"),
        tags=_tags(entry),
        enclosures=_enclosures(entry, base),
        base=base,
        language=_text((entry.get("title_detail") or {}).get("language")),
    )


def _content(entry: Mapping[str, Any]) -> str | None:
    best: str | None = None
    for part in entry.get("content") or []:
        value = _text(part.get("value"))
        if not value:
            continue
        if part.get("type") == "xhtml" or value.startswith("<content"):
            match = _XHTML_WRAPPER.match(value)
            if match:
                value = match.group(1).strip()
        if part.get("type") == "text/plain" and best is not None:
            continue
        if best is None or part.get("type") in ("text/html", "html", "xhtml"):
            best = value
    return best


def _author(entry: Mapping[str, Any]) -> str | None:
    author = _text(entry.get("author"))
    if author:
        return author
    for person in entry.get("authors") or []:
        name = _text(person.get("name")) if isinstance(person, Mapping) else _text(person)
        if name:
            return name
    return None


def _date(entry: Mapping[str, Any], key: str) -> datetime | None:
    return parse_date(entry.get(key))


def _tags(entry: Mapping[str, Any]) -> list[str]:
    tags: list[str] = []
    for tag in entry.get("tags") or []:
        term = _text(tag.get("label")) or _text(tag.get("term"))
        if term and term not in tags:
            tags.append(term)
    return tags


def _enclosures(entry: Mapping[str, Any], base: str) -> list[Enclosure]:
    found: dict[str, Enclosure] = {}
    sources = list(entry.get("enclosures") or []) + list(entry.get("media_content") or [])
    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure":
            sources.append(link)
    for source in sources:
        href = _text(source.get("url")) or _text(source.get("href"))
        if not href:
            continue
        absolute = urljoin(base, href)
        if absolute in found:
            continue
        mime = _text(source.get("type"))
        if mime is None and source.get("medium"):
            mime = f"{source['medium']}/*"
        found[absolute] = Enclosure(url=absolute, type=mime, length=_length(source.get("length")))
    return list(found.values())


def _length(value: Any) -> int | None:
    try:
        length = int(value)
    except (TypeError, ValueError):
        return None
    return length if length >= 0 else None


_TAG = re.compile(r"<[^>]+>")


def _strip_tags(value: str) -> str:
    import html

    return html.unescape(_TAG.sub("", value)).strip()

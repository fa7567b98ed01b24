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

import newsdesk.parse.fastpath as fastpath
import newsdesk.parse.sniff as sniff
from newsdesk.errors import NotAFeedError, ParseError
from newsdesk.model import Enclosure, ParsedFeed, ParsedItem
from newsdesk.parse.dates import parse_date
from newsdesk.parse.jsonfeed import parse_json_feed
from newsdesk.parse.links import join
from newsdesk.parse.repair import (
    declared_encoding,
    repair_c1,
    repair_entities,
    repair_latin1,
    repair_utf8,
)

_TTL = re.compile(rb"<ttl>\s*(\d{1,7})\s*</ttl>", re.I)
# The root may carry a prefix bound to RSS's namespace (<r:rss xmlns:r="...">).
_ROOT = re.compile(rb"<(?:[A-Za-z][\w.-]{0,15}:)?(rss|feed|rdf:RDF|RDF|channel)[\s>]", re.I)
_XHTML_WRAPPER = re.compile(r"^\s*<content\b[^>]*>\s*<div\b[^>]*>(.*)</div>\s*</content>\s*$", re.S)
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)
# What strip_doctype and the entity check look for, in one scan of the first 64 KiB.
_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.I)
_CONTENT_WRAPPER = re.compile(r"^\s*<content\b[^>]*>(.*)</content>\s*$", re.S)
_LANGUAGE = re.compile(rb"<(?:language|dc:language)>\s*([A-Za-z][\w-]{0,34})\s*</", re.I)
_ROOT_LANG = re.compile(rb"<(?:feed|rss|rdf:RDF)\b[^>]*\bxml:lang=[\"']([\w-]{1,35})[\"']", re.I)
_SELF_LINK = re.compile(rb"<(?:atom:)?link\b[^>]*>", re.I)
_HREF = re.compile(rb"\bhref=[\"']([^\"']+)[\"']")
_CLOSING = re.compile(rb"</(?:[A-Za-z][\w.-]{0,15}:)?(rss|feed|rdf:RDF|RDF|channel)>\s*$", re.I)
_CUT_CLOSING = re.compile(rb"</(?:[A-Za-z][\w.-]{0,15}:)?(?:rss|feed|rdf:RDF|RDF)\s*$", re.I)
_HEADER_CHARSET = re.compile(r"charset=[\"']?([\w.:-]+)", re.I)
_LINK_TAG = re.compile(rb"<(?:atom:)?link\b[^<>]*>")
_LENGTH = re.compile(rb"\blength=[\"'](\d{1,15})[\"']")
_IGNORED_BOZO = ("CharacterEncodingOverride", "NonXMLContentType")

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
    body = sniff.strip_bom(body)
    if _DECLARATION.search(body, 0, 65536):  # one scan: most feeds declare neither
        body, had_subset = sniff.strip_doctype(body)
        if had_subset:
            problems.append("the feed declares a DOCTYPE with entities; it was removed unexpanded")
        if _ENTITY_DECL.search(body[:65536]):
            raise ParseError("the feed declares XML entities, which Newsdesk never expands")
    body = _apply_header_charset(body, content_type, problems)
    _check_declared_encoding(body, problems)
    for repair in (repair_latin1, repair_utf8, repair_c1, repair_entities):
        body, problem = repair(body)
        if problem:
            problems.append(problem)
    root = _ROOT.search(body[:8192])
    if root is None:
        raise ParseError(_not_xml_feed_message(body, content_type))
    fmt = _format_of(root.group(1))
    if _CUT_CLOSING.search(body[-64:]):  # "</rss" : only the last ">" is missing
        body = body.rstrip() + b">"
        problems.append("the feed's closing tag is cut short; it was completed")

    raw: Mapping[str, Any] | None = None
    # The fast path ignores xml:base, RSS 1.0 content:encoded, Atom xhtml text constructs and
    # the length of a link rel="enclosure".
    head, item = fastpath.first_item(body, fmt)
    if fmt != "rdf" and not fastpath.needs_fallback(body, item):
        raw = _fast_parse(body)
        if raw is not None and fastpath.misread(raw, body, fmt):
            raw = None
    fast = raw is not None
    if raw is not None:
        fastpath.drop_made_up_summaries(raw, item)
    if raw is None:
        raw = _fallback_parse(body, url, content_type, problems)
    html_titles = fast and fastpath.html_titles(head, fmt)
    parsed = _from_dict(raw, url, fmt, fast, html_titles)
    if fast:
        _fill_link_lengths(body, parsed)
    parsed.problems = problems + parsed.problems
    ttl = _TTL.search(body)
    if ttl:
        parsed.ttl_minutes = int(ttl.group(1))
    _read_head(body, url, parsed)
    if not _CLOSING.search(body[-2048:]):
        if not parsed.items:
            raise ParseError("the feed is cut off before its first complete item")
        parsed.problems.append("the feed ends early (truncated?): read what was complete")
    return parsed


def _fill_link_lengths(body: bytes, parsed: ParsedFeed) -> None:
    """The fast path drops the length of a <link rel="enclosure">: read it back from the tag,
    only for the enclosures that lack one."""
    wanted = {e.url for item in parsed.items for e in item.enclosures if e.length is None}
    if not wanted or b"enclosure" not in body:
        return
    lengths: dict[str, int] = {}
    for tag in _LINK_TAG.findall(body):
        href, length = _HREF.search(tag), _LENGTH.search(tag)
        if href and length and b"enclosure" in tag:
            lengths[href.group(1).decode("utf-8", "replace")] = int(length.group(1))
    for item in parsed.items:
        for enclosure in item.enclosures:
            if enclosure.length is None:
                enclosure.length = lengths.get(enclosure.url)


def _apply_header_charset(body: bytes, content_type: str | None, problems: list[str]) -> bytes:
    """Without an encoding in the XML declaration, the HTTP charset decides (RFC 7303)."""
    if not content_type or declared_encoding(body) is not None:
        return body
    match = _HEADER_CHARSET.search(content_type)
    if not match:
        return body
    charset = match.group(1).lower()
    if charset in ("utf-8", "utf8", "us-ascii", "ascii"):
        return body
    try:
        return body.decode(charset).encode("utf-8")
    except (LookupError, UnicodeDecodeError):
        problems.append(f"the feed is not valid {charset} as its Content-Type says")
        return body


def _check_declared_encoding(body: bytes, problems: list[str]) -> None:
    encoding = declared_encoding(body)
    if encoding is None or encoding in ("utf-8", "utf8"):
        return
    import codecs

    try:
        codecs.lookup(encoding)
    except LookupError:
        problems.append(f"the feed declares an unknown encoding ({encoding!r})")


def _read_head(body: bytes, url: str, parsed: ParsedFeed) -> None:
    """What the fast path leaves out at feed level: language and the self link."""
    head = body[:16384]
    if parsed.language is None and (lang := _LANGUAGE.search(head) or _ROOT_LANG.search(head)):
        parsed.language = lang.group(1).decode("ascii")
    if parsed.self_url is None:
        for tag in _SELF_LINK.findall(head):
            if re.search(rb"\brel=[\"']self[\"']", tag) and (href := _HREF.search(tag)):
                parsed.self_url = join(url, href.group(1).decode("utf-8", "replace"))
                break
    if parsed.language and parsed.format == "atom":  # xml:lang is inherited (RFC 4287)
        for item in parsed.items:
            item.language = item.language or parsed.language


def _utf16_to_utf8(body: bytes) -> bytes:
    text = body.decode("utf-16", errors="replace")  # a truncated document has an odd length
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


def _no_slow_dates(_value: str) -> None:
    return None


def _fast_parse(body: bytes) -> Mapping[str, Any] | None:
    import fastfeedparser
    import fastfeedparser.main

    # fastfeedparser hands every date dateutil cannot read (and, lacking a date, every GUID) to
    # dateparser, at about a millisecond each: a 15 MB feed of junk dates would hold the writer
    # for minutes. Our own date parsing uses dateutil only; so does the fast path, here.
    fastfeedparser.main._slow_dateparser = _no_slow_dates
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
    try:
        result = feedparser.parse(
            body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
        )
    except Exception as crash:  # feedparser's own bugs (e.g. a NUL in the encoding name)
        raise ParseError(f"the feed cannot be read: {type(crash).__name__}: {crash}") from None
    # A feed with channel data but no title and no items yet (a link, a language) is an
    # empty feed, not an error; a document where nothing at all was read is.
    reason = result.get("bozo_exception")
    ignorable = reason is None or type(reason).__name__ in _IGNORED_BOZO
    if not result.get("entries") and not result.get("feed"):
        raise ParseError(f"the feed cannot be read: {reason or 'no feed elements found'}")
    if result.get("bozo") and not ignorable:
        problems.append(f"malformed XML, read what could be read: {reason}")
    return dict(result)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _from_dict(
    raw: Mapping[str, Any], url: str, fmt: str, fast: bool = True, html_titles: bool = False
) -> ParsedFeed:
    feed = raw.get("feed") or {}
    feed_base = _text(feed.get("base") if isinstance(feed, Mapping) else None) or url
    site = _site_url(feed, url)
    parsed = ParsedFeed(
        title=_title(feed, fmt, fast, html_titles),
        site_url=join(feed_base, site) if site else None,
        self_url=_self_url(feed, url),
        language=_text(feed.get("language")),
        format=fmt,
    )
    feed_author = _author(feed) if fmt == "atom" else None
    for entry in raw.get("entries") or []:
        item = _item(entry, url, fmt, fast, html_titles)
        item.author = item.author or feed_author
        if fmt == "rdf" and item.published is None:  # RSS 1.0: dc:date is the item's date
            item.published, item.updated = item.updated, None
        parsed.items.append(item)
    return parsed


def _site_url(feed: Mapping[str, Any], url: str) -> str | None:
    for link in feed.get("links") or []:
        if link.get("rel") in (None, "alternate") and link.get("href"):
            return str(link["href"])
    link = _text(feed.get("link"))
    if link and link != url:
        return link
    return None


def _link_dicts(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The parser's ``links``: a list of dicts normally, but an element named ``<links>`` in the
    document makes it a string (found by atheris)."""
    links = node.get("links")
    if not isinstance(links, list):
        return []
    return [link for link in links if isinstance(link, Mapping)]


def _self_url(feed: Mapping[str, Any], url: str) -> str | None:
    for link in _link_dicts(feed):
        if link.get("rel") == "self" and link.get("href"):
            return join(url, str(link["href"]))
    return None


def _item(
    entry: Mapping[str, Any], feed_url: str, fmt: str, fast: bool, html_titles: bool
) -> ParsedItem:
    base = _base(entry) or feed_url
    link = _entry_link(entry, fmt)
    content = _content(entry)
    summary = _text(entry.get("summary")) or _text(entry.get("description"))
    if summary and fastpath.is_media_type((entry.get("summary_detail") or {}).get("type")):
        summary = _escape(summary)  # decoded base64: text, not HTML
    if summary and content and summary.strip() in (content.strip(), _unescape(content).strip()):
        summary = None
    if fmt == "rss" and not fast and content is None:
        # The fast path reads an RSS description as content (the convention of the golden
        # files); feedparser, the fallback, as summary.
        content, summary = summary, None
    title = _title(entry, fmt, fast, html_titles)
    return ParsedItem(
        guid=_text(entry.get("id")),
        link=join(base, link) if link else None,
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


def _entry_link(entry: Mapping[str, Any], fmt: str) -> str | None:
    """The first alternate link. Without one, an RSS item's ``<link>`` (the parser's ``link``):
    an atom:link rel="related" or rel="enclosure" beside it must not hide it. An Atom entry
    has no other source: the fast path's ``link`` is its first ``<link>`` whatever the rel."""
    for candidate in _link_dicts(entry):
        if candidate.get("rel") in (None, "alternate") and candidate.get("href"):
            return str(candidate["href"])
    if fmt == "atom":
        return None
    return _text(entry.get("link"))


def _title(node: Mapping[str, Any], fmt: str, fast: bool, html_titles: bool) -> str | None:
    """Titles are plain text: an HTML title (feedparser tells its type; the fast path's
    ``html_titles``) loses its tags, script and style code included. The pipeline then makes
    every title plain text to a fixed point, whatever its declared type: "<b>" in a title of
    type text goes too (docs/feed-conformance.md, docs/security.md)."""
    title = _text(node.get("title"))
    if not title:
        return None
    detail = node.get("title_detail")
    kind = detail.get("type") if isinstance(detail, Mapping) and not fast else None
    if (isinstance(kind, str) and "html" in kind) or (html_titles and "<" in title):
        return _strip_tags(title) or None
    if fmt == "atom" and isinstance(kind, str) and (kind == "text/plain" or "/" in kind):
        return title  # an Atom text construct of type text: literal, entities and all
    return _plain(title)


def _escape(value: str) -> str:
    import html

    return html.escape(value, quote=False)


def _unescape(value: str) -> str:
    import html

    return html.unescape(value)


def _base(entry: Mapping[str, Any]) -> str | None:
    for key in ("content", "summary_detail", "title_detail"):
        detail = entry.get(key)
        if isinstance(detail, list):
            detail = detail[0] if detail else None
        if isinstance(detail, Mapping) and (base := _text(detail.get("base"))):
            return base
    return None


_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]\w{1,31});")


def _plain(title: str | None) -> str | None:
    """Titles are text; feeds often escape them twice (``&amp;amp;``): decode what remains."""
    if title and "&" in title and _ENTITY.search(title):
        import html

        return html.unescape(title)
    return title


def _content(entry: Mapping[str, Any]) -> str | None:
    best: str | None = None
    for part in entry.get("content") or []:
        value = _text(part.get("value"))
        if not value:
            continue
        if part.get("type") == "xhtml" or value.startswith("<content"):
            match = _XHTML_WRAPPER.match(value) or _CONTENT_WRAPPER.match(value)
            if match:
                value = match.group(1).strip()
        if part.get("type") == "text/plain" or fastpath.is_media_type(part.get("type")):
            if best is not None:
                continue
            import html

            value = html.escape(value, quote=False)
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
    # dict.get, not entry.get: feedparser's dict answers "updated" with "published" when absent.
    value = dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)
    return parse_date(value)


def _tags(entry: Mapping[str, Any]) -> list[str]:
    tags: list[str] = []
    for tag in entry.get("tags") or []:
        term = _text(tag.get("label")) or _text(tag.get("term"))
        if term and term not in tags:
            tags.append(term)
    return tags


def _enclosures(entry: Mapping[str, Any], base: str) -> list[Enclosure]:
    found: dict[str, Enclosure] = {}
    try:
        sources = list(entry.get("enclosures") or []) + list(entry.get("media_content") or [])
    except TypeError:  # feedparser derives "enclosures" from a "links" that is a string
        sources = []
    for link in _link_dicts(entry):
        if link.get("rel") == "enclosure":
            sources.append(link)
    for source in sources:
        if not isinstance(source, Mapping):
            continue
        href = _text(source.get("url")) or _text(source.get("href"))
        if not href:
            continue
        absolute = join(base, href)
        if absolute is None:
            continue
        if absolute in found:
            continue
        mime = _text(source.get("type"))
        if mime is None and source.get("medium"):
            mime = f"{source['medium']}/*"
        length = _length(source.get("length") or source.get("filesize") or source.get("fileSize"))
        found[absolute] = Enclosure(url=absolute, type=mime, length=length)
    return list(found.values())


def _length(value: Any) -> int | None:
    try:
        length = int(value)
    except (TypeError, ValueError):
        return None
    return length if length >= 0 else None


_TAG = re.compile(r"<[^>]+>")


_OPEN_COMMENT = re.compile(r"<!--.*\Z", re.S)  # what is left of one after the tags went
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.S | re.I)


def _strip_tags(value: str) -> str:
    """The text of an HTML title: tags removed, and the code of a script or style with them."""
    import html

    text = _OPEN_COMMENT.sub("", _TAG.sub("", _SCRIPT.sub("", value)))
    return html.unescape(text).strip()

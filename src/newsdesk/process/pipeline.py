"""ParsedFeed → list of Entry: identity, markers, sanitize, text, kind, tags, links, dates.

Pure: no I/O. Link expansion and full text, which need the network, happen later
(``process.enrich``) on the stored entries.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from json.encoder import encode_basestring_ascii

from newsdesk.model import Enclosure, Entry, ParsedFeed, ParsedItem
from newsdesk.parse.dates import sane_date
from newsdesk.process.classify import classify, hashtags, linkify, normalize_tags, outbound_links
from newsdesk.process.sanitize import html_to_text, one_line, sanitize_html
from newsdesk.process.social import feed_handle, read_markers
from newsdesk.process.urls import absolute, canonical_url, is_web_url, web_url

_TAGS = re.compile(r"<[a-zA-Z/!][^>]*>")
_ELLIPSES = ("…", "...", "&hellip;")
SUMMARY_ONLY_CHARS = 1500


def _digest(*parts: str | None) -> str:
    h = hashlib.sha1(usedforsecurity=False)
    for part in parts:
        h.update((part or "").encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


def entry_key(item: ParsedItem) -> str:
    """Identity inside a feed: the GUID, else the link, else a hash of the content."""
    if item.guid:
        return "g:" + item.guid[:1000]
    if item.link:
        return "l:" + item.link[:1000]
    return "h:" + _digest(item.title, item.content, item.summary)


def _clean_title(title: str | None) -> str | None:
    if not title:
        return None
    title = one_line(title) or ""  # entities decoded before tags are removed, to a fixed point
    return title[:1000] or None


def _is_plain_text(value: str) -> bool:
    return "<" not in value or _TAGS.search(value) is None


def _to_html(value: str | None) -> str:
    if not value:
        return ""
    return linkify(value) if _is_plain_text(value) else value


def _wants_fulltext(summary: str | None, content: str | None, link: str | None) -> bool:
    """True when the feed gives only a summary: no content, a short body, or a body that ends
    in an ellipsis."""
    if not is_web_url(link):
        return False
    body = content or summary or ""
    if content and len(content) > SUMMARY_ONLY_CHARS and not _ends_in_ellipsis(content):
        return False
    return len(body) < SUMMARY_ONLY_CHARS or _ends_in_ellipsis(body)


def _ends_in_ellipsis(text: str) -> bool:
    r"""``text`` ends in an ellipsis, maybe followed by one ``</p>`` (and white space): what the
    regular expression ``(…|\.\.\.|&hellip;)\s*(</p>)?\s*$`` finds, read from the end
    rather than searched for from every dot of the text."""
    text = text.rstrip()  # the white space of \s
    if text.endswith("</p>"):
        text = text[:-4].rstrip()
    return text.endswith(_ELLIPSES)


@dataclass(slots=True)
class StoredForm:
    """What the store writes for an entry beyond its own fields, worked out where the entry is
    made (a parse worker process, during a big refresh) rather than in the single writer:
    canonical URLs, the JSON texts of its list columns, its link and tag rows (deduplicated)."""

    url_canonical: str | None
    tags_json: str
    links_json: str
    enclosures_json: str
    # (canonical URL, position in the feed's list of links), first occurrence of each URL
    link_rows: list[tuple[str, int]]
    tag_rows: list[str]


def _json_strings(values: list[str]) -> str:
    """``json.dumps(values)`` for a list of strings, without the encoder's set-up (most of
    what ``json.dumps`` costs for a short list)."""
    if all(isinstance(value, str) for value in values):
        return "[" + ", ".join(map(encode_basestring_ascii, values)) + "]"
    return json.dumps(values)


def stored_form(e: Entry) -> StoredForm:
    """The stored form of ``e`` (``json.dumps`` as SQLAlchemy's JSON type writes it)."""
    canonical = [canonical_url(u) for u in e.links]
    link_rows: dict[str, int] = {}
    for position, url in enumerate(canonical):
        link_rows.setdefault(url, position)
    return StoredForm(
        url_canonical=canonical_url(e.url) if e.url else None,
        tags_json=_json_strings(e.tags),
        links_json=_json_strings(canonical),
        enclosures_json=json.dumps([x.as_dict() for x in e.enclosures]) if e.enclosures else "[]",
        link_rows=list(link_rows.items()),
        tag_rows=list(dict.fromkeys(t[:100] for t in e.tags)),
    )


class ProcessedEntries(list[Entry]):
    """A document's entries with their stored forms, made in the same place (a worker process
    for a big refresh), so the writer only adds ids. ``forms`` is read when it still matches
    the list (same length); anything else is worked out again by the store."""

    forms: list[StoredForm]


def process_feed(parsed: ParsedFeed, feed_url: str, now: datetime) -> list[Entry]:
    """Turn every parsed item into an Entry. Duplicate keys inside one document stay distinct
    entries (their key gets a content hash), so two items sharing a GUID are both kept. The
    list carries the entries' stored forms (``ProcessedEntries``)."""
    entries = ProcessedEntries()
    seen: set[str] = set()
    handle = feed_handle(parsed.title)
    for item in parsed.items:
        entry = process_item(item, feed_url, now, parsed.title, handle)
        if entry.key in seen:
            entry.key = f"{entry.key}#{entry.content_hash[:16]}"
            if entry.key in seen:
                continue  # the very same item twice: one is enough
        seen.add(entry.key)
        entries.append(entry)
    entries.forms = [stored_form(e) for e in entries]
    return entries


def process_item(
    item: ParsedItem,
    feed_url: str,
    now: datetime,
    feed_title: str | None = None,
    feed_owner: str | None = None,
) -> Entry:
    base = item.base or feed_url
    # javascript:, data:, file: … never become an entry URL
    link = web_url(absolute(item.link, base))
    markers = read_markers(_clean_title(item.title), item.author, feed_title)
    raw_html = _to_html(item.content) or _to_html(item.summary)
    content_html = sanitize_html(raw_html, base)
    # With content, the feed's summary is a shorter copy of it: not worth a second sanitize.
    summary_html = None
    text = html_to_text(content_html)
    kind = classify(markers.title, text)
    author = markers.author or (feed_owner if kind == "post" else None)
    tags = normalize_tags([t for t in map(one_line, item.tags) if t], hashtags(text))
    enclosures = [
        Enclosure(url=url, type=e.type, length=e.length)
        for e in item.enclosures
        if (url := web_url(e.url)) is not None
    ]
    published = sane_date(item.published, now) or sane_date(item.updated, now)
    return Entry(
        key=entry_key(item),
        url=link,
        title=markers.title,
        author=(one_line(author) or "")[:300] or None,
        kind=kind,
        published=published or now,
        updated=sane_date(item.updated, now),
        content_html=content_html,
        content_text=text,
        summary_html=summary_html,
        content_hash=_digest(markers.title, content_html, link),
        tags=tags,
        links=outbound_links(content_html, text, link),
        enclosures=enclosures,
        language=item.language,
        reposted_by=markers.reposted_by,
        reply_to=markers.reply_to,
        wants_fulltext=kind == "article" and _wants_fulltext(item.summary, item.content, link),
        date_from_feed=published is not None,
    )

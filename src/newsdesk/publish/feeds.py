"""Outgoing feeds: stored entries as Atom 1.0, RSS 2.0 and JSON Feed 1.1, with full content.

Content is the sanitized HTML kept in the store; everything else (titles, names, URLs) is
escaped by the XML serializer or ``json``. Characters XML 1.0 forbids are dropped. Posts,
which have no title, get "@author: first words" as one.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urljoin

from lxml import etree

from newsdesk import __version__
from newsdesk.model import StoredEntry

FEED_FORMATS = ("atom", "rss", "json")
CONTENT_TYPES = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
GENERATOR = "Newsdesk"
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class FeedMeta:
    """Who the outgoing feed is: its title, a stable id, its own URL and the page it mirrors.
    URLs should be absolute; ``base_url`` makes relative ones absolute."""

    title: str
    id: str
    self_url: str
    home_url: str
    description: str = ""
    base_url: str = ""

    def absolute(self, url: str) -> str:
        return urljoin(self.base_url, url) if self.base_url else url


def _clean(text: str | None) -> str:
    return _XML_BAD.sub("", text or "")


UNTITLED_CHARACTERS = 100  # of an untitled entry's text make its title (Miniflux: 100 too)


def entry_title(entry: StoredEntry, *, for_apps: bool = False) -> str:
    """The title an entry goes out under; an untitled one (a post) gets one from its text.

    In outgoing feeds (the default): the stored title, whitespace collapsed; for an untitled
    post "@author: " and its first 100 characters of text, cut at a word ("…" when cut), else
    "(untitled)". For reader apps (``for_apps``: Miniflux, Google Reader, Fever APIs): the
    stored title as the feed gave it; else the first 100 characters of the text ("…" when cut),
    as Miniflux does at ingest; else the URL; else empty.
    """
    if entry.title and (not for_apps or entry.title.strip()):
        return entry.title if for_apps else " ".join(entry.title.split())
    text = " ".join(entry.content_text.split())
    if len(text) > UNTITLED_CHARACTERS:
        cut = text[:UNTITLED_CHARACTERS]
        text = (cut if for_apps else cut.rsplit(" ", 1)[0]) + "…"
    if for_apps:
        return text or entry.url or ""
    who = (entry.author or entry.feed_title or "").lstrip("@")
    return f"@{who}: {text}" if who else text or "(untitled)"


def entry_id(entry: StoredEntry, meta: FeedMeta) -> str:
    """Stable across runs and the same in every feed that carries the entry; its URL alone is
    not unique enough (two feeds may share it)."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"newsdesk:{entry.key}:{entry.url}"))


def _html(entry: StoredEntry) -> str:
    return _clean(entry.content_html or entry.summary_html or "")


def _updated(entries: Sequence[StoredEntry]) -> datetime:
    stamps = [e.updated or e.published for e in entries]
    return max(stamps) if stamps else datetime(1970, 1, 1, tzinfo=UTC)


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_atom(meta: FeedMeta, entries: Sequence[StoredEntry]) -> bytes:
    def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> Any:
        el = etree.SubElement(
            parent, f"{{{ATOM_NS}}}{tag}", {k: _clean(v) for k, v in attrs.items()}
        )
        if text is not None:
            el.text = _clean(text)
        return el

    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    sub(feed, "title", meta.title)
    if meta.description:
        sub(feed, "subtitle", meta.description)
    sub(feed, "id", meta.id)
    sub(feed, "link", rel="self", href=meta.absolute(meta.self_url), type="application/atom+xml")
    sub(feed, "link", rel="alternate", href=meta.absolute(meta.home_url), type="text/html")
    sub(feed, "updated", _rfc3339(_updated(entries)))
    author = sub(feed, "author")
    sub(author, "name", GENERATOR)
    sub(feed, "generator", GENERATOR, version=__version__)
    for entry in entries:
        item = sub(feed, "entry")
        sub(item, "title", entry_title(entry), type="text")
        sub(item, "id", entry_id(entry, meta))
        if entry.url:
            sub(item, "link", rel="alternate", href=entry.url, type="text/html")
        sub(item, "published", _rfc3339(entry.published))
        sub(item, "updated", _rfc3339(entry.updated or entry.published))
        if entry.author or entry.feed_title:
            who = sub(item, "author")
            sub(who, "name", entry.author or entry.feed_title)
        for tag in entry.tags:
            sub(item, "category", term=tag)
        for enclosure in entry.enclosures:
            attrs = {"rel": "enclosure", "href": enclosure.url}
            if enclosure.type:
                attrs["type"] = enclosure.type
            if enclosure.length:
                attrs["length"] = str(enclosure.length)
            sub(item, "link", **attrs)
        if entry.feed_title:
            source = sub(item, "source")
            sub(source, "title", entry.feed_title)
        sub(item, "content", _html(entry), type="html")
    return bytes(etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True))


def render_rss(meta: FeedMeta, entries: Sequence[StoredEntry]) -> bytes:
    nsmap = {"atom": ATOM_NS, "content": CONTENT_NS, "dc": DC_NS}
    rss = etree.Element("rss", version="2.0", nsmap=nsmap)
    channel = etree.SubElement(rss, "channel")

    def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> Any:
        el = etree.SubElement(parent, tag, {k: _clean(v) for k, v in attrs.items()})
        if text is not None:
            el.text = _clean(text)
        return el

    sub(channel, "title", meta.title)
    sub(channel, "link", meta.absolute(meta.home_url))
    # RSS readers render a channel description as HTML; ours is plain text, so escape it.
    sub(channel, "description", html.escape(meta.description or meta.title, quote=False))
    sub(
        channel,
        f"{{{ATOM_NS}}}link",
        rel="self",
        href=meta.absolute(meta.self_url),
        type="application/rss+xml",
    )
    sub(channel, "generator", f"{GENERATOR} {__version__}")
    sub(channel, "lastBuildDate", format_datetime(_updated(entries), usegmt=True))
    for entry in entries:
        item = sub(channel, "item")
        sub(item, "title", entry_title(entry))
        if entry.url:
            sub(item, "link", entry.url)
        sub(item, "guid", entry_id(entry, meta), isPermaLink="false")
        sub(item, "pubDate", format_datetime(entry.published.astimezone(UTC), usegmt=True))
        if entry.author or entry.feed_title:
            sub(item, f"{{{DC_NS}}}creator", entry.author or entry.feed_title)
        for tag in entry.tags:
            sub(item, "category", tag)
        # RSS allows one enclosure per item; the first is the one readers play.
        for enclosure in entry.enclosures[:1]:
            sub(
                item,
                "enclosure",
                url=enclosure.url,
                length=str(enclosure.length or 0),
                type=enclosure.type or "application/octet-stream",
            )
        sub(item, "description", _html(entry))
        sub(item, f"{{{CONTENT_NS}}}encoded", _html(entry))
    return bytes(etree.tostring(rss, xml_declaration=True, encoding="utf-8", pretty_print=True))


def render_json_feed(meta: FeedMeta, entries: Sequence[StoredEntry]) -> bytes:
    items = []
    for entry in entries:
        item: dict[str, object] = {
            "id": entry_id(entry, meta),
            "title": entry_title(entry),
            "content_html": _html(entry),
            "date_published": _rfc3339(entry.published),
            "date_modified": _rfc3339(entry.updated or entry.published),
        }
        if entry.url:
            item["url"] = entry.url
        if entry.author or entry.feed_title:
            item["authors"] = [{"name": entry.author or entry.feed_title}]
        if entry.tags:
            item["tags"] = list(entry.tags)
        if entry.language:
            item["language"] = entry.language
        if entry.enclosures:
            item["attachments"] = [
                {
                    "url": x.url,
                    "mime_type": x.type or "application/octet-stream",
                    **({"size_in_bytes": x.length} if x.length else {}),
                }
                for x in entry.enclosures
            ]
        items.append(item)
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": meta.title,
        "home_page_url": meta.absolute(meta.home_url),
        "feed_url": meta.absolute(meta.self_url),
        "description": meta.description or meta.title,
        "authors": [{"name": GENERATOR}],
        "items": items,
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode() + b"\n"


def render_feed(fmt: str, meta: FeedMeta, entries: Sequence[StoredEntry]) -> bytes:
    if fmt == "atom":
        return render_atom(meta, entries)
    if fmt == "rss":
        return render_rss(meta, entries)
    if fmt == "json":
        return render_json_feed(meta, entries)
    raise ValueError(f"unknown feed format {fmt!r}: use one of {', '.join(FEED_FORMATS)}")

"""Newsdesk's parse result as a feedparser-shaped dict, for bench_conformance.py.

Only fields Newsdesk models are present; :func:`supported_path` lists them, and an Expect line
reading anything else is not applicable. HTML is given as Newsdesk stores it: sanitized by
``process.sanitize.sanitize_html`` against the item's base (which also makes relative URLs
absolute), as feedparser sanitizes and resolves by default.

Where Newsdesk deliberately differs, a value compares equal to feedparser's expected value
when that value, put through the same policy, is ours; each such comparison is logged in
:data:`POLICY_LOG` so the report counts exact passes apart from passes under a policy:

* ``sanitize``: HTML goes through Newsdesk's stricter allowlist (docs/feed-conformance.md);
* ``plain-title``: titles are plain text, to a fixed point (``one_line``), not HTML;
* ``absolute-url``: links are resolved against the document URL, never left relative;
* ``html-content``: a text/plain content is stored as escaped HTML.
"""

from __future__ import annotations

import html
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from newsdesk.errors import ParseError
from newsdesk.model import ParsedFeed, ParsedItem
from newsdesk.parse import parse_feed
from newsdesk.process.pipeline import process_item
from newsdesk.process.sanitize import one_line, sanitize_html

POLICY_LOG: list[str] = []
NOW = datetime(2030, 1, 1, tzinfo=UTC)

# feedparser's key aliases (FeedParserDict.keymap), as they apply to what we model.
ENTRY_ALIASES = {
    "description": "summary",
    "description_detail": "summary_detail",
    "guid": "id",
    "date_parsed": "updated_parsed",
    "modified_parsed": "updated_parsed",
    "issued_parsed": "published_parsed",
    "url": "href",
}
TOP_ALIASES = {"items": "entries", "channel": "feed"}
DETAIL = {"value", "type", "base"}
ENTRY_PATHS: dict[str, set[str] | None] = {
    "id": None,
    "link": None,
    "title": None,
    # Newsdesk keeps one base and one language per item, not one per text construct; the
    # base is that of the content it resolves.
    "title_detail": {"value"},
    "author": None,
    "summary": None,
    "summary_detail": DETAIL,
    "content": DETAIL,
    "published_parsed": None,
    "updated_parsed": None,
    "tags": {"term"},
    "enclosures": {"href", "type", "length"},
}
FEED_PATHS: dict[str, set[str] | None] = {"title": None, "link": None, "language": None}


def supported_path(path: tuple[str, ...]) -> bool:
    """Whether a key path read by an Expect line is one this mapping models."""
    root = TOP_ALIASES.get(path[0], path[0])
    keys = [ENTRY_ALIASES.get(key, key) for key in path[1:]]
    table = ENTRY_PATHS if root == "entries" else FEED_PATHS if root == "feed" else None
    if table is None:
        return False
    if not keys:
        return True
    if keys[0] not in table:
        return False
    inner = table[keys[0]]
    if len(keys) == 1:
        return True
    return inner is not None and len(keys) == 2 and keys[1] in inner


class FPDict(dict[str, Any]):
    """A dict read like feedparser's: attribute access, its aliases, ``has_key``."""

    def _key(self, key: str) -> str:
        key = ENTRY_ALIASES.get(key, key)
        if key == "updated_parsed" and not dict.__contains__(self, key):
            return "published_parsed"  # feedparser 6 answers updated with published
        return key

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, self._key(key))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and dict.__contains__(self, self._key(key))

    def get(self, key: str, default: Any = None) -> Any:
        return dict.get(self, self._key(key), default)

    def has_key(self, key: str) -> bool:
        return key in self

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class _Equiv(str):
    """A string equal to an expected value exactly, or once the value goes through one of our
    policies (logged)."""

    __slots__ = ()
    policies: tuple[str, ...] = ()

    def convert(self, other: str, policy: str) -> str | None:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, str):
            return False
        if str.__eq__(self, other):
            return True
        for policy in self.policies:
            converted = self.convert(other, policy)
            if converted is not None and str.__eq__(self, converted):
                POLICY_LOG.append(policy)
                return True
        return False

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__


class Title(_Equiv):
    __slots__ = ()
    policies = ("plain-title",)

    def convert(self, other: str, policy: str) -> str | None:
        # Newsdesk's plain-text rule (docs/security.md): entities decoded and anything
        # tag-like removed, to a fixed point, whatever type the feed declared.
        return one_line(other) or ""


class Url(_Equiv):
    __slots__ = ("base",)
    policies = ("absolute-url",)

    def __new__(cls, value: str, base: str) -> Url:
        made = super().__new__(cls, value)
        made.base = base
        return made

    def convert(self, other: str, policy: str) -> str | None:
        try:
            return urljoin(self.base, other)
        except ValueError:
            return None


class Html(_Equiv):
    __slots__ = ("base",)
    policies = ("sanitize", "html-content")

    def __new__(cls, value: str, base: str) -> Html:
        made = super().__new__(cls, value)
        made.base = base
        return made

    def convert(self, other: str, policy: str) -> str | None:
        if policy == "html-content":
            other = html.escape(other, quote=False)
        return sanitize_html(other, self.base).strip()


def map_result(body: bytes, url: str, content_type: str | None) -> dict[str, Any]:
    """The namespace an Expect line is evaluated in."""
    try:
        parsed = parse_feed(body, url, content_type)
    except ParseError as exc:
        return {"bozo": True, "feed": FPDict(), "entries": [], "_problems": [str(exc)]}
    return {
        "bozo": bool(parsed.problems),
        "feed": _feed(parsed, url),
        "entries": [_entry(item, url) for item in parsed.items],
        "_problems": list(parsed.problems),
    }


def _feed(parsed: ParsedFeed, url: str) -> FPDict:
    feed = FPDict()
    # A title of markup only (an <img>) is no title as text: feedparser's "title" is then ""
    feed["title"] = Title(one_line(parsed.title) or "")
    if parsed.site_url:
        feed["link"] = Url(parsed.site_url, url)
    if parsed.language:
        feed["language"] = parsed.language
    return feed


def _detail(value: str, kind: str, base: str, language: str | None) -> FPDict:
    return FPDict(value=value, type=kind, base=base, language=language)


def _parsed_time(value: datetime | None) -> time.struct_time | None:
    return value.utctimetuple() if value is not None else None


def _entry(item: ParsedItem, url: str) -> FPDict:
    base = item.base or url
    entry = FPDict()
    if item.guid:
        entry["id"] = item.guid
    if item.link:
        entry["link"] = Url(item.link, base)
    # As stored: the pipeline makes the title one line of text (tags removed).
    entry["title"] = Title(process_item(item, url, NOW).title or "")
    entry["title_detail"] = FPDict(value=entry["title"])
    if item.author:
        entry["author"] = item.author
    content = Html(sanitize_html(item.content, base).strip(), base) if item.content else None
    summary = Html(sanitize_html(item.summary, base).strip(), base) if item.summary else None
    if content is not None:
        entry["content"] = [_detail(content, "text/html", base, item.language)]
    if summary is not None or content is not None:
        shown = summary if summary is not None else content
        entry["summary"] = shown
        entry["summary_detail"] = _detail(shown, "text/html", base, item.language)
    for key, value in (("published", item.published), ("updated", item.updated)):
        if value is not None:
            entry[key + "_parsed"] = _parsed_time(value)
    entry["tags"] = [FPDict(term=tag) for tag in item.tags]
    entry["enclosures"] = [
        FPDict(
            href=Url(e.url, base),
            type=e.type,
            length=str(e.length) if e.length is not None else None,
        )
        for e in item.enclosures
    ]
    return entry

"""Plain data passed between the pipeline stages: no I/O, no behaviour beyond small helpers.

The road: ``FetchResult`` (fetch/) → ``ParsedFeed`` of ``ParsedItem`` (parse/) → ``Entry``
(process/) → stored rows (store/) → views.  All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

EntryKind = Literal["post", "article"]


@dataclass(slots=True)
class Enclosure:
    url: str
    type: str | None = None
    length: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"url": self.url, "type": self.type, "length": self.length}


@dataclass(slots=True)
class FetchResult:
    """What one HTTP fetch of a URL produced; ``error`` is set when nothing usable came back."""

    url: str
    final_url: str
    status: int | None = None
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    error: str | None = None
    # Set when the chain of redirects started with a 301/308 (the feed has moved for good).
    permanent_redirect: str | None = None
    # Server hints for the scheduler, raw header values.
    cache_control: str | None = None
    expires: str | None = None
    retry_after: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(slots=True)
class ParsedItem:
    """One item as the feed gave it, URLs still as written, HTML not yet sanitized."""

    guid: str | None = None
    link: str | None = None
    title: str | None = None
    author: str | None = None
    summary: str | None = None  # HTML (or plain text for some feeds)
    content: str | None = None  # HTML
    published: datetime | None = None
    updated: datetime | None = None
    tags: list[str] = field(default_factory=list)
    enclosures: list[Enclosure] = field(default_factory=list)
    base: str | None = None  # xml:base in effect for this item, if any
    language: str | None = None


@dataclass(slots=True)
class ParsedFeed:
    title: str | None = None
    site_url: str | None = None
    self_url: str | None = None
    language: str | None = None
    ttl_minutes: int | None = None
    format: str = "unknown"  # rss, atom, rdf, json
    items: list[ParsedItem] = field(default_factory=list)
    # Problems met while reading the feed that did not stop us (kept on the feed row).
    problems: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Entry:
    """A processed item, ready to store. ``key`` is its identity within its feed."""

    key: str
    url: str | None
    title: str | None
    author: str | None
    kind: EntryKind
    published: datetime
    updated: datetime | None
    content_html: str
    content_text: str
    summary_html: str | None
    content_hash: str
    tags: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    enclosures: list[Enclosure] = field(default_factory=list)
    language: str | None = None
    reposted_by: str | None = None
    reply_to: str | None = None
    # True when the feed gave only a summary and the linked page should be fetched for full text.
    wants_fulltext: bool = False
    date_from_feed: bool = True


@dataclass(slots=True)
class PageText:
    """Main text extracted from a web page (full text of an article or of a shared link)."""

    url: str
    final_url: str
    title: str | None = None
    author: str | None = None
    published: str | None = None
    site_name: str | None = None
    text: str = ""
    html: str = ""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class FeedOptions:
    """How one feed is fetched and enriched (issue 16), what is not secret: ``None`` and
    ``False`` follow the settings. ``fulltext``: True extracts every article's page, False none,
    None only summary-only articles (the ``fulltext`` setting). ``extract_body``/``extract_drop``:
    a per-feed extraction rule (CSS), before the hosts' rules. ``sealed`` names the secrets set
    (cookie, headers, username, password) without their values."""

    user_agent: str | None = None
    fulltext: bool | None = None
    extract_body: str | None = None
    extract_drop: tuple[str, ...] = ()
    ignore_cache_hints: bool = False
    unwrap_redirects: bool = False
    sealed: tuple[str, ...] = ()


@dataclass(slots=True)
class Feed:
    """A subscription as stored, with its fetch state."""

    id: int
    url: str
    title: str | None = None
    custom_title: str | None = None
    site_url: str | None = None
    category: str | None = None
    category_id: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_status: int | None = None
    last_fetched: datetime | None = None
    last_success: datetime | None = None
    error_count: int = 0
    error_since: datetime | None = None
    last_error: str | None = None
    next_check: datetime | None = None
    check_interval: int | None = None
    paused: bool = False
    paused_reason: str | None = None
    moved_from: str | None = None
    pending_url: str | None = None
    pending_count: int = 0
    problems: list[str] = field(default_factory=list)
    ttl_minutes: int | None = None
    entries_per_day: float | None = None
    created_at: datetime | None = None
    # The site's icon (``store.icons``); set only once an icon has been fetched.
    icon_id: int | None = None
    # Per-feed control (issue 16): 0 for a public feed, else the id of the person whose private
    # copy of the URL this is; the options; the secrets, sealed under the server key.
    owner_key: int = 0
    options: FeedOptions = field(default_factory=FeedOptions)
    secret: str | None = field(default=None, repr=False)

    @property
    def display_title(self) -> str:
        return self.custom_title or self.title or self.url

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "url": self.url,
            "title": self.display_title,
            "site_url": self.site_url,
            "category": self.category,
            "last_status": self.last_status,
            "error_count": self.error_count,
            "last_error": self.last_error,
            "last_fetched": _iso(self.last_fetched),
            "next_check": _iso(self.next_check),
            "paused": self.paused,
            "paused_reason": self.paused_reason,
            "moved_from": self.moved_from,
            "problems": list(self.problems),
            "check_interval": self.check_interval,
            "private": self.owner_key != 0,
            "options": options_dict(self.options),
        }


def options_dict(options: FeedOptions) -> dict[str, object]:
    """A feed's options as faces show them: a secret only as "set" (never its value)."""
    return {
        "user_agent": options.user_agent,
        "fulltext": options.fulltext,
        "extract_body": options.extract_body,
        "extract_drop": list(options.extract_drop),
        "ignore_cache_hints": options.ignore_cache_hints,
        "unwrap_redirects": options.unwrap_redirects,
        **{name: ("set" if name in options.sealed else None) for name in SECRET_NAMES},
    }


SECRET_NAMES = ("cookie", "headers", "username", "password")


@dataclass(slots=True)
class StoredEntry:
    """An entry as read back from the store, with its feed's title and category."""

    id: int
    feed_id: int
    feed_title: str | None
    category: str | None
    kind: EntryKind
    key: str
    url: str | None
    title: str | None
    author: str | None
    published: datetime
    updated: datetime | None
    first_seen: datetime
    content_html: str
    content_text: str
    summary_html: str | None
    tags: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    enclosures: list[Enclosure] = field(default_factory=list)
    related: list[int] = field(default_factory=list)
    reposted_by: str | None = None
    reply_to: str | None = None
    language: str | None = None
    read: bool = False
    starred: bool = False
    story_id: int | None = None
    fulltext_status: str | None = None
    fulltext_error: str | None = None
    page: dict[str, object] | None = None
    snippet: str | None = None
    # When the entry last changed (stored, edited, read, starred, …); never before first_seen.
    changed_at: datetime | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "feed_id": self.feed_id,
            "feed_title": self.feed_title,
            "category": self.category,
            "kind": self.kind,
            "title": self.title,
            "author": self.author,
            "url": self.url,
            "published": _iso(self.published),
            "updated": _iso(self.updated),
            "first_seen": _iso(self.first_seen),
            "content_text": self.content_text,
            "content_html": self.content_html,
            "summary_html": self.summary_html,
            "tags": list(self.tags),
            "links": list(self.links),
            "related": list(self.related),
            "enclosures": [e.as_dict() for e in self.enclosures],
            "reposted_by": self.reposted_by,
            "reply_to": self.reply_to,
            "language": self.language,
            "read": self.read,
            "starred": self.starred,
            "story_id": self.story_id,
            "fulltext_status": self.fulltext_status,
            "fulltext_error": self.fulltext_error,
            "page": self.page,
            **({"snippet": self.snippet} if self.snippet is not None else {}),
        }


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- what the intelligence stage finds, as the store keeps it (store.entities, store.events) ------

DAY = "day"
MONTH = "month"
YEAR = "year"
PRECISIONS = (DAY, MONTH, YEAR)


@dataclass(frozen=True, slots=True)
class Event:
    """One dated event: ``date`` is ISO "YYYY-MM-DD", the first day of the period when the
    ``precision`` is "month" or "year"; ``position`` is its order in the document (0, 1, …)."""

    date: str
    precision: str
    sentence: str
    position: int

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {self.precision!r}")


KINDS = ("person", "org", "place")


@dataclass(frozen=True, slots=True)
class FoundEntity:
    """One entity as found in one document.

    ``key`` is what variants share across documents (normalised, case-folded); ``name`` is the
    form to show; ``surfaces`` are the forms as written in the document with each run of whitespace
    written as one space, as the timeline's sentences are (possessives and titles removed), so
    later stages can find the entity in a sentence; ``first_offset`` is the
    character offset of the first mention in ``title + "\\n\\n" + text`` (the text alone when the
    title only repeats its beginning).
    """

    kind: str
    key: str
    name: str
    surfaces: tuple[str, ...]
    count: int
    first_offset: int

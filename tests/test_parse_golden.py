"""Golden-file tests for the feed parser, ``newsdesk.parse.parse_feed``.

Every file in ``tests/data/feeds/`` other than ``*.expected.json`` is a small feed (or a
document that is not a feed) testing one thing: a format (RSS 0.91/0.92/2.0, RSS 1.0, Atom
0.3/1.0, JSON Feed 1.0/1.1), an extension (content, Dublin Core, Media RSS, iTunes), an
encoding, a date format, entities, xml:base, missing fields or malformed XML.  Beside each
one, ``NAME.expected.json`` holds the parse result in the canonical form built by
:func:`canonical` — feed-level fields, whether problems were recorded, and per item the
guid, link, title, author, summary, content, dates as ISO 8601 UTC strings, tags,
enclosures, xml:base and language — or ``{"error": "<ParseError subclass>"}``.

The expected files describe what a *correct* parser produces per the specs; they were
generated from the parser and then reviewed by hand.  Where the parser is still wrong the
expected file holds the correct value and the case is listed in :data:`KNOWN_BUGS`, which
marks it as a strict xfail (so a fix makes the test fail until the entry is removed), while
:func:`test_golden_outside_known_bugs` still compares every field the bug does not touch.
For every feed :func:`test_parses_with_expected_item_count` also checks that parsing raises
no exception and yields the expected number of items, independently of the full comparison.

Conventions the expected files assume (choices of the parser, not dictated by the specs):
an RSS ``description`` is the item's ``content`` when there is no ``content:encoded`` (and
its ``summary`` when there is); ``base`` is the document URL when no xml:base applies; an
Atom category gives its ``label``, else its ``term``; JSON Feed ``content_text`` becomes
escaped ``<p>`` paragraphs and ``image`` an ``image/*`` enclosure; media:thumbnail is not
an enclosure; RSS items carry no language of their own (the channel's is on the feed);
titles are plain text, ``content`` is HTML (never sanitized or URL-resolved here).

Regenerate with ``NEWSDESK_UPDATE_GOLDEN=1 pytest tests/test_parse_golden.py``: this writes
the expected file of every case *not* listed in :data:`KNOWN_BUGS` (hand-corrected files are
kept) — review the diff before committing it.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from newsdesk import errors
from newsdesk.model import Enclosure, ParsedFeed, ParsedItem
from newsdesk.parse import parse_feed

FEEDS_DIR = Path(__file__).parent / "data" / "feeds"
EXPECTED_SUFFIX = ".expected.json"
FEED_SUFFIXES = frozenset({".xml", ".atom", ".rss", ".rdf", ".json", ".html"})
UPDATE = os.environ.get("NEWSDESK_UPDATE_GOLDEN", "") not in ("", "0")

# The URL a file is "fetched" from; the default is https://example.org/feeds/<stem>.  Set per
# file where relative URLs should resolve against a realistic address.
URLS: dict[str, str] = {
    "jsonfeed11.json": "https://tidepool.example.com/feed.json",
    "rss20_relative_links.xml": "https://news.example.com/rss/latest.xml",
}

# The Content-Type header a file is served with; None (no header) unless listed.
CONTENT_TYPES: dict[str, str] = {
    "enc_header_charset.xml": "application/rss+xml; charset=ISO-8859-1",
    "enc_header_charset_cp1251.xml": "text/xml; charset=windows-1251",
    "jsonfeed10.json": "application/feed+json",
    "jsonfeed11.json": "application/feed+json; charset=utf-8",
    "not_a_feed.html": "text/html; charset=utf-8",
}

# Parser bugs found while reviewing the expected files.  Each expected file holds the correct
# value; the cases below are strict xfails of test_golden (a fix makes them XPASS, which fails:
# then delete the entry).  test_golden_outside_known_bugs still checks every other field of
# those files, so a known bug does not hide a new one.
BUG_NOTES: dict[str, str] = {
    "B1": "RSS <language>/<dc:language> of the channel is not read (feed.language None)",
    "B2": "self link (atom:link rel=self in RSS, link rel=self in Atom) is dropped",
    "B3": "Atom entry without <author> does not inherit the feed's author (RFC 4287 4.2.1)",
    "B4": "Atom xml:lang inherited by entries is not reported as item.language",
    "B5": "Atom entry link is the first <link> whatever its rel (rel=related taken)",
    "B6": "Atom <link rel=enclosure length=...> loses its length",
    "B7": "Media RSS media:content fileSize is not used as the enclosure length",
    "B8": "RSS 1.0 item content:encoded is dropped",
    "B9": "title of type html (Atom type=html, double-escaped RSS, any feed title) not unescaped",
    "B10": "Atom type=xhtml title and summary are lost",
    "B11": "Atom 0.3 mode=xml content keeps its <content xmlns=... mode=xml> wrapper",
    "B12": "Atom type=text content is not escaped although item.content is HTML",
    "B13": "fast path invents values: guid from link, published from updated, summary from content",
    "B14": "without a Content-Type, feedparser's 'no Content-type specified' becomes a problem",
    "B15": "fallback path rewrites content HTML (resolves relative URLs, reserializes tags)",
    "B16": "charset of the Content-Type header is ignored when the XML declaration has none",
    "B17": "a truncated (not well-formed) document is read without recording a problem",
    "B18": "RSS 0.91 entities defined by its DOCTYPE (&eacute;) are reported as a problem",
    "B19": "a relative permalink guid is not used (resolved) as the item link",
}

# file name -> {bug id -> fields of the canonical form it affects}.  A field is a dotted path
# into the canonical form; ``*`` stands for every item.
KNOWN_BUGS: dict[str, dict[str, tuple[str, ...]]] = {
    "dates_atom.atom": {"B13": ("items.1.published", "items.3.published")},
    "media_rss.xml": {
        "B7": ("items.0.enclosures.0.length", "items.1.enclosures.0.length"),
    },
    "missing_fields_atom.atom": {
        "B13": ("items.0.guid", "items.0.published", "items.2.summary"),
    },
    "missing_fields_rss.xml": {"B13": ("items.2.guid",)},
    "rss091.xml": {"B1": ("feed.language",), "B18": ("feed.has_problems",)},
    "rss20_dc_date.xml": {"B1": ("feed.language",), "B13": ("items.*.guid",)},
    "rss20_minimal_title_link.xml": {"B13": ("items.*.guid",)},
    "rss20_relative_links.xml": {"B2": ("feed.self_url",), "B19": ("items.3.link",)},
    "social_timeline.xml": {"B7": ("items.0.enclosures.0.length",)},
}

MASKED = "<known bug>"


def bug_reason(name: str) -> str:
    return "; ".join(f"{bug}: {BUG_NOTES[bug]}" for bug in KNOWN_BUGS[name])


def mask(data: Any, path: str) -> None:
    """Replace the value(s) at a dotted path (``*`` = every list element) with MASKED."""
    head, _, rest = path.partition(".")
    keys: list[Any]
    if isinstance(data, list):
        keys = list(range(len(data))) if head == "*" else [int(head)]
    else:
        keys = [head]
    for key in keys:
        if rest:
            mask(data[key], rest)
        else:
            data[key] = MASKED


def feed_files() -> list[Path]:
    return sorted(
        path
        for path in FEEDS_DIR.iterdir()
        if path.suffix in FEED_SUFFIXES and not path.name.endswith(EXPECTED_SUFFIX)
    )


def feed_url(path: Path) -> str:
    return URLS.get(path.name, f"https://example.org/feeds/{path.stem}")


def expected_path(path: Path) -> Path:
    return path.with_name(path.stem + EXPECTED_SUFFIX)


def canonical_date(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``; the parser must give aware UTC datetimes."""
    if value is None:
        return None
    assert value.tzinfo is not None, f"naive datetime {value!r}"
    assert value.utcoffset() == timedelta(0), f"datetime not in UTC: {value!r}"
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def canonical_text(value: str | None) -> str | None:
    """Outer whitespace does not matter; an empty string is the same as no value."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def canonical_enclosure(enclosure: Enclosure) -> dict[str, Any]:
    return {"url": enclosure.url, "type": enclosure.type, "length": enclosure.length}


def canonical_item(item: ParsedItem) -> dict[str, Any]:
    return {
        "guid": canonical_text(item.guid),
        "link": item.link,
        "title": canonical_text(item.title),
        "author": canonical_text(item.author),
        "published": canonical_date(item.published),
        "updated": canonical_date(item.updated),
        "summary": canonical_text(item.summary),
        "content": canonical_text(item.content),
        "tags": list(item.tags),
        "enclosures": [canonical_enclosure(enclosure) for enclosure in item.enclosures],
        "base": item.base,
        "language": item.language,
    }


def canonical(parsed: ParsedFeed) -> dict[str, Any]:
    """The comparable form of a parse result (problem texts are free-form: only their
    presence is compared)."""
    return {
        "feed": {
            "format": parsed.format,
            "title": canonical_text(parsed.title),
            "site_url": parsed.site_url,
            "self_url": parsed.self_url,
            "language": parsed.language,
            "ttl_minutes": parsed.ttl_minutes,
            "has_problems": bool(parsed.problems),
        },
        "items": [canonical_item(item) for item in parsed.items],
    }


def parse_file(path: Path) -> ParsedFeed:
    return parse_feed(path.read_bytes(), feed_url(path), CONTENT_TYPES.get(path.name))


def load_expected(path: Path) -> dict[str, Any]:
    target = expected_path(path)
    if not target.exists():
        pytest.fail(f"{target.name} is missing: run with NEWSDESK_UPDATE_GOLDEN=1 and review it")
    data: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
    return data


def write_expected(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    expected_path(path).write_text(text, encoding="utf-8")


def error_class(name: str) -> type[errors.ParseError]:
    cls = getattr(errors, name, None)
    assert isinstance(cls, type) and issubclass(cls, errors.ParseError), name
    return cls


def golden_cases() -> list[Any]:
    params = []
    for path in feed_files():
        marks = []
        if path.name in KNOWN_BUGS and not UPDATE:
            marks.append(pytest.mark.xfail(reason=bug_reason(path.name), strict=True))
        params.append(pytest.param(path, id=path.name, marks=marks))
    return params


def known_bug_cases() -> list[Any]:
    return [pytest.param(path, id=path.name) for path in feed_files() if path.name in KNOWN_BUGS]


def assert_same(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    """Feed part, item count, then item by item, so a failure names what differs."""
    assert actual["feed"] == expected["feed"]
    assert len(actual["items"]) == len(expected["items"])
    for index, (got, want) in enumerate(zip(actual["items"], expected["items"], strict=True)):
        assert got == want, f"item {index}"


def test_corpus_is_complete() -> None:
    """Every feed has its expected file and every expected file its feed; the per-file
    tables only name files that exist and bugs that are described."""
    names = {path.name for path in feed_files()}
    assert len(names) >= 30
    stems = {Path(name).stem for name in names}
    assert len(stems) == len(names), "two feeds share a stem"
    for expected in FEEDS_DIR.glob("*" + EXPECTED_SUFFIX):
        assert expected.name.removesuffix(EXPECTED_SUFFIX) in stems, f"orphan {expected.name}"
    for table in (URLS, CONTENT_TYPES, KNOWN_BUGS):
        assert set(table) <= names, set(table) - names
    for bugs in KNOWN_BUGS.values():
        assert set(bugs) <= set(BUG_NOTES), set(bugs) - set(BUG_NOTES)


@pytest.mark.parametrize("path", golden_cases())
def test_golden(path: Path) -> None:
    """The whole parse result equals the reviewed expected file."""
    if UPDATE:
        if path.name in KNOWN_BUGS:
            pytest.skip("hand-corrected expectation kept (listed in KNOWN_BUGS)")
        try:
            data = canonical(parse_file(path))
        except errors.ParseError as exc:
            data = {"error": type(exc).__name__}
        write_expected(path, data)
        pytest.skip(f"wrote {expected_path(path).name}")

    expected = load_expected(path)
    if "error" in expected:
        with pytest.raises(error_class(expected["error"])):
            parse_file(path)
        return
    assert_same(canonical(parse_file(path)), expected)


@pytest.mark.parametrize("path", known_bug_cases())
def test_golden_outside_known_bugs(path: Path) -> None:
    """For a case with known bugs, everything the bugs do not touch is as expected."""
    if UPDATE:
        pytest.skip("update mode")
    expected = load_expected(path)
    actual = canonical(parse_file(path))
    for fields in KNOWN_BUGS[path.name].values():
        for field in fields:
            mask(expected, field)
            mask(actual, field)
    assert_same(actual, expected)


@pytest.mark.parametrize("path", [pytest.param(path, id=path.name) for path in feed_files()])
def test_parses_with_expected_item_count(path: Path) -> None:
    """No exception (other than the expected ParseError) and no item lost or invented."""
    if UPDATE:
        pytest.skip("update mode")
    expected = load_expected(path)
    if "error" in expected:
        with pytest.raises(error_class(expected["error"])):
            parse_file(path)
        return
    parsed = parse_file(path)
    assert len(parsed.items) == len(expected["items"])
    assert parsed.format == expected["feed"]["format"]

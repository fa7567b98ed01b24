"""Properties of parse and process over generated input (hypothesis):

- ``parse_feed`` raises nothing but ``ParseError`` on any bytes, and on feeds with hostile text
  in every field;
- whatever comes out of processing is sanitized: inert HTML, web URLs only, no control
  characters in text;
- the identity of an entry (its key and content hash) is stable across fetches: the same
  document processed at another time, or with its items in another order, gives the same
  entries.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile.inert import assert_inert, assert_no_control_chars, assert_safe_url
from hostile.payloads import HTML_VECTORS, LINK_VECTORS, TITLE_VECTORS
from newsdesk.errors import ParseError
from newsdesk.model import ParsedFeed, ParsedItem
from newsdesk.parse import parse_feed
from newsdesk.process.pipeline import process_feed
from newsdesk.process.sanitize import html_to_text, sanitize_html

URL = "http://feed.example/rss"
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
# Few examples by default (`make test` stays quick); NEWSDESK_FUZZ_EXAMPLES=2000 (`make fuzz`)
# for a long run.
FUZZ = settings(
    max_examples=int(os.environ.get("NEWSDESK_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Text that stresses parsers and sanitizers: markup, entities, CDATA ends, controls, surrogates
# of every plane, and the known vectors.
pieces = st.sampled_from(
    [
        "<",
        ">",
        "&",
        "&amp;",
        "&#0;",
        "&#x1b;",
        "&nbsp;",
        "]]>",
        "<![CDATA[",
        "<!--",
        "-->",
        '"',
        "'",
        "\x00",
        "\x1b[2J",
        "\u0085",
        "\u2028",
        "\ufeff",
        "javascript:",
        "<a href=",
        "<script>",
        "</",
        "<svg",
        " on",
        "load=",
        "=",
        "\n",
        "\r",
        "\t",
        *HTML_VECTORS,
        *TITLE_VECTORS,
        *LINK_VECTORS,
    ]
)
hostile_text = st.lists(st.one_of(pieces, st.text(max_size=20)), max_size=12).map("".join)


# Prefixes that send bytes down particular paths: BOMs (UTF-16 decoding), XML declarations
# with odd encodings (feedparser's fallback), JSON.
prefixes = st.sampled_from(
    [
        b"",
        b"\xff\xfe",
        b"\xfe\xff",
        b"\xef\xbb\xbf",
        b'<?xml version="1.0" encoding="utf-16"?>',
        b'<?xml version="1.0" encoding="x\x00y"?><rss version="2.0"><channel>',
        b'<rss version="2.0"><channel><title>',
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry>',
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [',
    ]
)


@FUZZ
@given(st.builds(lambda p, b: p + b, prefixes, st.binary(max_size=4096)))
def test_any_bytes_parse_or_raise_parse_error(body: bytes) -> None:
    try:
        parsed = parse_feed(body, URL)
    except ParseError:
        return
    process_feed(parsed, URL, NOW)


def _rss(fields: list[tuple[str, str, str, str, str]], raw: bool) -> bytes:
    wrap = (lambda s: s) if raw else escape
    items = "".join(
        f"<item><title>{wrap(t)}</title><link>{wrap(link)}</link><guid>{wrap(g)}</guid>"
        f"<description>{wrap(d)}</description><author>{wrap(a)}</author></item>"
        for t, link, g, d, a in fields
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>F</title>'
        f"<link>http://feed.example/</link>{items}</channel></rss>"
    ).encode("utf-8", "surrogatepass")


item_fields = st.tuples(hostile_text, hostile_text, hostile_text, hostile_text, hostile_text)


@FUZZ
@given(st.lists(item_fields, max_size=5), st.booleans(), st.integers(0, 400))
def test_hostile_feeds_parse_or_raise_parse_error(
    fields: list[tuple[str, str, str, str, str]], raw: bool, cut: int
) -> None:
    body = _rss(fields, raw)
    for candidate in (body, body[: len(body) - cut]):
        try:
            parsed = parse_feed(candidate, URL)
        except ParseError:
            continue
        _assert_sanitized(parsed)


def _assert_sanitized(parsed: ParsedFeed) -> None:
    for entry in process_feed(parsed, URL, NOW):
        assert_inert(entry.content_html, "content_html")
        assert_inert(entry.summary_html, "summary_html")
        assert_safe_url(entry.url, "url")
        for enclosure in entry.enclosures:
            assert_safe_url(enclosure.url, "enclosure")
        for link in entry.links:
            assert_safe_url(link, "link")
        for name in ("title", "author", "content_text"):
            assert_no_control_chars(getattr(entry, name), name)


@FUZZ
@given(hostile_text, st.sampled_from([None, URL, "javascript:alert(1)//", "data:x,"]))
def test_sanitized_html_is_always_inert(html: str, base: str | None) -> None:
    clean = sanitize_html(html, base)
    assert_inert(clean, "sanitize_html")
    assert_no_control_chars(html_to_text(clean), "html_to_text")
    # Sanitizing is a fixed point: a second pass finds nothing more to remove.
    assert_inert(sanitize_html(clean, base), "sanitize_html twice")


optional = st.one_of(st.none(), hostile_text)
items = st.builds(
    ParsedItem,
    guid=optional,
    link=st.one_of(
        st.none(),
        st.sampled_from(["http://feed.example/a", "https://x.example/b?c=d"]),
        hostile_text,
    ),
    title=optional,
    author=optional,
    summary=optional,
    content=optional,
    published=st.one_of(st.none(), st.datetimes(timezones=st.just(UTC))),
    tags=st.lists(hostile_text, max_size=3),
)


@FUZZ
@given(st.lists(items, max_size=8), st.randoms(use_true_random=False), st.integers(1, 10_000))
def test_entry_identity_is_stable_across_fetches(
    parsed_items: list[ParsedItem], rng: object, minutes: int
) -> None:
    first = process_feed(ParsedFeed(title="F", items=list(parsed_items)), URL, NOW)
    later = NOW + timedelta(minutes=minutes)
    again = process_feed(ParsedFeed(title="F", items=list(parsed_items)), URL, later)
    assert [(e.key, e.content_hash) for e in first] == [(e.key, e.content_hash) for e in again]
    assert len({e.key for e in first}) == len(first)  # keys are unique within a fetch
    shuffled = list(parsed_items)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    reordered = process_feed(ParsedFeed(title="F", items=shuffled), URL, later)
    # Items with distinct identities keep their keys whatever the order.
    plain = {(e.key, e.content_hash) for e in first if "#" not in e.key}
    assert plain <= {(e.key, e.content_hash) for e in reordered} | {
        (e.key.split("#")[0], e.content_hash) for e in reordered
    }


@FUZZ
@given(st.lists(item_fields, min_size=1, max_size=4))
def test_identity_survives_the_round_trip_through_bytes(
    fields: list[tuple[str, str, str, str, str]],
) -> None:
    body = _rss(fields, raw=False)
    try:
        one = process_feed(parse_feed(body, URL), URL, NOW)
        two = process_feed(parse_feed(body, URL), URL, NOW + timedelta(hours=1))
    except ParseError:
        return
    assert [(e.key, e.content_hash) for e in one] == [(e.key, e.content_hash) for e in two]

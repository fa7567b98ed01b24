"""Process stages alone: identity, kind, social markers, tags, links, URLs, sanitizing, text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsdesk.model import Enclosure, ParsedFeed, ParsedItem
from newsdesk.process.classify import classify, hashtags, outbound_links
from newsdesk.process.pipeline import entry_key, process_feed, process_item
from newsdesk.process.sanitize import html_to_text, sanitize_html
from newsdesk.process.social import feed_handle, read_markers
from newsdesk.process.urls import canonical_url

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
FEED = "https://example.org/feed.xml"


def test_identity_prefers_guid_then_link_then_content() -> None:
    assert entry_key(ParsedItem(guid="g", link="https://x/1")) == "g:g"
    assert entry_key(ParsedItem(link="https://x/1")) == "l:https://x/1"
    a = entry_key(ParsedItem(title="t", content="c"))
    assert a.startswith("h:") and a == entry_key(ParsedItem(title="t", content="c"))
    assert a != entry_key(ParsedItem(title="t", content="d"))


def test_duplicate_guids_in_one_fetch_stay_distinct_and_stable() -> None:
    items = [
        ParsedItem(guid="same", title="one", content="<p>first</p>"),
        ParsedItem(guid="same", title="two", content="<p>second</p>"),
    ]
    first = [e.key for e in process_feed(ParsedFeed(items=items), FEED, NOW)]
    again = [e.key for e in process_feed(ParsedFeed(items=items), FEED, NOW)]
    assert len(set(first)) == 2 and first == again


@pytest.mark.parametrize(
    ("title", "text", "kind"),
    [
        (None, "Just a toot", "post"),
        ("Just a tweet that was cut…", "Just a tweet that was cut off here", "post"),
        ("Same text", "Same text", "post"),
        ("A headline", "The body says something else entirely.", "article"),
        ("Long", "Long " + "word " * 400, "article"),
    ],
)
def test_kind(title: str | None, text: str, kind: str) -> None:
    assert classify(title, text) == kind


def test_markers_are_metadata() -> None:
    rt = read_markers("RT by @mikenov: Americans' approval", "@thehill", "x / @mikenov")
    assert (rt.title, rt.author, rt.reposted_by) == ("Americans' approval", "@thehill", "@mikenov")
    reply = read_markers("R to @emptywheel: Who paid?", "@mikenov", None)
    assert (reply.title, reply.reply_to) == ("Who paid?", "@emptywheel")
    bridge = read_markers("x", "RT: Some Analyst (@someanalyst)", "Twitter @AmbJohnBolton")
    assert bridge.author == "Some Analyst (@someanalyst)"
    assert bridge.reposted_by == "@AmbJohnBolton"
    assert feed_handle("@natsec.example.com - Nat Sec Reporter") == "@natsec.example.com"


def test_hashtags_and_links() -> None:
    assert hashtags("Hi #Smirnov and #FBI, not a#tag, #Путин,") == ["smirnov", "fbi", "путин"]
    html = (
        '<p><a href="https://t.co/x">https://t.co/x</a> <a href="https://m/tags/x">#x</a>'
        ' <a href="https://m/@u">@u</a> <a href="https://a/b"><img src="https://a/i"></a></p>'
    )
    assert outbound_links(html, "see https://bare.example/p?q=1.", None) == [
        "https://t.co/x",
        "https://bare.example/p?q=1",
    ]


def test_canonical_url_removes_trackers_and_fragments() -> None:
    assert canonical_url("HTTPS://Example.COM/a?utm_source=x&b=2&fbclid=y#frag") == (
        "https://example.com/a?b=2"
    )
    assert canonical_url("http://127.0.0.1:8080/p/?utm_medium=social") == (
        "http://127.0.0.1:8080/p/"
    )
    assert canonical_url("mailto:a@b") == "mailto:a@b"


@pytest.mark.parametrize(
    "dirty",
    [
        "<script>alert(1)</script><p>ok</p>",
        '<p onclick="alert(1)">ok</p>',
        '<a href="javascript:alert(1)">ok</a>',
        '<a href="&#106;avascript:alert(1)">ok</a>',
        '<a href="JaVaScRiPt:alert(1)">ok</a>',
        '<a href="vbscript:msgbox(1)">ok</a>',
        '<img src="data:image/svg+xml;base64,PHN2Zz4=">ok',
        '<iframe src="https://evil.example/"></iframe>ok',
        '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>ok',
        '<form action="https://evil/"><input></form>ok',
        '<meta http-equiv="refresh" content="0;url=https://evil/">ok',
        '<base href="https://evil/">ok',
        '<object data="x.swf"></object>ok',
        "<style>body{display:none}</style>ok",
    ],
)
def test_sanitize_leaves_nothing_active(dirty: str) -> None:
    clean = sanitize_html(dirty, "https://example.org/")
    lowered = clean.lower()
    for bad in (
        "<script",
        "onclick",
        "javascript:",
        "vbscript:",
        "data:",
        "<iframe",
        "<svg",
        "<form",
        "<meta",
        "<base",
        "<object",
        "<style",
        "display:none",
    ):
        assert bad not in lowered, (dirty, clean)
    assert "ok" in clean


def test_sanitize_keeps_an_objects_fallback_content() -> None:
    # What an <object> holds is the HTML a browser shows when it does not run the object.
    clean = sanitize_html(
        '<object data="x.swf"><param name="movie" value="x.swf"><b>Transcript</b></object>',
        "https://example.org/",
    )
    assert clean == "<b>Transcript</b>"


def test_a_title_loses_what_looks_like_a_tag_whatever_its_type() -> None:
    # Deliberate (docs/feed-conformance.md): a title is plain text everywhere, and an API
    # client that shows it as HTML must find nothing live in it, so "<blink>" goes even from a
    # title the feed declares as text.
    words = "History of the <blink> tag"
    assert process_item(ParsedItem(guid="1", title=words), FEED, NOW).title == "History of the tag"


def test_sanitize_resolves_urls_and_marks_links() -> None:
    clean = sanitize_html('<a href="/p">x</a><img src="i.png">', "https://example.org/a/")
    assert 'href="https://example.org/p"' in clean
    assert 'src="https://example.org/a/i.png"' in clean
    assert 'rel="noopener noreferrer"' in clean


def test_text_keeps_paragraphs() -> None:
    text = html_to_text("<p>One <b>bold</b></p><ul><li>a</li><li>b</li></ul><p>Two<br>lines</p>")
    assert text == "One bold\n\na\n\nb\n\nTwo\nlines"


def test_dates_from_the_feed_or_first_seen() -> None:
    dated = process_item(ParsedItem(guid="1", published=NOW - timedelta(hours=2)), FEED, NOW)
    assert dated.published == NOW - timedelta(hours=2) and dated.date_from_feed
    undated = process_item(ParsedItem(guid="2"), FEED, NOW)
    assert undated.published == NOW and not undated.date_from_feed
    future = process_item(ParsedItem(guid="3", published=NOW + timedelta(days=400)), FEED, NOW)
    assert future.published == NOW
    ancient = process_item(
        ParsedItem(guid="4", published=datetime(1901, 1, 1, tzinfo=UTC)), FEED, NOW
    )
    assert ancient.published == NOW


def test_enclosures_and_unsafe_links_dropped() -> None:
    entry = process_item(
        ParsedItem(
            guid="1",
            link="javascript:alert(1)",
            title="t",
            content="<p>x</p>",
            enclosures=[
                Enclosure("https://cdn/x.mp3", "audio/mpeg", 123),
                Enclosure("data:audio/mp3;base64,AAA", "audio/mpeg"),
            ],
        ),
        FEED,
        NOW,
    )
    assert entry.url is None
    assert [e.url for e in entry.enclosures] == ["https://cdn/x.mp3"]
    assert entry.enclosures[0].length == 123


def test_summary_only_articles_want_full_text() -> None:
    short = process_item(
        ParsedItem(
            guid="1",
            link="https://x/a",
            title="Headline",
            summary="<p>Start of the story&hellip;</p>",
        ),
        FEED,
        NOW,
    )
    assert short.kind == "article" and short.wants_fulltext
    full = process_item(
        ParsedItem(
            guid="2",
            link="https://x/b",
            title="Headline",
            content="<p>" + "Long text. " * 300 + "</p>",
        ),
        FEED,
        NOW,
    )
    assert not full.wants_fulltext


def test_web_urls_get_a_lower_case_scheme() -> None:
    entry = process_item(
        ParsedItem(
            guid="1",
            link="HTTPS://Example.org/a",
            title="t",
            content="<p>x</p>",
            enclosures=[Enclosure("hTTp://cdn.example/x.mp3", "audio/mpeg")],
        ),
        FEED,
        NOW,
    )
    assert entry.url == "https://Example.org/a"
    assert entry.enclosures[0].url == "http://cdn.example/x.mp3"


def test_web_urls_are_read_as_a_browser_reads_them() -> None:
    from newsdesk.process.urls import web_url

    assert web_url("https:/\n/social.example/@juno/1") == "https://social.example/@juno/1"
    assert web_url(" \x01HTTPS://a.example/b\t") == "https://a.example/b"
    assert web_url("java\nscript:alert(1)") is None

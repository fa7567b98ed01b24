"""Outgoing Atom 1.0, RSS 2.0 and JSON Feed 1.1: valid, complete, escaped; read back with our
own parser and with feedparser."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import feedparser
import pytest
from lxml import etree

from newsdesk.model import Enclosure, StoredEntry
from newsdesk.parse import parse_feed
from newsdesk.publish.feeds import FeedMeta, entry_id, entry_title, render_feed

META = FeedMeta(
    title='Desk <"news"> & more',
    id="https://desk.example/syndicate/all",
    self_url="/syndicate/all.atom",
    home_url="/",
    base_url="https://desk.example/",
)


def _entry(n: int, **fields: object) -> StoredEntry:
    values: dict[str, object] = {
        "id": n,
        "feed_id": 1,
        "feed_title": "Source & Co",
        "category": "World",
        "kind": "article",
        "key": f"k{n}",
        "url": f"https://news.example/{n}?a=1&b=2",
        "title": f"Title {n} <b>not bold</b> & ‘quotes’",
        "author": "Ann <ann@example.org>",
        "published": datetime(2024, 2, 27, 12, n, tzinfo=UTC),
        "updated": None,
        "first_seen": datetime(2024, 2, 27, 13, 0, tzinfo=UTC),
        "content_html": f"<p>Full <em>content</em> {n} &amp; more</p>",
        "content_text": f"Full content {n} & more",
        "summary_html": None,
        "tags": ["politics", "a&b"],
        "enclosures": [Enclosure(f"https://cdn.example/{n}.mp3", "audio/mpeg", 1234)],
    }
    values.update(fields)
    return StoredEntry(**values)  # type: ignore[arg-type]


ENTRIES = [
    _entry(3),
    _entry(2, kind="post", title=None, author="@mikenov", content_text="A post about things\x0b"),
    _entry(1, content_html="<p>bad \x01 control</p>", url=None),
]
TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml", "json": "application/json"}


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_round_trip_through_both_parsers(fmt: str) -> None:
    body = render_feed(fmt, META, ENTRIES)
    ours = parse_feed(body, "https://desk.example/syndicate/all." + fmt, TYPES[fmt])
    assert ours.title == META.title
    assert [i.title for i in ours.items] == [entry_title(e) for e in ENTRIES]
    assert ours.items[0].link == ENTRIES[0].url
    assert ours.items[0].published == ENTRIES[0].published
    assert "Full <em>content</em> 3 &amp; more" in (ours.items[0].content or "")
    assert ours.items[0].enclosures[0].url == "https://cdn.example/3.mp3"
    assert "politics" in ours.items[0].tags
    assert ours.items[1].title == "@mikenov: A post about things"
    assert ours.items[2].link is None
    if fmt == "json":
        document = json.loads(body)
        assert document["version"] == "https://jsonfeed.org/version/1.1"
        assert document["feed_url"] == "https://desk.example/syndicate/all.atom"
        assert document["items"][0]["attachments"][0]["mime_type"] == "audio/mpeg"
        return
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.feed.title == META.title
    first = parsed.entries[0]
    assert first.title == ENTRIES[0].title
    assert first.link == ENTRIES[0].url
    assert first.id == entry_id(ENTRIES[0], META)
    assert "Full <em>content</em> 3" in first.content[0].value
    assert first.enclosures[0].href == "https://cdn.example/3.mp3"
    assert "\x01" not in body.decode()


def test_atom_is_well_formed_and_complete() -> None:
    root = etree.fromstring(render_feed("atom", META, ENTRIES))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert root.find("a:id", ns).text == META.id  # type: ignore[union-attr]
    self_link = root.find("a:link[@rel='self']", ns)
    assert (
        self_link is not None and self_link.get("href") == "https://desk.example/syndicate/all.atom"
    )
    for entry in root.findall("a:entry", ns):
        # Required by RFC 4287: id, title, updated; content marked as HTML.
        assert entry.find("a:id", ns) is not None
        assert entry.find("a:title", ns) is not None
        assert entry.find("a:updated", ns) is not None
        assert entry.find("a:content", ns).get("type") == "html"  # type: ignore[union-attr]


def test_rss_dates_and_guids() -> None:
    root = etree.fromstring(render_feed("rss", META, ENTRIES))
    item = root.find("channel/item")
    assert item is not None
    assert item.findtext("pubDate") == "Tue, 27 Feb 2024 12:03:00 GMT"
    assert item.find("guid").get("isPermaLink") == "false"  # type: ignore[union-attr]
    assert root.find("channel/link").text == "https://desk.example/"  # type: ignore[union-attr]


def test_ids_are_stable_and_distinct() -> None:
    assert entry_id(ENTRIES[0], META) == entry_id(_entry(3), META)
    assert len({entry_id(e, META) for e in ENTRIES}) == len(ENTRIES)


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown feed format"):
        render_feed("opml", META, ENTRIES)

"""Hostile and broken feeds: malformed XML, wrong encodings, huge feeds, duplicate and rotating
GUIDs, items with nothing to identify them, absurd dates; OPML with huge or deep outlines.
Each either parses to something sensible or fails with a ParseError saying why; a refresh
never floods the store with duplicates."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsdesk.desk import Desk
from newsdesk.errors import NewsdeskError, ParseError
from newsdesk.parse import parse_feed, parse_opml
from newsdesk.parse.opml import MAX_OUTLINES
from newsdesk.process.pipeline import process_feed
from newsdesk.refresh import refresh_sync
from newsdesk.settings import Settings
from newsdesk.store import EntryQuery, SqlStore, open_store

from .inert import inert_problems
from .loopback import LoopbackServer

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
URL = "http://feed.example/rss"


def rss(
    items: str, title: str = "Feed", head: str = '<?xml version="1.0" encoding="utf-8"?>'
) -> bytes:
    return (
        f'{head}<rss version="2.0"><channel><title>{title}</title>{items}</channel></rss>'.encode()
    )


def item(
    guid: str | None = None,
    title: str = "t",
    link: str | None = None,
    body: str = "b",
    date: str | None = None,
) -> str:
    parts = [f"<title>{title}</title>", f"<description>{body}</description>"]
    if guid is not None:
        parts.append(f"<guid isPermaLink='false'>{guid}</guid>")
    if link is not None:
        parts.append(f"<link>{link}</link>")
    if date is not None:
        parts.append(f"<pubDate>{date}</pubDate>")
    return "<item>" + "".join(parts) + "</item>"


@pytest.mark.parametrize(
    "body",
    [
        b"<rss",
        b"<rss version='2.0'><channel><title>x</title><item><title>a</item></channel>",
        b"<rss version='2.0'><channel><title>x &undefined; & < ></title></channel></rss>",
        b"<rss><channel><item><title><![CDATA[unterminated</title></item></channel></rss>",
        b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><entry><title>a",
        b"<?xml version='1.0' encoding='no-such-charset'?><rss><channel><title>x</title>"
        b"</channel></rss>",
        b"\x00\x01\x02<rss>\x00</rss>",
        b"<rss>" + b"<channel>" * 10_000 + b"</rss>",
        b"<rss version='2.0'><channel><title>" + b"x" * 5_000_000 + b"</title></channel></rss>",
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [1, "a", null, {}]}',
        b'{"items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b"[]",
        b"<html><body>not a feed</body></html>",
        b"\xff\xfe<\x00r\x00s\x00s\x00",
        b"   ",
        bytes(range(256)) * 10,
    ],
)
def test_malformed_documents_parse_or_fail_with_a_parse_error(body: bytes) -> None:
    try:
        parsed = parse_feed(body, URL, "application/rss+xml")
    except ParseError as exc:
        assert str(exc)
        return
    entries = process_feed(parsed, URL, NOW)
    assert all(e.key for e in entries)


def test_declared_utf8_with_latin1_bytes_is_read_as_intended() -> None:
    body = rss(item("1", title="Caf\xe9 cr\xe8me", body="na\xefve").replace("", ""))
    latin = body.decode("utf-8").encode("latin-1")  # the bytes say Latin-1, the header UTF-8
    parsed = parse_feed(latin, URL)
    assert parsed.items[0].title == "Café crème"
    assert any("not valid UTF-8" in p for p in parsed.problems)


def test_invalid_utf8_never_raises_anything_but_parse_error() -> None:
    for junk in (b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xf0\x28\x8c\xbc", b"\xed\xa0\x80"):
        body = rss(item("1", title="x")).replace(b"<title>x", b"<title>x" + junk)
        parsed = parse_feed(body, URL)
        entries = process_feed(parsed, URL, NOW)
        assert entries[0].title is not None and entries[0].title.startswith("x")


@pytest.mark.parametrize("count", [10_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_a_huge_feed_parses_in_bounded_memory(count: int) -> None:
    items = "".join(
        item(f"g{i}", title=f"Item {i}", link=f"http://feed.example/{i}", body=f"body {i}")
        for i in range(count)
    )
    body = rss(items)
    tracemalloc.start()
    try:
        parsed = parse_feed(body, URL)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(parsed.items) == count
    assert parsed.items[-1].title == f"Item {count - 1}"
    # Memory grows with the feed (it is all kept), but stays a small multiple of its size.
    assert peak < 40 * len(body), f"{peak / 1e6:.0f} MB for a {len(body) / 1e6:.0f} MB feed"


@pytest.mark.slow
def test_a_100000_item_feed_through_a_refresh(tmp_path: Path) -> None:
    server = LoopbackServer().start()
    try:
        items = "".join(item(f"g{i}", title=f"Item {i}", body=f"b {i}") for i in range(100_000))
        store = open_store(f"sqlite:///{tmp_path}/n.db")
        try:
            store.add_feed(server.static("/big", rss(items)))
            settings = Settings(
                allow_private_networks=True,
                fulltext=False,
                expand_links=False,
                max_body_bytes=64 * 1024 * 1024,
            )
            report = refresh_sync(store, settings)
            assert report.errors == [] and report.new_entries == 100_000
            again = refresh_sync(store, settings)
            assert again.new_entries == 0
            assert store.count_entries(EntryQuery()) == 100_000
        finally:
            store.close()
    finally:
        server.stop()


class FeedSite:
    """One loopback feed whose document a test replaces between refreshes."""

    def __init__(self, server: LoopbackServer, store: SqlStore) -> None:
        self.server = server
        self.store = store
        self.url = server.url("/feed")
        self.settings = Settings(allow_private_networks=True, fulltext=False, expand_links=False)
        store.add_feed(self.url)

    def refresh(self, body: bytes) -> int:
        self.server.static("/feed", body)
        report = refresh_sync(self.store, self.settings)
        assert report.errors == [], report.errors[0].error
        return report.new_entries

    def count(self) -> int:
        return self.store.count_entries(EntryQuery())


@pytest.fixture
def site(public: LoopbackServer, tmp_path: Path):  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{tmp_path}/n.db")
    yield FeedSite(public, store)
    store.close()


def test_duplicate_guids_in_one_document_keep_both_items_once(site: FeedSite) -> None:
    body = rss(
        item("same", title="first", body="one")
        + item("same", title="second", body="two")
        + item("same", title="second", body="two")
    )
    assert site.refresh(body) == 2
    assert site.refresh(body) == 0
    assert sorted(e.title or "" for e in site.store.list_entries(EntryQuery())) == [
        "first",
        "second",
    ]


def test_guids_that_rotate_on_every_fetch_do_not_flood_the_store(site: FeedSite) -> None:
    def document(fetch: int) -> bytes:
        return rss(
            "".join(
                item(
                    f"rotating-{fetch}-{i}",
                    title=f"Story {i}",
                    link=f"http://feed.example/s/{i}",
                    body=f"Text of story {i}",
                )
                for i in range(20)
            )
        )

    assert site.refresh(document(0)) == 20
    for fetch in range(1, 6):
        assert site.refresh(document(fetch)) == 0
    assert site.count() == 20


def test_items_without_id_link_or_date_are_stable_across_fetches(site: FeedSite) -> None:
    body = rss(
        "".join(item(title=f"Anonymous {i}", body=f"text {i}") for i in range(10))
        + "<item><description>only a body</description></item>"
        + "<item><title>only a title</title></item>"
    )
    assert site.refresh(body) == 12
    assert site.refresh(body) == 0
    assert site.refresh(body) == 0
    entries = site.store.list_entries(EntryQuery(limit=100))
    assert len({e.key for e in entries}) == 12
    assert all(e.published is not None for e in entries)


@pytest.mark.parametrize(
    "date",
    [
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Sat, 01 Jan 3000 00:00:00 GMT",
        "Mon, 01 Jan 1900 00:00:00 GMT",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "0001-01-01T00:00:00Z",
        "-0001-01-01T00:00:00Z",
        "99999-01-01T00:00:00Z",
        "2024-13-45T99:99:99Z",
        "Tue, 31 Dec 1969 23:59:59 -2400",
        "1e308",
        "not a date",
    ],
)
def test_absurd_dates_fall_back_to_the_time_first_seen(date: str) -> None:
    parsed = parse_feed(rss(item("1", date=date)), URL)
    (entry,) = process_feed(parsed, URL, NOW)
    assert datetime(1970, 1, 1, tzinfo=UTC) <= entry.published <= NOW + timedelta(days=1)
    if entry.published != NOW:  # kept only when it was a sane date
        assert date.startswith("Thu, 01 Jan 1970")


def test_far_future_and_ancient_dates_through_a_refresh(site: FeedSite) -> None:
    body = rss(
        item("future", date="Fri, 31 Dec 9999 23:59:59 GMT")
        + item("ancient", date="Mon, 01 Jan 1900 00:00:00 GMT")
    )
    assert site.refresh(body) == 2
    store = site.store
    for entry in store.list_entries(EntryQuery()):
        assert entry.published <= datetime.now(UTC) + timedelta(days=1)
        assert entry.published.year >= 1970


def _opml(outlines: str) -> bytes:
    return (
        f'<?xml version="1.0"?><opml version="2.0"><head/><body>{outlines}</body></opml>'.encode()
    )


def test_opml_with_100000_outlines() -> None:
    body = _opml(
        "".join(f'<outline text="F{i}" xmlUrl="http://feed.example/{i}"/>' for i in range(100_000))
    )
    outlines = parse_opml(body)
    assert len(outlines) == 100_000
    assert outlines[0].url == "http://feed.example/0"


def test_opml_over_the_outline_limit_is_refused_clearly() -> None:
    body = _opml('<outline text="F" xmlUrl="http://feed.example/x"/>' * (MAX_OUTLINES + 1))
    with pytest.raises(ParseError, match="more than"):
        parse_opml(body)


@pytest.mark.parametrize("depth", [250, 10_000, 100_000])
def test_deeply_nested_opml_parses_or_fails_clearly(depth: int) -> None:
    body = _opml(
        '<outline text="d">' * depth
        + '<outline text="F" xmlUrl="http://feed.example/deep"/>'
        + "</outline>" * depth
    )
    try:
        outlines = parse_opml(body)
    except ParseError as exc:
        assert "not valid XML" in str(exc)
        return
    assert [o.url for o in outlines] == ["http://feed.example/deep"]


@pytest.mark.slow
def test_importing_100000_outlines_through_the_desk(tmp_path: Path) -> None:
    body = _opml(
        "".join(
            f'<outline text="F{i}" xmlUrl="http://feed.example/{i}" category="C{i % 50}"/>'
            for i in range(100_000)
        )
    )
    desk = Desk(Settings(database_url=f"sqlite:///{tmp_path}/n.db"))
    try:
        report = desk.import_opml(body)
        assert len(report.added) == 100_000
        assert len(desk.store.list_feeds()) == 100_000
        again = desk.import_opml(body)
        assert len(again.added) == 0
    finally:
        desk.close()


@pytest.mark.parametrize(
    "outline",
    [
        '<outline text="x" xmlUrl="javascript:alert(1)"/>',
        '<outline text="x" xmlUrl="file:///etc/passwd"/>',
        '<outline text="x" xmlUrl="gopher://127.0.0.1/"/>',
        '<outline text="x" xmlUrl=""/>',
    ],
)
def test_opml_import_skips_urls_that_are_not_web_urls(outline: str, tmp_path: Path) -> None:
    desk = Desk(Settings(database_url=f"sqlite:///{tmp_path}/n.db"))
    try:
        try:
            report = desk.import_opml(_opml(outline))
        except NewsdeskError:
            return
        assert report.added == []
        assert desk.store.list_feeds() == []
    finally:
        desk.close()


def test_junk_dates_never_reach_the_slow_date_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """dateparser costs about a millisecond a date: a 15 MB feed of junk dates (400,000 items)
    would hold the refresh writer for minutes. Dates are read by dateutil only."""
    import dateparser

    calls: list[object] = []
    monkeypatch.setattr(dateparser, "parse", lambda *a, **k: calls.append(a))
    items = "".join(
        f"<item><pubDate>junk {i}</pubDate><guid>g{i}</guid></item>" for i in range(500)
    )
    items += "".join(f"<item><title>no date {i}</title></item>" for i in range(500))
    parsed = parse_feed(rss(items), URL)
    assert len(parsed.items) == 1000
    assert calls == []


CRASHERS = sorted((Path(__file__).parent / "crashers").iterdir())


@pytest.mark.parametrize("path", CRASHERS, ids=[p.name for p in CRASHERS])
def test_inputs_that_once_crashed_the_parser(path: Path) -> None:
    """Found by fuzzing (fuzz/fuzz_parse_feed.py): each raised something other than
    ParseError, which stopped the whole refresh, or broke an invariant of the entries made from
    it (inert HTML, web URLs only) — the fuzz target's checks, replayed."""
    try:
        parsed = parse_feed(path.read_bytes(), URL)
    except ParseError:
        return
    for entry in process_feed(parsed, URL, NOW):
        assert inert_problems(entry.content_html) == [], path.name
        assert entry.url is None or entry.url.startswith(("http://", "https://")), path.name
        assert all(e.url.startswith(("http://", "https://")) for e in entry.enclosures)


def test_a_crashing_document_does_not_stop_the_refresh_of_the_others(
    public: LoopbackServer, tmp_path: Path
) -> None:
    store = open_store(f"sqlite:///{tmp_path}/n.db")
    try:
        for path in CRASHERS:
            store.add_feed(public.static(f"/{path.name}", path.read_bytes()))
        good = store.add_feed(public.static("/good", rss(item("1", title="fine"))))
        settings = Settings(allow_private_networks=True, fulltext=False, expand_links=False)
        report = refresh_sync(store, settings)
        assert report.feeds == len(CRASHERS) + 1
        assert [e.title for e in store.list_entries(EntryQuery(feed_id=good.id))] == ["fine"]
    finally:
        store.close()

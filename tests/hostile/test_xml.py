"""Hostile XML: external entities (XXE) reading a local file, entity expansion bombs, DTDs and
XIncludes pointing at a server. Nothing is expanded, nothing is fetched, memory stays bounded;
the feed is read without them or refused with a clear ParseError."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from newsdesk.errors import ParseError
from newsdesk.model import ParsedFeed
from newsdesk.parse import parse_feed, parse_opml
from newsdesk.process.pipeline import process_feed
from newsdesk.refresh import refresh_sync
from newsdesk.settings import Settings
from newsdesk.store import EntryQuery, open_store

from .loopback import LoopbackServer

SECRET = "NEWSDESK-TOP-SECRET-7f3a"
MB = 1024 * 1024


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


def rss(prolog: str, ref: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{prolog}<rss version="2.0"><channel>'
        f"<title>T {ref}</title><link>http://example.com/</link>"
        f"<item><title>I {ref}</title><guid>1</guid><description>D {ref}</description>"
        f"<author>{ref}</author></item></channel></rss>"
    ).encode()


def laughs(depth: int = 10, fanout: int = 10) -> str:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * fanout}">' for i in range(1, depth)
    ]
    return f"<!DOCTYPE rss [{''.join(entities)}]>"


def cases(secret: Path, server: str) -> dict[str, bytes]:
    file_url = secret.as_uri()
    return {
        "xxe-system-file": rss(f'<!DOCTYPE rss [<!ENTITY x SYSTEM "{file_url}">]>', "&x;"),
        "xxe-public-file": rss(f'<!DOCTYPE rss [<!ENTITY x PUBLIC "-//X" "{file_url}">]>', "&x;"),
        "xxe-http": rss(f'<!DOCTYPE rss [<!ENTITY x SYSTEM "{server}/entity">]>', "&x;"),
        "parameter-entity": rss(
            f'<!DOCTYPE rss [<!ENTITY % p SYSTEM "{server}/evil.dtd"> %p;]>', "&exfil;"
        ),
        "external-dtd": rss(f'<!DOCTYPE rss SYSTEM "{server}/rss.dtd">', "&nbsp;"),
        "external-dtd-public": rss(
            f'<!DOCTYPE rss PUBLIC "-//Netscape//DTD RSS 0.91//EN" "{server}/rss-0.91.dtd">', "x"
        ),
        "billion-laughs": rss(laughs(), "&lol9;"),
        "quadratic-blowup": rss(f'<!DOCTYPE rss [<!ENTITY a "{"A" * 50_000}">]>', "&a;" * 20_000),
        "lowercase-doctype": rss(f'<!doctype rss [<!ENTITY x SYSTEM "{file_url}">]>', "&x;"),
        "utf7-encoded-doctype": (
            b'<?xml version="1.0" encoding="UTF-7"?>'
            b"+ADwAIQ-DOCTYPE rss +AFsAPAAh-ENTITY x SYSTEM +ACI-"
            + file_url.encode()
            + b'+ACIAPgBdAD4-<rss version="2.0"><channel><title>T</title>'
            b"<item><title>I &x;</title><guid>1</guid></item></channel></rss>"
        ),
        "utf16-doctype": (
            '<?xml version="1.0" encoding="utf-16"?>'
            f'<!DOCTYPE rss [<!ENTITY x SYSTEM "{file_url}">]>'
            '<rss version="2.0"><channel><title>T &x;</title>'
            "<item><title>I &x;</title><guid>1</guid></item></channel></rss>"
        ).encode("utf-16"),
        "doctype-after-long-comment": rss(
            "<!--" + "c" * 70_000 + "-->" + f'<!DOCTYPE rss [<!ENTITY x SYSTEM "{file_url}">]>',
            "&x;",
        ),
        "xinclude": (
            b'<?xml version="1.0"?><rss version="2.0" xmlns:xi="http://www.w3.org/2001/XInclude">'
            b"<channel><title>T</title><item><title>I</title><guid>1</guid><description>"
            b'<xi:include href="' + file_url.encode() + b'" parse="text"/>'
            b"</description></item></channel></rss>"
        ),
        "atom-xxe": (
            f'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "{file_url}">]>'
            '<feed xmlns="http://www.w3.org/2005/Atom"><title>T &x;</title>'
            "<entry><id>1</id><title>I &x;</title><content>&x;</content></entry></feed>"
        ).encode(),
    }


def _parse_measured(body: bytes) -> tuple[ParsedFeed | ParseError, int]:
    tracemalloc.start()
    try:
        try:
            outcome: ParsedFeed | ParseError = parse_feed(body, "http://example.com/feed")
        except ParseError as exc:
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


CASE_NAMES = list(cases(Path("/x"), "http://127.0.0.1:1"))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_nothing_is_expanded_or_fetched(
    name: str, secret_file: Path, private: LoopbackServer
) -> None:
    private.static("/entity", SECRET, content_type="text/plain")
    private.static("/rss.dtd", '<!ENTITY nbsp "' + SECRET + '">', content_type="text/plain")
    body = cases(secret_file, private.base)[name]
    outcome, peak = _parse_measured(body)
    assert peak < 32 * MB + 4 * len(body), f"{peak / MB:.1f} MB"
    assert private.hits == []
    if isinstance(outcome, ParseError):
        assert str(outcome)  # a clear message, not a crash
        return
    text = repr(outcome) + repr(process_feed(outcome, "http://example.com/feed", _now()))
    assert SECRET not in text
    assert "lollollol" not in text
    assert "A" * 1000 not in text


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)


def test_hostile_xml_through_a_refresh(
    secret_file: Path, public: LoopbackServer, private: LoopbackServer, tmp_path: Path
) -> None:
    """End to end: every hostile document served, refreshed and stored; the secret is in no
    row, the DTD server saw nothing, and the other feeds were refreshed."""
    private.static("/entity", SECRET, content_type="text/plain")
    store = open_store(f"sqlite:///{tmp_path}/n.db")
    try:
        for name, body in cases(secret_file, private.base).items():
            store.add_feed(public.static(f"/{name}", body, content_type="application/rss+xml"))
        store.add_feed(public.static("/good", rss("", "good")))
        settings = Settings(allow_private_networks=True, fulltext=False, expand_links=False)
        report = refresh_sync(store, settings)
        assert report.feeds == len(CASE_NAMES) + 1
        entries = store.list_entries(EntryQuery(limit=1000))
        assert any(e.title == "I good" for e in entries)
        dump = repr(entries) + repr(store.list_feeds())
        assert SECRET not in dump and "lollollol" not in dump
    finally:
        store.close()
    assert private.hits == []


OPML_HEAD = '<?xml version="1.0"?>'


def opml(prolog: str, title: str) -> bytes:
    return (
        f'{OPML_HEAD}{prolog}<opml version="2.0"><head><title>{title}</title></head><body>'
        f'<outline text="{title}" title="{title}" xmlUrl="http://example.com/f"/></body></opml>'
    ).encode()


@pytest.mark.parametrize(
    "make",
    [
        lambda f, s: opml(f'<!DOCTYPE opml [<!ENTITY x SYSTEM "{f}">]>', "&x;"),
        lambda f, s: opml(f'<!DOCTYPE opml SYSTEM "{s}/opml.dtd">', "plain"),
        lambda f, s: opml(laughs(), "&lol9;"),
        lambda f, s: opml(f'<!DOCTYPE opml [<!ENTITY % p SYSTEM "{s}/p.dtd"> %p;]>', "&e;"),
    ],
)
def test_hostile_opml_expands_and_fetches_nothing(
    make: Callable[[str, str], bytes], secret_file: Path, private: LoopbackServer
) -> None:
    private.static("/p.dtd", f'<!ENTITY e "{SECRET}">', content_type="text/plain")
    body = make(secret_file.as_uri(), private.base)
    tracemalloc.start()
    try:
        try:
            outlines = parse_opml(body)
        except ParseError:
            outlines = []
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert SECRET not in repr(outlines) and "lollollol" not in repr(outlines)
    assert peak < 32 * MB
    assert private.hits == []

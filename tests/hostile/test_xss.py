"""Stored XSS: hostile feeds (RSS, Atom, JSON Feed) with script vectors in every field, fetched
from loopback, refreshed and stored; then every output that exists must be inert: the stored
HTML, the digests (text, Markdown, HTML, JSON), the CLI's JSON and text, the OPML export — and
the web pages, published feeds and API JSON once the web app is there."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from typing import Any

from lxml import etree

from newsdesk.cli import main as cli_main
from newsdesk.desk import Desk
from newsdesk.process.sanitize import sanitize_html
from newsdesk.store import open_store

from .conftest import Hostile
from .inert import assert_inert, assert_no_control_chars, assert_safe_url
from .payloads import HTML_VECTORS


def test_every_vector_is_neutralised_by_the_sanitizer_alone() -> None:
    for vector in HTML_VECTORS:
        assert_inert(sanitize_html(vector, "https://feed.example/"), vector)


def test_stored_html_is_inert(hostile: Hostile) -> None:
    for e in hostile.entries:
        assert_inert(e.content_html, f"entry {e.key} content_html")
        assert_inert(e.summary_html, f"entry {e.key} summary_html")


def test_stored_urls_are_web_urls(hostile: Hostile) -> None:
    for e in hostile.entries:
        assert_safe_url(e.url, f"entry {e.key} url")
        for enclosure in e.enclosures:
            assert_safe_url(enclosure.url, f"entry {e.key} enclosure")
        for link in e.links:
            assert_safe_url(link, f"entry {e.key} link")


def test_stored_feed_links_are_web_urls(hostile: Hostile) -> None:
    store = open_store(hostile.db)
    try:
        for feed in store.list_feeds():
            assert feed.last_error is None
            assert_safe_url(feed.site_url, f"feed {feed.url} site_url")
    finally:
        store.close()


def test_text_fields_carry_no_terminal_escapes(hostile: Hostile) -> None:
    store = open_store(hostile.db)
    try:
        for feed in store.list_feeds():
            assert_no_control_chars(feed.title, "feed title")
    finally:
        store.close()
    for e in hostile.entries:
        for name in ("title", "author", "content_text", "content_html", "summary_html"):
            assert_no_control_chars(getattr(e, name), f"entry {e.key} {name}")
        for tag in e.tags:
            assert_no_control_chars(tag, f"entry {e.key} tag")


def _digest(hostile: Hostile, fmt: str) -> str:
    desk = Desk(hostile.settings)
    try:
        return desk.digest(fmt=fmt, limit=10_000)
    finally:
        desk.close()


def test_html_digest_is_inert(hostile: Hostile) -> None:
    page = _digest(hostile, "html")
    head, body = page.split("</head>", 1)
    assert_inert(head, "digest head", frozenset({"meta", "style"}))
    assert head.count("<style>") == 1 and head.count("<meta") == 2
    assert_inert(body, "digest body")


def _render_markdown_permissively(text: str) -> str:
    """The worst Markdown renderer a digest may meet: raw HTML on, every link scheme allowed."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True})
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md.render(text)


def test_markdown_digest_is_inert_even_in_a_permissive_renderer(hostile: Hostile) -> None:
    text = _digest(hostile, "markdown")
    assert_inert(_render_markdown_permissively(text), "markdown digest rendered")


def test_text_digest_carries_no_terminal_escapes(hostile: Hostile) -> None:
    assert_no_control_chars(_digest(hostile, "text"), "text digest")


def _check_entry_json(item: dict[str, Any], where: str) -> None:
    assert_inert(item.get("content_html"), f"{where} content_html")
    assert_inert(item.get("summary_html"), f"{where} summary_html")
    assert_safe_url(item.get("url"), f"{where} url")
    for enclosure in item.get("enclosures") or []:
        assert_safe_url(enclosure["url"], f"{where} enclosure")
    for link in item.get("links") or []:
        assert_safe_url(link, f"{where} link")


def test_json_digest_is_inert(hostile: Hostile) -> None:
    items = json.loads(_digest(hostile, "json"))
    assert len(items) == len(hostile.entries)
    for item in items:
        _check_entry_json(item, "digest json")


def _cli(hostile: Hostile, *argv: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli_main([*argv, "--db", hostile.db])
    assert code == 0
    return out.getvalue()


def test_cli_json_is_inert(hostile: Hostile) -> None:
    for item in json.loads(_cli(hostile, "entries", "--json", "--limit", "10000")):
        _check_entry_json(item, "cli entries")
    for item in json.loads(_cli(hostile, "search", "body", "--json", "--limit", "10000")):
        _check_entry_json(item, "cli search")
    for feed in json.loads(_cli(hostile, "feeds", "--json")):
        assert_safe_url(feed["site_url"], "cli feeds site_url")


def test_cli_text_carries_no_terminal_escapes(hostile: Hostile) -> None:
    assert_no_control_chars(_cli(hostile, "entries", "--limit", "10000"), "cli entries")
    assert_no_control_chars(_cli(hostile, "feeds"), "cli feeds")
    assert_no_control_chars(_cli(hostile, "search", "body", "--limit", "10000"), "cli search")


def test_opml_export_is_well_formed_and_links_are_web_urls(hostile: Hostile) -> None:
    exported = _cli(hostile, "export")
    root = etree.fromstring(exported.encode())
    outlines = root.findall(".//outline[@xmlUrl]")
    assert len(outlines) == 3
    for outline in outlines:
        assert_safe_url(outline.get("xmlUrl"), "opml xmlUrl")
        assert_safe_url(outline.get("htmlUrl"), "opml htmlUrl")

"""Stored XSS through the web: the reading room's pages, the republished feeds (Atom, RSS,
JSON Feed) and the APIs (native, Miniflux, Google Reader, Fever), all serving the hostile
feeds' entries. Pages must be inert and never fail (no 500); feeds must be well-formed and carry
only sanitized HTML and web links; API JSON must hand clients nothing a client could run."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from lxml import etree

from newsdesk.desk import Desk
from newsdesk.store import open_store

from .conftest import Hostile
from .inert import (
    assert_inert,
    assert_no_control_chars,
    assert_no_script_url,
    assert_safe_url,
    page_problems,
)

web_app = pytest.importorskip("newsdesk.web.app")

PASSWORD = "a long and careful passphrase"


@pytest.fixture
async def client(hostile: Hostile) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    from newsdesk.store.server_key import server_key

    store = open_store(hostile.db)
    try:
        if store.users.get_user("editor") is None:  # the desk's first admin, who follows it all
            store.users.setup_owner("editor", PASSWORD)
            key = server_key(hostile.settings)
            store.users.set_fever("editor", on=True, password=PASSWORD, server_key=key)
        _token, key = store.tokens.create_token(f"xss-{uuid.uuid4().hex[:12]}")
    finally:
        store.close()
    desk = Desk(hostile.settings)
    app = web_app.create_app(hostile.settings, desk=desk, no_auth=True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
        yield c, key
    desk.close()


def _pages(hostile: Hostile) -> list[str]:
    store = open_store(hostile.db)
    try:
        feeds = store.list_feeds()
        categories = [title for _id, title, _n in store.categories()]
    finally:
        store.close()
    tags = sorted({t for e in hostile.entries for t in e.tags})[:10]
    return [
        "/",
        "/categories",
        "/subscriptions",
        "/digest",
        "/search?q=body",
        "/search?q=" + quote('"><svg onload=alert(1)>'),
        "/search?q=" + quote("<script>alert(1)</script>"),
        *(f"/feed/{f.id}" for f in feeds),
        *(f"/subscriptions/{f.id}" for f in feeds),
        *(f"/category/{quote(c, safe='')}" for c in categories),
        *(f"/tag/{quote(t, safe='')}" for t in tags),
        *(f"/entry/{e.id}" for e in hostile.entries),
    ]


async def test_pages_are_inert_and_never_fail(
    hostile: Hostile, client: tuple[httpx.AsyncClient, str]
) -> None:
    c, _key = client
    for path in _pages(hostile):
        response = await c.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code}"
        problems = page_problems(response.text)
        assert not problems, f"{path}: {problems[:5]}"
        assert_no_control_chars(response.text, path)
        csp = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in csp and "object-src 'none'" in csp, path


def _feed_paths(hostile: Hostile) -> list[str]:
    store = open_store(hostile.db)
    try:
        ids = [f.id for f in store.list_feeds()]
        categories = [title for _id, title, _n in store.categories()]
    finally:
        store.close()
    stems = ["all", *(f"feed/{i}" for i in ids), *(f"category/{quote(c)}" for c in categories)]
    return [f"/syndicate/{s}.{fmt}" for s in stems for fmt in ("atom", "rss", "json")]


async def test_republished_feeds_carry_only_sanitized_html(
    hostile: Hostile, client: tuple[httpx.AsyncClient, str]
) -> None:
    c, _key = client
    for path in _feed_paths(hostile):
        response = await c.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code}"
        if path.endswith(".json"):
            _check_json_feed(response.json(), path)
        else:
            _check_xml_feed(response.content, path)


def _check_xml_feed(body: bytes, where: str) -> None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(body, parser)  # well-formed, whatever the titles held
    atom = "{http://www.w3.org/2005/Atom}"
    for node in root.iter():
        tag = node.tag if isinstance(node.tag, str) else ""
        local = tag.rsplit("}", 1)[-1]
        parent = node.getparent()
        in_item = parent is not None and str(parent.tag).rsplit("}", 1)[-1] in ("item", "entry")
        if local in ("content", "summary", "description", "encoded") and node.text and in_item:
            assert_inert(node.text, f"{where} <{local}>")
        if local == "title" and node.get("type") in ("html", "xhtml"):
            assert_inert(node.text, f"{where} <title type=html>")
        if local in ("link", "enclosure") and (href := node.get("href") or node.get("url")):
            assert_no_script_url(href, f"{where} <{local}>")
        if local == "link" and node.text and not tag.startswith(atom):
            assert_no_script_url(node.text.strip(), f"{where} <link>")


def _check_json_feed(doc: dict[str, Any], where: str) -> None:
    assert_no_script_url(doc.get("home_page_url"), f"{where} home_page_url")
    for item in doc.get("items", []):
        assert_inert(item.get("content_html"), f"{where} content_html")
        assert_inert(item.get("summary"), f"{where} summary")
        for key in ("url", "external_url", "image"):
            assert_no_script_url(item.get(key), f"{where} {key}")
        for attachment in item.get("attachments", []):
            assert_no_script_url(attachment.get("url"), f"{where} attachment")


HTML_KEYS = {"content", "content_html", "summary_html", "html", "summary"}
URL_KEYS = {"url", "link", "site_url", "href", "external_url", "feed_url", "canonical"}


def _walk(value: Any, where: str) -> None:
    """Every string a client might render as HTML is inert; every URL a client might put in a
    link is a web URL."""
    if isinstance(value, dict):
        for key, inner in value.items():
            k = str(key).lower()
            if isinstance(inner, str) and k in HTML_KEYS:
                assert_inert(inner, f"{where}.{key}")
            elif isinstance(inner, str) and k in URL_KEYS and inner:
                assert_safe_url(inner, f"{where}.{key}")
            elif isinstance(inner, dict) and k == "content" and "content" in inner:
                assert_inert(str(inner["content"]), f"{where}.{key}.content")
            _walk(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _walk(inner, f"{where}[{index}]")
    elif isinstance(value, str):
        assert "javascript:" not in value.lower().replace(" ", "")[:11], where


API_GETS = [
    "/api/entries?limit=500",
    "/api/subscriptions",
    "/api/categories",
    "/api/digest",
    "/v1/entries?limit=500",
    "/v1/feeds",
    "/v1/categories",
    "/reader/api/0/stream/contents/user/-/state/com.google/reading-list?n=500&output=json",
    "/reader/api/0/subscription/list?output=json",
    "/reader/api/0/tag/list?output=json",
]


async def test_api_json_hands_clients_nothing_they_could_run(
    hostile: Hostile, client: tuple[httpx.AsyncClient, str]
) -> None:
    c, key = client
    headers = {"Authorization": f"Bearer {key}"}
    for path in API_GETS:
        response = await c.get(path, headers=headers)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:200]}"
        _walk(response.json(), path)
    for entry in hostile.entries[:40]:
        for path in (f"/api/entries/{entry.id}", f"/v1/entries/{entry.id}"):
            response = await c.get(path, headers=headers)
            assert response.status_code == 200, path
            _walk(response.json(), path)


async def test_fever_api_is_inert(hostile: Hostile, client: tuple[httpx.AsyncClient, str]) -> None:
    import hashlib

    c, _key = client
    api_key = hashlib.md5(f"editor:{PASSWORD}".encode()).hexdigest()
    for query in ("items", "feeds", "groups", "links"):
        response = await c.post(f"/fever/?api&{query}", data={"api_key": api_key})
        assert response.status_code == 200, query
        doc = response.json()
        if query == "items":
            assert doc.get("items"), doc
            for item in doc["items"]:
                assert_inert(item.get("html"), f"fever item {item.get('id')}")
                assert_safe_url(item.get("url") or None, f"fever item {item.get('id')} url")
        _walk(doc, f"fever {query}")
    assert json.dumps(doc)


async def test_rss_channel_description_is_inert(
    hostile: Hostile, client: tuple[httpx.AsyncClient, str]
) -> None:
    """RSS readers render a channel's <description> as HTML: a title put there is escaped."""
    c, _key = client
    for path in _feed_paths(hostile):
        if path.endswith(".rss"):
            root = etree.fromstring((await c.get(path)).content)
            assert_inert(root.findtext("channel/description"), f"{path} channel description")


def test_static_site_is_inert(hostile: Hostile, tmp_path: object) -> None:
    """`newsdesk publish --out DIR`: every page inert, every feed well-formed and sanitized."""
    import io
    from contextlib import redirect_stderr, redirect_stdout
    from pathlib import Path

    from newsdesk.cli import main

    out = Path(str(tmp_path)) / "site"
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()) as err:
        code = main(["publish", "--out", str(out), "--db", hostile.db])
    assert code == 0, err.getvalue()
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in files)
    for path in files:
        where = str(path.relative_to(out))
        if path.suffix == ".html":
            text = path.read_text()
            problems = page_problems(text)
            assert not problems, f"{where}: {problems[:5]}"
            assert_no_control_chars(text, where)
        elif path.suffix in (".atom", ".rss", ".xml") and path.name != "subscriptions.opml":
            _check_xml_feed(path.read_bytes(), where)
        elif path.suffix == ".json":
            _check_json_feed(json.loads(path.read_text()), where)
        elif path.suffix == ".opml":
            etree.fromstring(path.read_bytes())

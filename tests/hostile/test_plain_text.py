"""Plain-text fields stay plain text: titles, authors, feed titles, category and tag names.

A feed that escapes markup twice (``&lt;&lt;img …&gt;``) must not end up with a live tag after
decoding, and names given through the CLI, OPML or the APIs are cleaned the same way. Every face
(the four APIs, the Google Reader Atom stream, the republished JSON Feed) then hands clients text
with no tag in it; a title in Atom is sent as ``type="text"``.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from lxml import etree
from sqlalchemy import insert, select, update

from newsdesk.desk import Desk
from newsdesk.process.sanitize import one_line
from newsdesk.refresh import refresh_sync
from newsdesk.settings import Settings
from newsdesk.store import EntryQuery, open_store
from newsdesk.store.schema import categories, entries, entry_tags, feeds

from .loopback import LoopbackServer

web_app = pytest.importorskip("newsdesk.web.app")

VERSION10 = Path(__file__).parents[1] / "data" / "version10.sqlite.sql"
DOUBLE = "&lt;&lt;img src=x&gt;img src=x onerror=alert(1)&gt;"
# A tag a browser would build: "<" then a letter, "/", "!" or "?".
LIVE_TAG = re.compile(r"<[a-zA-Z/!?]")


@pytest.mark.parametrize(
    "raw",
    [
        "<img src=x onerror=alert(1)>",
        "<<img src=x>img src=x onerror=alert(1)>",
        "&lt;img src=x onerror=alert(1)&gt;",
        "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
        "AUTHOR<script>alert(1)</script>",
        "<scr<script>ipt>alert(1)</script>",
        "x <img src=x onerror=alert(1)",
    ],
)
def test_one_line_leaves_no_tag(raw: str) -> None:
    cleaned = one_line(raw) or ""
    assert not LIVE_TAG.search(cleaned), cleaned


def test_one_line_keeps_plain_text() -> None:
    assert one_line("AT&amp;T &amp; 3 < 4 > 2") == "AT&T & 3 < 4 > 2"
    assert one_line("  Hello\tworld \n") == "Hello world"


ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>FEED&lt;script&gt;alert(1)&lt;/script&gt;</title><id>urn:plain</id>
<updated>2024-01-01T00:00:00Z</updated>
<entry><id>html-title</id><title type="html">{DOUBLE}</title>
<author><name>AUTHOR&lt;script&gt;alert(1)&lt;/script&gt;</name></author>
<category term="TAG&lt;img src=x onerror=alert(1)&gt;"/>
<content type="html">&lt;p&gt;body&lt;/p&gt;</content>
<updated>2024-01-01T00:00:00Z</updated></entry>
<entry><id>text-title</id><title type="text">{DOUBLE}</title>
<content type="html">&lt;p&gt;body two&lt;/p&gt;</content>
<updated>2024-01-02T00:00:00Z</updated></entry>
</feed>"""


@dataclass
class Plain:
    db: str
    settings: Settings


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plain]:
    server = LoopbackServer().start()
    db = f"sqlite:///{tmp_path_factory.mktemp('plain')}/n.db"
    settings = Settings(
        database_url=db, allow_private_networks=True, fulltext=False, expand_links=False
    )
    store = open_store(db)
    try:
        store.add_feed(
            server.static("/atom", ATOM.encode(), content_type="application/atom+xml"),
            category="CAT<script>alert(1)</script>",
        )
        named = store.add_feed(
            server.static("/other", ATOM.replace("urn:plain", "urn:other").encode()),
            title="NAMED<img src=x onerror=alert(1)>",
        )
        store.update_feed(named.id, category="<b>CAT2</b>")
        report = refresh_sync(store, settings)
        assert report.errors == [], [o.error for o in report.errors]
    finally:
        store.close()
        server.stop()
    yield Plain(db, settings)


@pytest.fixture
async def client(plain: Plain) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:

    store = open_store(plain.db)
    try:
        # a name never used before in this database (the fixture's database is shared by the
        # module's tests; ``id(store)`` could repeat once a store was collected)
        _token, key = store.tokens.create_token(f"plain-{secrets.token_hex(8)}")
    finally:
        store.close()
    desk = Desk(plain.settings)
    app = web_app.create_app(plain.settings, desk=desk, no_auth=True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
        yield c, key
    desk.close()


def test_stored_fields_are_plain_text(plain: Plain) -> None:
    store = open_store(plain.db)
    try:
        with store.engine.connect() as conn:
            texts = [
                *conn.execute(select(entries.c.title)).scalars(),
                *conn.execute(select(entries.c.author)).scalars(),
                *conn.execute(select(feeds.c.title)).scalars(),
                *conn.execute(select(feeds.c.custom_title)).scalars(),
                *conn.execute(select(categories.c.title)).scalars(),
                *conn.execute(select(entry_tags.c.tag)).scalars(),
            ]
    finally:
        store.close()
    dirty = [t for t in texts if t and LIVE_TAG.search(t)]
    assert not dirty, dirty


PLAIN_KEYS = {
    "title",
    "author",
    "feed_title",
    "category",
    "category_title",
    "name",
    "label",
    "tags",
    "categories",
}


def _dirty(value: object, where: str, found: list[str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if str(key) in PLAIN_KEYS and isinstance(inner, str) and LIVE_TAG.search(inner):
                found.append(f"{where}.{key}: {inner}")
            _dirty(inner, f"{where}.{key}", found)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            if isinstance(inner, str) and LIVE_TAG.search(inner) and where.endswith("tags"):
                found.append(f"{where}[{index}]: {inner}")
            _dirty(inner, f"{where}[{index}]", found)


API_GETS = [
    "/api/entries?limit=50",
    "/api/subscriptions",
    "/api/categories",
    "/v1/entries?limit=50",
    "/v1/feeds",
    "/v1/categories",
    "/reader/api/0/stream/contents/user/-/state/com.google/reading-list?n=50&output=json",
    "/reader/api/0/subscription/list?output=json",
    "/reader/api/0/tag/list?output=json",
]


async def test_apis_hand_out_plain_text(client: tuple[httpx.AsyncClient, str]) -> None:
    c, key = client
    headers = {"Authorization": f"Bearer {key}"}
    found: list[str] = []
    for path in API_GETS:
        response = await c.get(path, headers=headers)
        assert response.status_code == 200, f"{path}: {response.status_code}"
        _dirty(response.json(), path, found)
    for fmt in ("json",):
        response = await c.get(f"/syndicate/all.{fmt}")
        assert response.status_code == 200
        _dirty(json.loads(response.text), f"/syndicate/all.{fmt}", found)
    assert not found, "\n".join(found)


async def test_google_reader_atom_titles_are_text(client: tuple[httpx.AsyncClient, str]) -> None:
    c, key = client
    response = await c.get(
        "/reader/atom/user/-/state/com.google/reading-list?n=50",
        headers={"Authorization": f"GoogleLogin auth={key}"},
    )
    assert response.status_code == 200, response.text[:200]
    root = etree.fromstring(response.content)
    atom = "{http://www.w3.org/2005/Atom}"
    titles = root.findall(f"{atom}entry/{atom}title")
    assert titles
    for title in titles:
        assert title.get("type", "text") == "text", etree.tostring(title)
        assert not LIVE_TAG.search(title.text or ""), title.text
    for name in root.iter(f"{atom}name", f"{atom}title"):
        assert not LIVE_TAG.search(name.text or ""), name.text


def test_migration_cleans_what_is_stored(tmp_path: Path) -> None:
    """Names stored with markup before migration 7, in a database of version 6 (the bundled
    version-10 database, its names dirtied and its version set back): clean after the upgrade,
    and (migration 11) its first person's."""
    db = tmp_path / "m.db"
    conn = sqlite3.connect(db)
    try:
        conn.executescript(VERSION10.read_text())
        feed_id = conn.execute("SELECT id FROM feeds WHERE url = 'http://tech.example/atom'")
        feed_id = feed_id.fetchone()[0]
        dirty = conn.execute("INSERT INTO categories (title) VALUES ('<b>News</b>')").lastrowid
        conn.execute("INSERT INTO categories (title) VALUES ('News')")
        conn.execute(
            "UPDATE feeds SET title = ?, custom_title = ?, category_id = ? WHERE id = ?",
            ("F<script>x</script>", DOUBLE, dirty, feed_id),
        )
        conn.execute("UPDATE schema_version SET version = 6")
        conn.commit()
    finally:
        conn.close()
    store = open_store(f"sqlite:///{db}")
    try:
        cleaned = store.get_feed(feed_id)
        assert cleaned.title == "Fx" and not LIVE_TAG.search(cleaned.custom_title or "")
        assert cleaned.category == "News"
        # One "News" left (the dirty one merged into it), with the database's own categories.
        assert [t for _i, t, _n in store.categories()] == ["General", "News", "Tech", "World"]
    finally:
        store.close()


def test_migration_cleans_stored_entries_and_tags(plain: Plain, tmp_path: Path) -> None:
    """Entries stored by an older version, titles, authors and tags with markup in them."""
    import shutil

    from newsdesk.store.migrations import _m007_plain_text_and_fever

    source = Path(plain.db.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", tmp_path / f"n.db{suffix}")
    store = open_store(f"sqlite:///{tmp_path / 'n.db'}")
    try:
        with store.engine.begin() as conn:
            first = conn.execute(select(entries.c.id).order_by(entries.c.id)).scalars().first()
            conn.execute(
                update(entries)
                .where(entries.c.id == first)
                .values(title="<<img src=x>img src=x onerror=alert(1)>", author="A<script>x")
            )
            conn.execute(insert(entry_tags).values(entry_id=first, tag="<i>news</i>"))
        with store.engine.begin() as conn:
            _m007_plain_text_and_fever(conn)
        with store.engine.connect() as conn:
            row = conn.execute(select(entries).where(entries.c.id == first)).first()
            tags = list(
                conn.execute(
                    select(entry_tags.c.tag).where(entry_tags.c.entry_id == first)
                ).scalars()
            )
        assert row is not None and row.title is None and row.author == "Ax"
        assert "news" in tags and not any(LIVE_TAG.search(t) for t in tags)
        assert store.search("news", EntryQuery()) is not None  # the index followed the update
    finally:
        store.close()

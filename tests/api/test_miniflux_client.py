"""The ``miniflux`` Python client (PyPI, Miniflux's own) against a real ``newsdesk serve`` on
loopback, through every public method of ``miniflux.Client``.

The methods are enumerated with ``inspect``, so a new client version's methods are noticed: a
method must be exercised by a test here (``@covers``; the test fails if it did not call the
method) or listed in ``NOT_SUPPORTED`` with the reason, where the server must answer it with a
clear 4xx JSON error (Miniflux's ``error_message``), never a 500. Shapes asserted are those of
Miniflux's API documentation; both API key and HTTP Basic authentication are used."""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .conftest import PASSWORD, USERNAME, Template, copy_database
from .server import newsdesk_serve

miniflux = pytest.importorskip("miniflux", reason="the miniflux client is not installed")

pytestmark = pytest.mark.slow

Call = Callable[[Any], object]

# Methods Newsdesk deliberately does not offer: (why, a call of it). Each must get a 4xx JSON
# answer with an error message.
NOT_SUPPORTED: dict[str, tuple[str, Call]] = {
    "get_api_keys": (
        "`newsdesk token`, /api/tokens",
        lambda c: c.get_api_keys(),
    ),
    "create_api_key": (
        "`newsdesk token create`",
        lambda c: c.create_api_key("x"),
    ),
    "delete_api_key": ("`newsdesk token revoke`, /api/tokens", lambda c: c.delete_api_key(1)),
    "get_enclosure": (
        "enclosures are listed inside their entry only (docs/api.md)",
        lambda c: c.get_enclosure(101),
    ),
    "update_enclosure": (
        "no media progression is kept",
        lambda c: c.update_enclosure(101, media_progression=5),
    ),
    "import_entry": (
        "entries come only from the feeds Newsdesk fetches",
        lambda c: c.import_entry(1, "https://example.org/a", title="A"),
    ),
}
# Not calls to the server.
NOT_API = {"close": "closes the client's HTTP session"}

COVERED: dict[str, set[str]] = {}


def covers(*names: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The client methods a test exercises: once it passes, it must have called them all."""

    def mark(test: Callable[..., None]) -> Callable[..., None]:
        COVERED[test.__name__] = set(names)

        @functools.wraps(test)
        def checked(**fixtures: Any) -> None:
            test(**fixtures)
            missing = set(names) - fixtures["client"].called
            assert not missing, f"{test.__name__} claims but never calls {sorted(missing)}"

        return checked

    return mark


def public_methods() -> set[str]:
    return {
        name
        for name, _ in inspect.getmembers(miniflux.Client, inspect.isfunction)
        if not name.startswith("_")
    }


@dataclass
class Recorder:
    """A ``miniflux.Client`` that notes which of its methods were called."""

    client: Any
    called: set[str] = field(default_factory=set)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.client, name)
        if callable(attribute):
            self.called.add(name)
        return attribute


@dataclass
class Live:
    base: str
    template: Template
    key: str

    def client(self, auth: str) -> Any:
        if auth == "basic":
            return miniflux.Client(self.base, username=USERNAME, password=PASSWORD)
        return miniflux.Client(self.base, api_key=self.key)


@pytest.fixture
def live(api_template: Template, tmp_path: Path) -> Iterator[Live]:
    db = copy_database(api_template, tmp_path)
    with newsdesk_serve(db) as base:
        yield Live(base, api_template, api_template.key)


@pytest.fixture(params=["api_key", "basic"])
def client(live: Live, request: pytest.FixtureRequest) -> Iterator[Recorder]:
    recorder = Recorder(live.client(request.param))
    try:
        yield recorder
    finally:
        recorder.client.close()


def test_every_client_method_is_exercised_or_declared_unsupported() -> None:
    exercised = set().union(*COVERED.values())
    declared = exercised | set(NOT_SUPPORTED) | set(NOT_API)
    assert public_methods() - declared == set(), "new miniflux.Client methods: test or declare them"
    assert declared - public_methods() == set(), "names that miniflux.Client no longer has"
    assert exercised.isdisjoint(NOT_SUPPORTED)


@pytest.mark.parametrize("name", sorted(NOT_SUPPORTED))
def test_unsupported_method_gets_a_clear_4xx(live: Live, name: str) -> None:
    _why, call = NOT_SUPPORTED[name]
    with live.client("api_key") as c, pytest.raises(miniflux.ClientError) as caught:
        call(c)
    error = caught.value
    assert not isinstance(error, miniflux.ServerError)
    assert 400 <= error.status_code < 500, error.status_code
    assert error._response.headers["content-type"].startswith("application/json")
    assert str(error) and str(error) != f"status_code={error.status_code}"


# -- reading ----------------------------------------------------------------------------------


def _assert_entry(entry: dict[str, Any]) -> None:
    for key in ("id", "user_id", "feed_id", "status", "hash", "title", "url", "published_at"):
        assert key in entry, key
    assert entry["status"] in {"read", "unread", "removed"}
    assert isinstance(entry["starred"], bool)
    assert isinstance(entry["enclosures"], list)
    assert entry["feed"]["id"] == entry["feed_id"]


def _assert_page(page: dict[str, Any]) -> list[dict[str, Any]]:
    assert isinstance(page["total"], int)
    assert isinstance(page["entries"], list)
    for entry in page["entries"]:
        _assert_entry(entry)
    return list(page["entries"])


@covers("me", "get_version")
def test_account(client: Recorder) -> None:
    me = client.me()
    assert me["username"] == USERNAME and isinstance(me["id"], int)
    version = client.get_version()
    assert isinstance(version["version"], str) and version["version"]


@covers(
    "get_users",
    "get_user_by_id",
    "get_user_by_username",
    "create_user",
    "update_user",
    "delete_user",
)
def test_people(client: Recorder) -> None:
    """The desk's admin manages people (issue 15), as a Miniflux admin does."""
    me = client.me()
    assert me["is_admin"] is True
    assert [u["username"] for u in client.get_users()] == [USERNAME]
    assert client.get_user_by_id(me["id"])["username"] == USERNAME
    assert client.get_user_by_username(USERNAME)["id"] == me["id"]
    made = client.create_user("other", "a long password", False)
    assert made["username"] == "other" and made["is_admin"] is False
    changed = client.update_user(made["id"], is_admin=True, language="fr_FR")
    assert changed["is_admin"] is True
    client.delete_user(made["id"])
    assert [u["username"] for u in client.get_users()] == [USERNAME]


@covers("get_feeds", "get_feed", "get_categories", "get_category_feeds", "get_feed_counters")
def test_feeds_and_categories(client: Recorder) -> None:
    feeds = client.get_feeds()
    assert len(feeds) >= 2
    for feed in feeds:
        assert {"id", "user_id", "feed_url", "site_url", "title", "category"} <= feed.keys()
        assert client.get_feed(feed["id"])["feed_url"] == feed["feed_url"]
    categories = client.get_categories()
    assert {c["title"] for c in categories} >= {f["category"]["title"] for f in feeds}
    for category in categories:
        assert {"id", "title", "user_id"} <= category.keys()
        listed = client.get_category_feeds(category["id"])
        assert all(f["category"]["id"] == category["id"] for f in listed)
    counters = client.get_feed_counters()
    assert set(counters) == {"reads", "unreads"}
    assert sum(counters["unreads"].values()) == client.get_entries(status="unread")["total"]
    with pytest.raises(miniflux.ResourceNotFound):
        client.get_feed(999_999)


@covers(
    "get_entries",
    "get_entry",
    "get_feed_entries",
    "get_feed_entry",
    "get_category_entries",
    "get_category_entry",
    "fetch_entry_content",
)
def test_entries(client: Recorder) -> None:
    page = client.get_entries(limit=5, order="published_at", direction="desc")
    entries = _assert_page(page)
    assert len(entries) == 5 and page["total"] > 5
    stamps = [e["published_at"] for e in entries]
    assert stamps == sorted(stamps, reverse=True)
    first = entries[0]
    assert client.get_entry(first["id"])["id"] == first["id"]
    by_feed = _assert_page(client.get_feed_entries(first["feed_id"], limit=100))
    assert {e["feed_id"] for e in by_feed} == {first["feed_id"]}
    assert client.get_feed_entry(first["feed_id"], first["id"])["id"] == first["id"]
    category = first["feed"]["category"]["id"]
    by_category = _assert_page(client.get_category_entries(category, limit=100))
    assert {e["feed"]["category"]["id"] for e in by_category} == {category}
    assert client.get_category_entry(category, first["id"])["id"] == first["id"]
    content = client.fetch_entry_content(first["id"])
    assert isinstance(content["content"], str)
    with pytest.raises(miniflux.ResourceNotFound):
        client.get_entry(999_999)


def test_entries_changed_after(client: Recorder) -> None:
    """Miniflux's ``changed_after`` (Unix time): what a syncing client asks for."""
    everything = client.get_entries(limit=1)["total"]
    assert client.get_entries(changed_after=0, limit=1)["total"] == everything
    future = int(time.time()) + 86_400
    assert client.get_entries(changed_after=future)["total"] == 0


# -- state ------------------------------------------------------------------------------------


@covers("update_entries", "toggle_bookmark", "save_entry")
def test_entry_state(client: Recorder) -> None:
    ids = [e["id"] for e in client.get_entries(status="unread", limit=3)["entries"]]
    assert client.update_entries(ids, "read") is True
    assert {client.get_entry(i)["status"] for i in ids} == {"read"}
    assert client.update_entries(ids, "unread") is True
    assert {client.get_entry(i)["status"] for i in ids} == {"unread"}
    with pytest.raises(miniflux.BadRequest):
        client.update_entries(ids, "sideways")

    one = ids[0]
    assert client.toggle_bookmark(one) is True
    assert client.get_entry(one)["starred"] is True
    assert client.get_entries(starred=True)["total"] == 1
    assert client.toggle_bookmark(one) is True
    assert client.get_entry(one)["starred"] is False
    assert client.save_entry(ids[1]) is True  # Newsdesk's save stars the entry
    assert client.get_entry(ids[1])["starred"] is True


@covers("mark_feed_entries_as_read", "mark_category_entries_as_read")
def test_mark_all_as_read(client: Recorder) -> None:
    feeds = client.get_feeds()
    feed = feeds[0]
    assert client.get_feed_entries(feed["id"], status="unread")["total"] > 0
    assert client.mark_feed_entries_as_read(feed["id"]) is None
    assert client.get_feed_entries(feed["id"], status="unread")["total"] == 0
    other = feeds[1]["category"]["id"]
    assert client.mark_category_entries_as_read(other) is None
    assert client.get_category_entries(other, status="unread")["total"] == 0


@covers("mark_user_entries_as_read", "get_integrations_status")
def test_mark_everything_read_and_integrations(client: Recorder) -> None:
    me = client.me()
    assert client.get_entries(status="unread")["total"] > 0
    assert client.mark_user_entries_as_read(me["id"]) is None
    assert client.get_entries(status="unread")["total"] == 0
    with pytest.raises(miniflux.ClientError):  # another user's: not this key's to touch
        client.mark_user_entries_as_read(me["id"] + 1)
    assert client.get_integrations_status() is False


@covers("update_entry")
def test_update_entry(client: Recorder) -> None:
    entry = client.get_entries(limit=1)["entries"][0]
    updated = client.update_entry(entry["id"], title="A better title", content="<p>Mine</p>")
    assert updated["id"] == entry["id"] and updated["title"] == "A better title"
    assert client.get_entry(entry["id"])["title"] == "A better title"
    assert "Mine" in client.get_entry(entry["id"])["content"]


@covers("flush_history")
def test_flush_history(client: Recorder) -> None:
    page = client.get_entries(status="unread", limit=4)["entries"]
    read, starred = page[0]["id"], page[1]["id"]
    client.update_entries([read, starred], "read")
    client.toggle_bookmark(starred)
    assert client.flush_history() is True
    # Miniflux turns read, unstarred entries into "removed" ones. Newsdesk accepts the call and
    # removes nothing yet (docs/api.md): a removed entry must be remembered so that the next
    # fetch does not bring it back, which comes with retention. Nothing is lost meanwhile.
    assert read in {e["id"] for e in client.get_entries(status="read", limit=500)["entries"]}
    assert client.get_entry(starred)["status"] == "read"


# A small site on loopback, to subscribe to: a feed, a home page that names its icon, and
# the icon (1x1 transparent PNG) also at /favicon.ico.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


class _Site(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        pages = {
            "/feed.xml": (
                "application/rss+xml",
                f"<rss version='2.0'><channel><title>Iconic</title><link>{base}/</link>"
                f"<image><url>{base}/favicon.png</url><title>Iconic</title><link>{base}/</link>"
                f"</image><item><title>One</title><link>{base}/one</link><guid>{base}/one</guid>"
                "</item></channel></rss>".encode(),
            ),
            "/": (
                "text/html",
                b"<html><head><link rel='icon' type='image/png' href='/favicon.png'></head></html>",
            ),
            "/favicon.png": ("image/png", PNG),
            "/favicon.ico": ("image/png", PNG),
        }
        kind, body = pages.get(self.path, ("text/plain", b""))
        self.send_response(200 if self.path in pages else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# -- subscriptions ----------------------------------------------------------------------------


@covers("create_feed", "update_feed", "refresh_feed", "delete_feed", "discover")
def test_feed_lifecycle(client: Recorder, site: str) -> None:
    url = site + "/feed.xml"
    found = client.discover(url)
    assert found and found[0]["url"] == url and {"title", "type"} <= found[0].keys()
    category = client.get_categories()[0]["id"]
    feed_id = client.create_feed(url, category_id=category)
    assert isinstance(feed_id, int)
    assert client.get_feed(feed_id)["category"]["id"] == category
    with pytest.raises(miniflux.BadRequest):
        client.create_feed(url)
    updated = client.update_feed(feed_id, title="Renamed")
    assert updated["id"] == feed_id and updated["title"] == "Renamed"
    assert client.refresh_feed(feed_id) is True
    assert client.delete_feed(feed_id) is None
    with pytest.raises(miniflux.ResourceNotFound):
        client.get_feed(feed_id)


@covers("refresh_all_feeds", "refresh_category")
def test_refresh(client: Recorder) -> None:
    assert client.refresh_all_feeds() is True
    assert client.refresh_category(client.get_categories()[0]["id"]) is True


@covers("create_category", "update_category", "delete_category")
def test_category_lifecycle(client: Recorder) -> None:
    made = client.create_category("Reading list")
    assert {"id", "title", "user_id"} <= made.keys() and made["title"] == "Reading list"
    assert made["id"] in {c["id"] for c in client.get_categories()}
    with pytest.raises(miniflux.BadRequest):
        client.create_category("Reading list")  # Miniflux: the title is taken
    renamed = client.update_category(made["id"], "Later")
    assert renamed["id"] == made["id"] and renamed["title"] == "Later"
    assert client.delete_category(made["id"]) is None
    assert made["id"] not in {c["id"] for c in client.get_categories()}
    with pytest.raises(miniflux.ResourceNotFound):
        client.delete_category(made["id"])


@covers("export", "export_feeds", "import_feeds")
def test_opml(client: Recorder) -> None:
    opml = client.export_feeds()
    assert opml.lstrip().startswith("<?xml") and "<opml" in opml
    assert client.export() == opml
    before = len(client.get_feeds())
    answer = client.import_feeds(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        '<outline type="rss" text="Y" xmlUrl="http://127.0.0.1:9/y.xml"/></body></opml>'
    )
    assert isinstance(answer, dict) and answer.get("message")
    assert len(client.get_feeds()) == before + 1


# -- icons ------------------------------------------------------------------------------------


@covers("get_feed_icon", "get_icon_by_feed_id", "get_icon")
def test_icons(client: Recorder, site: str) -> None:
    feed_id = client.create_feed(site + "/feed.xml")
    deadline = time.monotonic() + 20  # the first refresh runs in the background
    while client.get_feed(feed_id)["icon"] is None and time.monotonic() < deadline:
        time.sleep(0.2)
    ref = client.get_feed(feed_id)["icon"]
    assert ref is not None, "the feed has no icon after its first refresh"
    assert ref["feed_id"] == feed_id and isinstance(ref["icon_id"], int)
    icon = client.get_feed_icon(feed_id)
    assert icon["id"] == ref["icon_id"] and icon["mime_type"].startswith("image/")
    assert icon["data"].startswith(icon["mime_type"] + ";base64,")
    assert client.get_icon_by_feed_id(feed_id) == icon
    assert client.get_icon(ref["icon_id"]) == icon
    without = client.get_feeds()[0]["id"]  # the sample's feeds have no icon
    with pytest.raises(miniflux.ResourceNotFound):
        client.get_feed_icon(without)
    with pytest.raises(miniflux.ResourceNotFound):
        client.get_icon(999_999)

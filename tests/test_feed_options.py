"""Per-feed control (issue 16): each option against a loopback server that demands it, on SQLite
and PostgreSQL; secrets sealed and never shown; a secret on a shared feed makes a private copy
that nobody else sees."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from feed_gate_server import GateServer, Reply, basic, demands
from newsdesk.desk import Desk
from newsdesk.errors import NewsdeskError
from newsdesk.settings import Settings, load_settings
from newsdesk.store import EntryQuery, open_store
from newsdesk.store.feed_options import FeedOptionError, check_changes, parse_interval
from newsdesk.store.schema import category_shares
from routes_server import article_page, rss

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"
COOKIE = "session=cookie-secret-7f3a"
TOKEN = "header-secret-91bc"
USER, PASSWORD = "reader", "password-secret-55e1"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
SECRETS = (COOKIE, TOKEN, PASSWORD, "cookie-secret", "header-secret", "password-secret")


@dataclass
class Team:
    alice: Desk  # an admin
    bob: Desk  # a member
    settings: Settings


@pytest.fixture
def gate() -> Iterator[GateServer]:
    server = GateServer()
    yield server
    server.stop()


@pytest.fixture
def team(store_url: str, tmp_path: Path) -> Iterator[Team]:
    settings = load_settings(
        env={},
        database_url=store_url,
        allow_private_networks=True,
        secret_key_file=str(tmp_path / "server.key"),
        fulltext=False,
        icons=False,
        expand_links=False,
        max_interval=14 * 86400,
    )
    desk = Desk(settings, open_store(store_url))
    desk.store.users.setup_owner("alice", "alice-password-long")
    desk.store.users.add_user("bob", "bob-password-long")
    yield Team(desk.for_name("alice"), desk.for_name("bob"), settings)
    desk.close()


def _titles(desk: Desk) -> set[str]:
    return {e.title or "" for e in desk.store.list_entries(EntryQuery(limit=100))}


def _database_text(team: Team, tmp_path: Path) -> str:
    """Everything the database holds, as text (the SQLite file's bytes; PostgreSQL's feeds)."""
    url = team.settings.resolved_database_url
    if url.startswith("sqlite"):
        return b"".join(p.read_bytes() for p in tmp_path.glob("*.db*")).decode("latin-1")
    with team.alice.store.engine.connect() as conn:
        return json.dumps([list(map(str, r)) for r in conn.execute(text("SELECT * FROM feeds"))])


# -- each option against a server that demands it -------------------------------------------------


async def test_a_feed_that_refuses_all_but_a_browser(team: Team, gate: GateServer) -> None:
    url = gate.route(
        "/browser.rss",
        demands(lambda h: h.get("user-agent") == BROWSER, rss("Browser only", 2, "b")),
    )
    with pytest.raises(NewsdeskError, match="403"):
        await team.alice.subscribe(url)
    feed = await team.alice.subscribe(url, options={"user_agent": BROWSER})
    assert feed.options.user_agent == BROWSER and feed.owner_key == 0  # not a secret
    report = await team.alice.refresh_async(feed_ids=[feed.id])
    assert not report.errors and len(_titles(team.alice)) == 2


async def test_basic_credentials_make_a_private_feed_and_stay_sealed(
    team: Team, gate: GateServer, tmp_path: Path
) -> None:
    wanted = basic(USER, PASSWORD)
    url = gate.route(
        "/private.rss",
        demands(lambda h: h.get("authorization") == wanted, rss("Members", 2, "m"), 401),
    )
    with pytest.raises(NewsdeskError, match="401"):
        await team.alice.subscribe(url)
    feed = await team.alice.subscribe(url, options={"username": USER, "password": PASSWORD})
    assert feed.owner_key != 0  # credentials: the person's own copy of the URL
    assert feed.as_dict()["options"]["password"] == "set"  # type: ignore[index]
    assert PASSWORD not in json.dumps(feed.as_dict()) and USER not in json.dumps(feed.as_dict())
    await team.alice.refresh_async(feed_ids=[feed.id])
    assert len(_titles(team.alice)) == 2
    stored = _database_text(team, tmp_path)
    assert all(secret not in stored for secret in SECRETS)
    # Another person adding the same URL gets the public feed, without the credentials.
    with pytest.raises(NewsdeskError, match="401"):
        await team.bob.subscribe(url)


async def test_a_cookie_and_a_header(team: Team, gate: GateServer, tmp_path: Path) -> None:
    cookie_url = gate.route(
        "/cookie.rss", demands(lambda h: h.get("cookie") == COOKIE, rss("Cookie", 1, "c"))
    )
    header_url = gate.route(
        "/header.rss", demands(lambda h: h.get("x-api-key") == TOKEN, rss("Header", 1, "h"))
    )
    a = await team.alice.subscribe(cookie_url, options={"cookie": COOKIE})
    b = await team.alice.subscribe(header_url, options={"headers": [f"X-Api-Key: {TOKEN}"]})
    report = await team.alice.refresh_async(feed_ids=[a.id, b.id])
    assert not report.errors
    assert _titles(team.alice) == {"c 0 of Cookie", "h 0 of Header"}
    shown = json.dumps([f.as_dict() for f in team.alice.store.list_feeds()])
    assert all(secret not in shown for secret in SECRETS) and '"cookie": "set"' in shown
    assert all(secret not in _database_text(team, tmp_path) for secret in SECRETS)


async def test_secrets_never_follow_a_redirect_to_another_host(
    team: Team, gate: GateServer
) -> None:
    elsewhere = f"http://localhost:{gate.port}/landing.rss"  # another origin, same server
    gate.route("/landing.rss", Reply(rss("Landing", 1, "l")))
    url = gate.route("/moving.rss", Reply(b"", 302, "text/plain", {"Location": elsewhere}))
    feed = await team.alice.subscribe(
        url, check=False, options={"cookie": COOKIE, "user_agent": BROWSER}
    )
    await team.alice.refresh_async(feed_ids=[feed.id])
    first, second = gate.requests_of("/moving.rss")[0], gate.requests_of("/landing.rss")[0]
    assert first["cookie"] == COOKIE
    assert "cookie" not in second and second["user-agent"] == BROWSER


async def test_ignoring_cache_hints(team: Team, gate: GateServer) -> None:
    hints = {"ETag": '"v1"', "Cache-Control": "max-age=604800"}
    body = (  # undated: its pace unknown, checked hourly unless the server's hints say more
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Cached</title>'
        b"<item><title>k</title><guid>k</guid><description>x</description></item></channel></rss>"
    )

    def rule(headers: dict[str, str]) -> Reply:
        if headers.get("if-none-match") == '"v1"':
            return Reply(b"", 304, headers=hints)
        return Reply(body, headers=hints)

    plain = await team.alice.subscribe(gate.route("/hinted.rss", rule), check=False)
    own = await team.alice.subscribe(
        gate.route("/hinted2.rss", rule), check=False, options={"ignore_cache_hints": True}
    )
    for _ in range(2):
        await team.alice.refresh_async(feed_ids=[plain.id, own.id])
    assert gate.requests_of("/hinted.rss")[1].get("if-none-match") == '"v1"'
    assert "if-none-match" not in gate.requests_of("/hinted2.rss")[1]
    now = datetime.now(UTC)
    hinted, ignored = team.alice.store.list_feeds([plain.id, own.id])
    assert hinted.next_check and hinted.next_check - now > timedelta(days=5)  # a week asked
    assert ignored.next_check and ignored.next_check - now < timedelta(days=2)


async def test_a_fixed_interval_is_honoured(team: Team, gate: GateServer) -> None:
    url = gate.route("/steady.rss", Reply(rss("Steady", 1, "s")))
    feed = await team.alice.subscribe(url, check=False, options={"interval": "45m"})
    assert feed.check_interval == 2700
    await team.alice.refresh_async(feed_ids=[feed.id])
    after = team.alice.store.get_feed(feed.id)
    assert after.last_fetched and after.next_check
    assert after.next_check - after.last_fetched == timedelta(seconds=2700)
    back = team.alice.set_feed_options(feed.id, {"interval": 0})
    assert back.check_interval is None


def _full_feed(base: str, name: str) -> bytes:
    """One article with full content in the feed, linking to its page."""
    content = "&lt;p&gt;" + " ".join(["The feed's own full text."] * 80) + "&lt;/p&gt;"
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Full</title>'
        f"<link>{base}/</link><item><title>{name}</title><link>{base}/page/{name}</link>"
        f"<guid>{name}</guid><description>{content}</description>"
        "<pubDate>Tue, 27 Feb 2024 10:00:00 GMT</pubDate></item></channel></rss>"
    ).encode()


async def test_full_text_on_and_off_per_feed(team: Team, gate: GateServer) -> None:
    page = Reply(article_page("From the page", "harbour"), content_type="text/html")
    gate.route("/page/on", page)
    gate.route("/page/off", page)
    on = await team.alice.subscribe(
        gate.route("/on.rss", Reply(_full_feed(gate.base, "on"))),
        check=False,
        options={"fulltext": True},
    )
    off = await team.alice.subscribe(
        gate.route("/off.rss", Reply(_full_feed(gate.base, "off"))),
        check=False,
        options={"fulltext": False},
    )
    await team.alice.refresh_async(feed_ids=[on.id, off.id], fulltext=False)  # the setting: off
    assert gate.requests_of("/page/on") and not gate.requests_of("/page/off")
    entries = {e.title: e for e in team.alice.store.list_entries(EntryQuery(limit=10))}
    assert "harbour budget" in entries["on"].content_text
    assert "harbour" not in entries["off"].content_text


async def test_an_extraction_rule_picks_the_body(team: Team, gate: GateServer) -> None:
    story = " ".join(["The real story of the bridge repairs, told at length."] * 30)
    gate.route(
        "/page/ruled",
        Reply(
            (
                "<html><body><div class='promo'>"
                + " ".join(["Subscribe to our newsletter for more offers."] * 40)
                + f"</div><div class='real'><p>{story}</p><p class='ad'>Buy now</p></div>"
                "</body></html>"
            ).encode(),
            content_type="text/html",
        ),
    )
    feed = await team.alice.subscribe(
        gate.route("/ruled.rss", Reply(_full_feed(gate.base, "ruled"))),
        check=False,
        options={"fulltext": True, "extract_body": "div.real", "extract_drop": [".ad"]},
    )
    await team.alice.refresh_async(feed_ids=[feed.id])
    (entry,) = team.alice.store.list_entries(EntryQuery(limit=5))
    assert "bridge repairs" in entry.content_text
    assert "newsletter" not in entry.content_text and "Buy now" not in entry.content_text


async def test_redirect_links_are_unwrapped(team: Team, gate: GateServer) -> None:
    gate.route("/r/1", Reply(b"", 302, "text/plain", {"Location": "/story/1"}))
    gate.route("/story/1", Reply(b"<html>story</html>", content_type="text/html"))
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wrapped</title>'
        f"<item><title>One</title><link>{gate.base}/r/1</link><guid>one</guid>"
        "<description>x</description></item></channel></rss>"
    ).encode()
    wrapped = await team.alice.subscribe(
        gate.route("/wrapped.rss", Reply(body)), check=False, options={"unwrap_redirects": True}
    )
    await team.alice.refresh_async(feed_ids=[wrapped.id])
    await team.alice.refresh_async(feed_ids=[wrapped.id])  # the second from the link cache
    (entry,) = team.alice.store.list_entries(EntryQuery(limit=5))
    assert entry.url == f"{gate.base}/story/1"
    assert len(gate.requests_of("/r/1")) == 1


# -- sharing ---------------------------------------------------------------------------------


async def test_a_cookie_on_a_shared_feed_makes_a_private_copy(team: Team, gate: GateServer) -> None:
    def rule(headers: dict[str, str]) -> Reply:
        if headers.get("cookie") == COOKIE:
            return Reply(rss("Paper", 2, "paid"))
        return Reply(rss("Paper", 1, "free"))

    url = gate.route("/paper.rss", rule)
    public = await team.alice.subscribe(url)
    assert (await team.bob.subscribe(url)).id == public.id  # one feed, two followers
    private = team.bob.set_feed_options(public.id, {"cookie": COOKIE})
    assert private.id != public.id and private.url == url and private.owner_key != 0
    await team.alice.refresh_async()
    await team.bob.refresh_async()
    assert _titles(team.alice) == {"free 0 of Paper"}
    assert _titles(team.bob) == {"paid 0 of Paper", "paid 1 of Paper"}
    assert [f.id for f in team.alice.store.list_feeds()] == [public.id]
    assert [f.id for f in team.bob.store.list_feeds()] == [private.id]
    with pytest.raises(NewsdeskError):  # alice does not see bob's private copy
        team.alice.store.get_feed(private.id)
    with pytest.raises(NewsdeskError):
        team.alice.set_feed_options(private.id, {"user_agent": BROWSER})
    # The URL finds each person's own: the public feed for alice, the private copy for bob.
    assert team.alice.store.get_feed(url).id == public.id
    assert team.bob.store.get_feed(url).id == private.id


async def test_who_may_change_a_shared_feeds_options(team: Team, gate: GateServer) -> None:
    url = gate.route("/shared.rss", Reply(rss("Shared", 1, "s")))
    feed = await team.bob.subscribe(url)
    assert team.bob.set_feed_options(feed.id, {"user_agent": BROWSER}).options.user_agent
    await team.alice.subscribe(url)
    with pytest.raises(FeedOptionError, match="only an admin"):
        team.bob.set_feed_options(feed.id, {"user_agent": "Other/1"})
    with pytest.raises(FeedOptionError, match="only an admin"):
        team.bob.set_feed_options(feed.id, {"interval": "1h"})
    changed = team.alice.set_feed_options(feed.id, {"user_agent": "Other/1"})
    assert changed.options.user_agent == "Other/1" and changed.id == feed.id


async def test_clearing_options(team: Team, gate: GateServer) -> None:
    url = gate.route("/clear.rss", Reply(rss("Clear", 1)))
    feed = await team.alice.subscribe(
        url,
        check=False,
        options={"user_agent": BROWSER, "cookie": COOKIE, "headers": ["X-A: 1"], "fulltext": True},
    )
    assert set(feed.options.sealed) == {"cookie", "headers"}
    feed = team.alice.set_feed_options(
        feed.id, {"user_agent": "", "cookie": "", "headers": [], "fulltext": None}
    )
    assert feed.options.user_agent is None and feed.options.sealed == ()
    assert feed.options.fulltext is None and feed.secret is None


def test_bad_options_are_refused_with_a_reason() -> None:
    cases = {
        "user_agent": ("a\nb", "line breaks"),
        "headers": (["Host: evil"], "Host cannot be set"),
        "extract_body": ("div[", "bad CSS selector"),
        "fulltext": ("yes", "true or false"),
        "interval": ("soon", "not 90"),
        "username": ("a:b", "no ':'"),
        "colour": ("red", "unknown feed options"),
    }
    for name, (value, why) in cases.items():
        with pytest.raises(FeedOptionError, match=why):
            check_changes({name: value})
    assert parse_interval("2h") == 7200 and parse_interval("90") == 90
    assert check_changes({"headers": {"X-Key": "v"}})["headers"] == (("X-Key", "v"),)


async def test_a_manager_of_a_shared_category_cannot_put_secrets_on_its_feeds(
    team: Team, gate: GateServer
) -> None:
    url = gate.route("/desk.rss", Reply(rss("Desk", 1)))
    feed = await team.alice.subscribe(url, check=False, category="Desk")
    (category_id,) = [i for i, t, _n in team.alice.store.categories() if t == "Desk"]
    bob_id = team.bob.store.require_person()
    with team.alice.store.engine.begin() as conn:
        conn.execute(
            category_shares.insert().values(
                category_id=category_id, user_id=bob_id, can_manage=True, created_at=NOW
            )
        )
    with pytest.raises(FeedOptionError, match="follow yourself"):
        team.bob.set_feed_options(feed.id, {"cookie": COOKIE})
    assert team.alice.store.get_feed(feed.id).owner_key == 0

"""Site icons (issue 14): found on loopback sites through the guarded client, type-checked from
their bytes, size-capped, stored once per site during a refresh, and served from our own origin
to the reading room and the three reader APIs."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from newsdesk import refresh
from newsdesk.desk import Desk
from newsdesk.fetch.icons import declared_icons, site_origin, sniff_icon
from newsdesk.refresh import refresh_feeds, refresh_sync
from newsdesk.settings import Settings
from newsdesk.store import SqlStore, open_store
from newsdesk.store.server_key import server_key
from routes_server import Answer, RoutesServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
ICO = b"\x00\x00\x01\x00\x01\x00\x10\x10" + bytes(40)
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>'
HTML_PAGE = b"<!doctype html><html><head><title>Not found</title></head><body>404</body></html>"
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def feed(base: str, title: str) -> bytes:
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>{base}/</link><item><title>{title} one</title><link>{base}/{title}/1</link>"
        f"<guid>{title}-1</guid><description>Words about {title}.</description>"
        "<pubDate>Tue, 27 Feb 2024 10:00:00 GMT</pubDate></item></channel></rss>"
    ).encode()


def home(*links: str) -> bytes:
    head = "".join(links)
    page = f"<!doctype html><html><head><title>Site</title>{head}</head><body>hi</body></html>"
    return page.encode()


@pytest.fixture
def sites() -> Iterator[list[RoutesServer]]:
    servers = [RoutesServer() for _ in range(3)]
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def icon_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, fulltext=False, expand_links=False, icon_max_bytes=2048)


def paths(server: RoutesServer) -> list[str]:
    return [p for p, _ in server.hits]


def serve_site(server: RoutesServer, page: bytes, **files: Answer) -> None:
    server.route("/", Answer(page, content_type="text/html; charset=utf-8"))
    for path, answer in files.items():
        server.route("/" + path.replace("__", "/").replace("_", "."), answer)


# -- reading bytes and pages ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (PNG, "image/png"),
        (ICO, "image/x-icon"),
        (b"GIF89a" + bytes(20), "image/gif"),
        (b"\xff\xd8\xff\xe0" + bytes(20), "image/jpeg"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(20), "image/webp"),
        (SVG, "image/svg+xml"),
        (b"\xef\xbb\xbf  <svg viewBox='0 0 1 1'></svg>", "image/svg+xml"),
        (HTML_PAGE, None),
        (b"<html><body><svg></svg></body></html>", None),
        (b"plain text", None),
        (b"", None),
    ],
)
def test_sniff_reads_the_bytes(data: bytes, mime: str | None) -> None:
    assert sniff_icon(data) == mime


def test_declared_icons_best_first() -> None:
    page = home(
        '<link rel="apple-touch-icon" href="/touch.png">',
        '<link rel="stylesheet" href="/s.css">',
        '<link rel="shortcut icon" href="fav.ico">',
        '<link rel="icon" href="data:image/png;base64,AAAA">',
        '<link rel="icon" type="image/svg+xml" href="https://cdn.test/i.svg">',
    )
    assert declared_icons(page, "http://site.test/blog/") == [
        "http://site.test/blog/fav.ico",
        "https://cdn.test/i.svg",
        "http://site.test/touch.png",
    ]
    assert declared_icons(b"", "http://site.test/") == []


def test_site_origin() -> None:
    assert site_origin("HTTPS://Example.ORG:443/a?b") == "https://example.org"
    assert site_origin("http://example.org:8080/") == "http://example.org:8080"
    assert site_origin("ftp://example.org/") is None
    assert site_origin("http://[::1]:99/") == "http://[::1]:99"
    assert site_origin(None) is None


# -- refresh --------------------------------------------------------------------------------


def subscribe(store: SqlStore, server: RoutesServer, *titles: str) -> list[int]:
    return [
        store.add_feed(server.route(f"/{t}.xml", Answer(feed(server.base, t)))).id for t in titles
    ]


@pytest.mark.parametrize("pool", [False, True])
def test_one_icon_for_two_feeds_of_a_site(
    sites: list[RoutesServer], icon_settings: Settings, pool: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also when the parse workers store the feeds and the icons are looked for while they
    work, a group of feeds at a time (here one: each call after the first finds the site
    done)."""
    calls: list[list[int]] = []
    real_refresh_icons = refresh.refresh_icons

    async def counted(*args: Any, **kwargs: Any) -> int:
        calls.append(list(args[3]))
        return await real_refresh_icons(*args, **kwargs)

    monkeypatch.setattr(refresh, "refresh_icons", counted)
    if pool:
        monkeypatch.setattr(refresh, "PARSE_POOL_MIN_FEEDS", 1)
        monkeypatch.setattr(refresh, "ICON_GROUP", 1)
    site = sites[0]
    serve_site(
        site,
        home('<link rel="icon" href="/img/fav.png">'),
        img__fav_png=Answer(PNG, content_type="image/png"),
    )
    store = open_store(icon_settings.resolved_database_url)
    try:
        ids = subscribe(store, site, "alpha", "beta")
        report = refresh_sync(store, icon_settings, now=NOW)
        assert not report.errors
        # with the pool, one call per feed as it is stored, then the refresh's own
        assert len(calls) == (3 if pool else 1) and calls[-1] == ids
        feeds = store.list_feeds(ids)
        assert feeds[0].icon_id is not None and feeds[0].icon_id == feeds[1].icon_id
        icon = store.icons.get_icon(feeds[0].icon_id)
        assert icon is not None and icon.data == PNG and icon.mime_type == "image/png"
        assert paths(site).count("/img/fav.png") == 1 and paths(site).count("/") == 1
        # Not due again for icon_refresh_days: the next refresh asks nothing more.
        refresh_sync(store, icon_settings, now=NOW + timedelta(days=1))
        assert paths(site).count("/img/fav.png") == 1
        refresh_sync(store, icon_settings, now=NOW + timedelta(days=31))
        assert paths(site).count("/img/fav.png") == 2
    finally:
        store.close()


def test_favicon_ico_when_the_page_declares_none(
    sites: list[RoutesServer], icon_settings: Settings
) -> None:
    site = sites[0]
    serve_site(site, home(), favicon_ico=Answer(ICO, content_type="image/vnd.microsoft.icon"))
    store = open_store(icon_settings.resolved_database_url)
    try:
        [feed_id] = subscribe(store, site, "gamma")
        refresh_sync(store, icon_settings, now=NOW)
        icon_id = store.get_feed(feed_id).icon_id
        assert icon_id is not None
        found = store.icons.get_icon(icon_id)
        assert found is not None and found.mime_type == "image/x-icon"
    finally:
        store.close()


def test_refused_icons_leave_none_and_retry_after_a_day(
    sites: list[RoutesServer], icon_settings: Settings
) -> None:
    """Too big, HTML served as an icon: nothing stored, the feed shows no icon, the refresh
    itself succeeds, and the site is tried again only after icon_retry_hours."""
    big, html = sites[0], sites[1]
    serve_site(
        big,
        home('<link rel="icon" href="/big.png">'),
        big_png=Answer(PNG + bytes(4096), content_type="image/png"),
        favicon_ico=Answer(b"", 404),
    )
    serve_site(
        html,
        home('<link rel="icon" href="/favicon.ico">'),
        favicon_ico=Answer(HTML_PAGE, content_type="image/x-icon"),
    )
    store = open_store(icon_settings.resolved_database_url)
    try:
        ids = subscribe(store, big, "big") + subscribe(store, html, "html")
        report = refresh_sync(store, icon_settings, now=NOW)
        assert not report.errors and report.new_entries == 2
        assert [f.icon_id for f in store.list_feeds(ids)] == [None, None]
        states = store.icons.icon_states([big.base, html.base])
        assert {s.has_data for s in states.values()} == {False}
        refresh_sync(store, icon_settings, now=NOW + timedelta(hours=2))
        assert paths(html).count("/favicon.ico") == 1
        refresh_sync(store, icon_settings, now=NOW + timedelta(hours=25))
        assert paths(html).count("/favicon.ico") == 2
    finally:
        store.close()
    with open_store(icon_settings.resolved_database_url).engine.connect() as conn:
        errors = [r[0] for r in conn.exec_driver_sql("SELECT error FROM icons ORDER BY origin")]
    assert any("limit" in e for e in errors) and any("HTML" in e for e in errors)


def test_redirect_to_a_private_address_is_refused(
    sites: list[RoutesServer], icon_settings: Settings
) -> None:
    """The guard is on: only the site's own address:port is allowed; its icon redirects to
    another loopback port, which must never see a request."""
    site, private = sites[0], sites[1]
    private.route("/secret.png", Answer(PNG, content_type="image/png"))
    serve_site(
        site,
        home('<link rel="icon" href="/fav.png">'),
        fav_png=Answer(b"", 302, headers={"Location": private.base + "/secret.png"}),
    )
    port = site.server_address[1]
    guarded = dataclasses.replace(
        icon_settings, allow_private_networks=False, allowed_networks=f"127.0.0.1:{port}"
    )
    store = open_store(guarded.resolved_database_url)
    try:
        [feed_id] = subscribe(store, site, "delta")
        report = refresh_sync(store, guarded, now=NOW)
        assert not report.errors
        assert store.get_feed(feed_id).icon_id is None
        assert "/fav.png" in paths(site) and private.hits == []
    finally:
        store.close()


# -- serving --------------------------------------------------------------------------------


async def refreshed_desk(sites: list[RoutesServer], settings: Settings) -> tuple[Desk, list[int]]:
    png_site, svg_site = sites[0], sites[1]
    serve_site(
        png_site,
        home('<link rel="icon" href="/fav.png">'),
        fav_png=Answer(PNG, content_type="image/png"),
    )
    serve_site(
        svg_site,
        home('<link rel="icon" href="/i.svg">'),
        i_svg=Answer(SVG, content_type="image/svg+xml"),
    )
    desk = Desk(settings)
    ids = subscribe(desk.store, png_site, "alpha", "beta") + subscribe(desk.store, svg_site, "svg")
    await refresh_feeds(desk.store, settings, now=NOW)
    return desk, ids


def client(desk: Desk, settings: Settings) -> httpx.AsyncClient:
    from newsdesk.web.app import create_app

    app = create_app(settings, desk=desk, no_auth=True)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost")


async def test_reading_room_shows_and_serves_icons(
    sites: list[RoutesServer], icon_settings: Settings
) -> None:
    desk, ids = await refreshed_desk(sites, icon_settings)
    try:
        async with client(desk, icon_settings) as web:
            river = (await web.get("/")).text
            feeds_page = (await web.get("/subscriptions")).text
            src = desk_icon_path(web, desk.store.icons.feed_icon_refs()[ids[0]].id)
            assert src.startswith("/icon/")
            assert f'<img class="feed-icon" src="{src}"' in river and f'src="{src}"' in feeds_page
            # No cookie is needed: the URL itself is the key.
            web.cookies.clear()
            icon = await web.get(src)
            assert icon.status_code == 200 and icon.content == PNG
            assert icon.headers["content-type"] == "image/png"
            assert "immutable" in icon.headers["cache-control"]
            again = await web.get(src, headers={"If-None-Match": icon.headers["etag"]})
            assert again.status_code == 304 and again.content == b""
            icon_id = src.removeprefix("/icon/").split("-")[0]
            for wrong in (f"/icon/{icon_id}-{'0' * 32}", "/icon/99999-" + "a" * 32, "/icon/x"):
                assert (await web.get(wrong)).status_code == 404
            svg_ref = desk.store.icons.feed_icon_refs()[ids[2]]
            svg_src = desk_icon_path(web, svg_ref.id)
            svg = await web.get(svg_src)
            assert svg.headers["content-type"] == "image/svg+xml"
            assert svg.headers["content-security-policy"].startswith("default-src 'none'")
    finally:
        desk.close()


def desk_icon_path(web: httpx.AsyncClient, icon_id: int) -> str:
    app = web._transport.app  # type: ignore[attr-defined]
    links = app.state.ctx.icon_links
    found = links.store.icons.get_icon(icon_id)
    assert found is not None
    return str(links.path(found))


async def test_reader_apis_give_the_icons(
    sites: list[RoutesServer], icon_settings: Settings
) -> None:
    desk, ids = await refreshed_desk(sites, icon_settings)
    try:
        store = desk.store
        _, key = store.tokens.create_token("icons")
        store.users.set_password("admin", "correct horse battery")
        store.users.set_fever(
            "admin",
            on=True,
            password="correct horse battery",
            server_key=server_key(icon_settings),
        )
        icon_id = desk.store.get_feed(ids[0]).icon_id
        async with client(desk, icon_settings) as api:
            auth = {"X-Auth-Token": key}
            # Miniflux
            got = (await api.get(f"/v1/feeds/{ids[0]}/icon", headers=auth)).json()
            assert got == {
                "id": icon_id,
                "data": "image/png;base64," + base64.b64encode(PNG).decode(),
                "mime_type": "image/png",
            }
            assert (await api.get(f"/v1/icons/{icon_id}", headers=auth)).json() == got
            assert (await api.get("/v1/icons/99999", headers=auth)).status_code == 404
            assert (await api.get(f"/v1/icons/{icon_id}")).status_code == 401
            feed_obj = (await api.get(f"/v1/feeds/{ids[1]}", headers=auth)).json()
            assert feed_obj["icon"] == {"feed_id": ids[1], "icon_id": icon_id}
            # Google Reader: an absolute URL to our own route, fetched without a token.
            google = {"Authorization": f"GoogleLogin auth={key}"}
            subs = (
                await api.get("/reader/api/0/subscription/list?output=json", headers=google)
            ).json()
            urls = {s["id"]: s["iconUrl"] for s in subs["subscriptions"]}
            assert urls[f"feed/{ids[0]}"] == urls[f"feed/{ids[1]}"]
            assert urls[f"feed/{ids[0]}"].startswith("http://localhost/icon/")
            fetched = await api.get(urls[f"feed/{ids[0]}"])
            assert fetched.status_code == 200 and fetched.content == PNG
            # Fever
            import hashlib

            fever_key = hashlib.md5(b"admin:correct horse battery").hexdigest()
            body = (
                await api.post("/fever/?api&feeds&favicons", data={"api_key": fever_key})
            ).json()
            favicon_ids = {f["id"]: f["favicon_id"] for f in body["feeds"]}
            assert favicon_ids[ids[0]] == favicon_ids[ids[1]] == icon_id
            favicons = {f["id"]: f["data"] for f in body["favicons"]}
            assert favicons[icon_id] == "image/png;base64," + base64.b64encode(PNG).decode()
            assert favicons[favicon_ids[ids[2]]].startswith("image/svg+xml;base64,")
    finally:
        desk.close()

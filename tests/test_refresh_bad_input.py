"""Bad input: every kind of broken feed gets a clear error recorded on that feed and shown by
`feeds` and `refresh`; the other feeds refresh; nothing stored is lost."""

from __future__ import annotations

from typing import Any

import pytest

from routes_server import Answer, RoutesServer, closed_port, rss

BROKEN: dict[str, tuple[Answer, str]] = {
    "/gone404": (Answer(b"nope", 404, "text/html"), "HTTP 404"),
    "/error500": (Answer(b"oops", 500, "text/plain"), "HTTP 500"),
    "/page.html": (
        Answer(
            b"<!doctype html><html><head><title>x</title></head><body>hi</body></html>",
            200,
            "text/html",
        ),
        "HTML page, not a feed",
    ),
    "/garbage.xml": (
        Answer(b"\x00\x01 this is { not xml", 200, "application/xml"),
        "not an RSS, Atom or JSON feed",
    ),
    "/badjson": (
        Answer(
            b'{"version": "https://jsonfeed.org/version/1.1", "items": [',
            200,
            "application/feed+json",
        ),
        "invalid JSON",
    ),
    "/empty": (Answer(b"", 200, "application/rss+xml"), "empty"),
    "/slow": (Answer(rss("slow"), delay=3.0), "timed out"),
}


def test_one_bad_feed_does_not_stop_the_others(
    cli: Any, store_url: str, server: RoutesServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSDESK_FETCH_TIMEOUT", "1")
    good = server.route("/good.rss", Answer(rss("Good news")))
    for path, (answer, _reason) in BROKEN.items():
        server.route(path, answer)
    urls = [good] + [server.base + p for p in BROKEN]
    urls.append(f"http://127.0.0.1:{closed_port()}/feed.xml")
    for url in urls:
        assert cli("add", "--no-check", url, "--db", store_url).code == 0
    result = cli("refresh", "--db", store_url)
    assert result.code == 0, result.err  # the run completed although feeds failed
    assert f"{len(urls)} feeds, 3 new entries, {len(urls) - 1} errors" in result.out
    feeds = {f["url"]: f for f in cli("feeds", "--json", "--db", store_url).json()}
    assert feeds[good]["last_status"] == 200 and feeds[good]["error_count"] == 0
    assert feeds[good]["category"] == "General"  # no category given: the default one
    for path, (_answer, reason) in BROKEN.items():
        feed = feeds[server.base + path]
        assert feed["error_count"] == 1, path
        assert reason in feed["last_error"], (path, feed["last_error"])
        assert reason in result.out, path  # refresh names each failing feed with its reason
    unreachable = feeds[urls[-1]]
    assert "cannot connect" in unreachable["last_error"]
    listing = cli("feeds", "--db", store_url).out
    assert "error ×1" in listing


def test_a_feed_that_breaks_keeps_its_entries(
    cli: Any, store_url: str, server: RoutesServer
) -> None:
    url = server.route("/feed.rss", Answer(rss("Kept", items=5)))
    cli("add", url, "--db", store_url)
    assert "5 new entries" in cli("refresh", "--db", store_url).out
    for answer in (
        Answer(b"<rss><channel><title>x</ti", 200),
        Answer(b"down", 503, "text/plain"),
        Answer(b"<html><body>parked domain</body></html>", 200, "text/html"),
    ):
        server.route("/feed.rss", answer)
        out = cli("refresh", "--db", store_url)
        assert out.code == 1  # the only feed failed: nothing could be done
        assert len(cli("entries", "--json", "--db", store_url).json()) == 5
    feed = cli("feeds", "--json", "--db", store_url).json()[0]
    assert feed["error_count"] == 3
    server.route("/feed.rss", Answer(rss("Kept", items=6)))
    assert "1 new entries" in cli("refresh", "--db", store_url).out
    feed = cli("feeds", "--json", "--db", store_url).json()[0]
    assert feed["error_count"] == 0 and feed["last_error"] is None


def test_encoding_trouble_is_read_not_lost(cli: Any, sqlite_url: str, server: RoutesServer) -> None:
    latin1 = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Caf\xe9</title>'
        "<item><title>Cr\xe8me br\xfbl\xe9e</title><guid>1</guid></item></channel></rss>"
    ).encode("latin-1")
    no_declaration = (
        '<rss version="2.0"><channel><title>Новости</title><item><title>Привет</title>'
        "<guid>1</guid></item></channel></rss>"
    ).encode("cp1251")
    a = server.route("/latin1", Answer(latin1))
    b = server.route(
        "/cp1251", Answer(no_declaration, content_type="text/xml; charset=windows-1251")
    )
    for url in (a, b):
        cli("add", url, "--db", sqlite_url)
    assert cli("refresh", "--db", sqlite_url).code == 0
    titles = {e["title"] for e in cli("entries", "--json", "--db", sqlite_url).json()}
    assert titles == {"Crème brûlée", "Привет"}
    feeds = {f["url"]: f for f in cli("feeds", "--json", "--db", sqlite_url).json()}
    assert feeds[a]["title"] == "Café"
    assert any("UTF-8" in p for p in feeds[a]["problems"])


def test_gone_feed_is_paused_with_a_reason(cli: Any, sqlite_url: str, server: RoutesServer) -> None:
    url = server.route("/old.rss", Answer(b"gone", 410, "text/plain"))
    cli("add", "--no-check", url, "--db", sqlite_url)
    cli("refresh", "--db", sqlite_url)
    feed = cli("feeds", "--json", "--db", sqlite_url).json()[0]
    assert feed["paused"] is True and "410" in feed["paused_reason"]
    # a plain refresh skips paused feeds; `feeds FEED --resume` brings it back
    assert "0 feeds" in cli("refresh", "--db", sqlite_url).out
    cli("feeds", str(feed["id"]), "--resume", "--db", sqlite_url)
    assert cli("feeds", "--json", "--db", sqlite_url).json()[0]["paused"] is False


def test_add_refuses_what_is_not_a_feed(cli: Any, sqlite_url: str, server: RoutesServer) -> None:
    page = server.route(
        "/blog", Answer(b"<html><body>no feed here</body></html>", 200, "text/html")
    )
    result = cli("add", page, "--db", sqlite_url)
    assert result.code == 1 and "links to no feed" in result.err
    assert "Traceback" not in result.err
    dead = cli("add", server.base + "/missing", "--db", sqlite_url)
    assert dead.code == 1 and "HTTP 404" in dead.err
    assert cli("feeds", "--json", "--db", sqlite_url).json() == []  # nothing saved

"""The CLI side of always-on refresh: `refresh --due`, `queue` and clear errors for a broker or
database that cannot be reached."""

from __future__ import annotations

from typing import Any

from routes_server import Answer, RoutesServer, closed_port, rss


def test_refresh_due_fetches_only_due_feeds(cli: Any, store_url: str, server: RoutesServer) -> None:
    for name in ("a", "b"):
        assert (
            cli("add", server.route(f"/{name}.rss", Answer(rss(name))), "--db", store_url).code == 0
        )
    first = cli("refresh", "--due", "--db", store_url)
    assert "2 feeds, 6 new entries, 0 errors" in first.out
    assert "0 feeds" in cli("refresh", "--due", "--db", store_url).out
    feeds = cli("feeds", "--json", "--db", store_url).json()
    assert all(f["next_check"] and f["last_error"] is None for f in feeds)
    # the manual refresh still fetches everything
    assert "2 feeds" in cli("refresh", "--db", store_url).out


def test_queue_reports_an_unreachable_broker(cli: Any, sqlite_url: str) -> None:
    broker = f"redis://127.0.0.1:{closed_port()}/0"
    result = cli("queue", "--db", sqlite_url, "--broker", broker)
    assert result.code == 1
    assert result.err.startswith("newsdesk: cannot reach the broker at redis://127.0.0.1:")
    assert "Traceback" not in result.err


def test_worker_and_beat_refuse_a_bad_database(cli: Any) -> None:
    for command in ("worker", "beat"):
        url = f"postgresql://nobody@127.0.0.1:{closed_port()}/none"
        result = cli(command, "--db", url)
        assert result.code == 1
        assert "cannot open the database" in result.err and "Traceback" not in result.err


def test_queue_shows_the_feeds(
    cli: Any, sqlite_url: str, redis_url: str, server: RoutesServer
) -> None:
    cli("add", "--no-check", server.route("/a.rss", Answer(rss("a"))), "--db", sqlite_url)
    result = cli("queue", "--json", "--db", sqlite_url, "--broker", redis_url)
    assert result.code == 0, result.err
    status = result.json()
    assert status["queue"] == "newsdesk" and status["waiting"] >= 0
    assert status["feeds"]["total"] == 1 and status["feeds"]["due"] == 1

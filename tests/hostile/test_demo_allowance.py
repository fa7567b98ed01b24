"""``serve --demo`` subscribes to its own sample server on loopback. It lifts the SSRF guard
for that server's address and port only (an ``address:port`` entry of ``allowed_networks``),
never for the rest of loopback: a page rebound to the desk, or anyone using it, still cannot
make it fetch another service on 127.0.0.1."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from newsdesk.settings import SettingsError, load_settings

from .loopback import LoopbackServer, TableResolver
from .served import serve
from .test_ssrf import FEED, fetch


async def test_an_address_and_port_entry_allows_that_port_only(
    private: LoopbackServer, tmp_path: Path
) -> None:
    private.static("/feed", FEED)
    other = LoopbackServer("127.0.0.1").start()
    try:
        other.static("/feed", FEED)
        settings = load_settings(
            env={"NEWSDESK_ALLOWED_NETWORKS": f"127.0.0.1:{private.port}"},
            fetch_timeout=5.0,
            fulltext=False,
            expand_links=False,
        )
        resolver = TableResolver({"demo.test": ["127.0.0.1"]})
        assert await fetch(settings, private.url("/feed")) is None
        assert await fetch(settings, f"http://demo.test:{private.port}/feed", resolver) is None
        refused = await fetch(settings, other.url("/feed"))
        assert refused is not None and "not a public address" in refused
        refused = await fetch(settings, f"http://demo.test:{other.port}/feed", resolver)
        assert refused is not None and "not a public address" in refused
        assert private.hits == ["/feed", "/feed"] and other.hits == []
    finally:
        other.stop()


@pytest.mark.parametrize("entry", ["127.0.0.1:0", "127.0.0.1:70000", "example.org:80", "[::1]"])
def test_bad_entries_are_named(entry: str) -> None:
    with pytest.raises(SettingsError, match="NEWSDESK_ALLOWED_NETWORKS"):
        load_settings(env={"NEWSDESK_ALLOWED_NETWORKS": entry})


@pytest.mark.slow
def test_serve_demo_cannot_be_used_to_reach_other_loopback_services(
    tmp_path: Path, private: LoopbackServer
) -> None:
    private.static("/feed.xml", FEED)
    with serve(tmp_path / "demo.db", tmp_path, "--demo") as server:
        with httpx.Client(base_url=server.base) as client:
            river = client.get("/")
            assert river.status_code == 200
            assert "<article" in river.text  # the demo's own sample feeds were fetched
            token = re.search(r'name="csrf-token" content="([0-9a-f]+)"', river.text)
            assert token is not None
            answer = client.post(
                "/subscriptions/add",
                data={"csrf_token": token.group(1), "url": private.url("/feed.xml")},
            )
        assert answer.status_code in (200, 400)
        assert "not a public address" in answer.text
    assert private.hits == []

"""The native API's rules (``/api/rules``, issue 16) on SQLite and PostgreSQL: make, list,
read, change (name, query, actions, on/off, place), delete, test a query, apply a rule to the
stored entries; bad input is a 400 with our message; another person's rule is a 404 exactly
as a missing one; the OpenAPI document describes every route.

The desk is small and our own: one loopback feed of four entries, refreshed for real, read by
the admin (and by bob, who follows it too)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from newsdesk.desk import Desk
from newsdesk.settings import load_settings
from newsdesk.web.app import create_app
from routes_server import Answer, RoutesServer

TITLES = (
    "Smirnov indicted in Boston",
    "Harbour cranes idle",
    "Smirnov appeal heard",
    "Mild weather over the hills",
)


def wire(base: str) -> bytes:
    now = datetime.now(UTC)
    items = "".join(
        f"<item><title>{title}</title><link>{base}/wire/{n}</link><guid>{base}/wire/{n}</guid>"
        f"<pubDate>{(now - timedelta(hours=n + 1)).strftime('%a, %d %b %Y %H:%M:%S GMT')}"
        f"</pubDate><description>Story number {n}.</description></item>"
        for n, title in enumerate(TITLES)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        f"<link>{base}/</link><description>d</description>{items}</channel></rss>"
    ).encode()


@dataclass
class Env:
    client: httpx.AsyncClient
    desk: Desk
    key: str  # the admin's API key
    bob_key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"X-Auth-Token": self.key}

    @property
    def bob(self) -> dict[str, str]:
        return {"X-Auth-Token": self.bob_key}


@pytest.fixture
async def env(store_url: str, server: RoutesServer) -> AsyncIterator[Env]:
    settings = load_settings(
        env={}, database_url=store_url, allow_private_networks=True, fulltext=False
    )
    url = server.route("/wire.xml", Answer(wire(server.base)))
    desk = Desk(settings)
    try:
        admin = desk.for_name(None)
        bob = desk.as_person(desk.store.users.add_user("bob", "correct horse battery", "member"))
        await admin.subscribe(url, check=False)
        await bob.subscribe(url, check=False)
        report = await desk.refresh_async(fulltext=False)
        assert report.new_entries == len(TITLES), report.summary
        _, key = admin.store.tokens.create_token("tests")
        _, bob_key = bob.store.tokens.create_token("bob's")
        app = create_app(settings, desk=desk)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://newsdesk.test") as c:
            yield Env(c, desk, key, bob_key)
    finally:
        desk.close()


def _titles(answer: dict[str, object]) -> list[str]:
    entries = answer["entries"]
    assert isinstance(entries, list)
    return [str(e["title"]) for e in entries]


async def _make(env: Env, **body: object) -> dict[str, object]:
    made = await env.client.post("/api/rules", json=body, headers=env.auth)
    assert made.status_code == 201, made.text
    found: dict[str, object] = made.json()
    return found


async def test_make_list_read_change_delete(env: Env) -> None:
    c, auth = env.client, env.auth
    assert (await c.get("/api/rules", headers=auth)).json() == []
    made = await c.post(
        "/api/rules",
        json={"query": "smirnov", "actions": ["star", "tag:smirnov"], "name": "Smirnov"},
        headers=auth,
    )
    assert made.status_code == 201, made.text
    rule = made.json()
    assert made.headers["location"] == f"/api/rules/{rule['id']}"
    assert rule["name"] == "Smirnov" and rule["query"] == "smirnov"
    assert rule["actions"] == ["star", "tag:smirnov"] and rule["enabled"] is True
    assert {"position", "matched", "created_at", "updated_at"} <= set(rule)
    # actions as one comma-separated string, like the CLI's --then; no name: one is made
    second = await _make(env, query="harbour", actions="read, tag:ports")
    assert second["actions"] == ["read", "tag:ports"] and second["name"]
    listed = (await c.get("/api/rules", headers=auth)).json()
    assert [r["id"] for r in listed] == [rule["id"], second["id"]]
    one = await c.get(f"/api/rules/{rule['id']}", headers=auth)
    assert one.status_code == 200 and one.json()["name"] == "Smirnov"

    changed = await c.patch(
        f"/api/rules/{rule['id']}",
        json={"name": "Smirnov watch", "enabled": False, "actions": ["star"]},
        headers=auth,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Smirnov watch" and changed.json()["enabled"] is False
    assert changed.json()["actions"] == ["star"] and changed.json()["query"] == "smirnov"

    gone = await c.delete(f"/api/rules/{rule['id']}", headers=auth)
    assert gone.status_code == 204
    assert (await c.get(f"/api/rules/{rule['id']}", headers=auth)).status_code == 404
    assert [r["id"] for r in (await c.get("/api/rules", headers=auth)).json()] == [second["id"]]
    # made disabled at once
    off = await _make(env, query="weather", actions=["read"], enabled=False)
    assert off["enabled"] is False


async def test_order_by_position(env: Env) -> None:
    ids = [int(str((await _make(env, query=q, actions=["read"]))["id"])) for q in "abc"]
    c, auth = env.client, env.auth

    async def order() -> list[int]:
        return [r["id"] for r in (await c.get("/api/rules", headers=auth)).json()]

    assert await order() == ids
    moved = await c.patch(f"/api/rules/{ids[2]}", json={"position": 0}, headers=auth)
    assert moved.status_code == 200 and moved.json()["position"] == 0
    assert await order() == [ids[2], ids[0], ids[1]]
    await c.patch(f"/api/rules/{ids[2]}", json={"position": 99}, headers=auth)  # past the end
    assert await order() == [ids[0], ids[1], ids[2]]
    positions = [r["position"] for r in (await c.get("/api/rules", headers=auth)).json()]
    assert positions == sorted(positions)
    bad = await c.patch(f"/api/rules/{ids[0]}", json={"position": -1}, headers=auth)
    assert bad.status_code == 400


async def test_test_a_query_and_apply_a_rule(env: Env) -> None:
    c, auth = env.client, env.auth
    tested = await c.get("/api/rules/test", params={"q": "smirnov"}, headers=auth)
    assert tested.status_code == 200, tested.text
    assert tested.json()["count"] == 2
    assert _titles(tested.json()) == ["Smirnov indicted in Boston", "Smirnov appeal heard"]
    one = await c.get("/api/rules/test", params={"q": "smirnov", "limit": "1"}, headers=auth)
    assert one.json()["count"] == 2 and len(one.json()["entries"]) == 1
    posted = await c.post("/api/rules/test", json={"query": 'title~"(?i)^harb"'}, headers=auth)
    assert posted.status_code == 200, posted.text
    assert _titles(posted.json()) == ["Harbour cranes idle"]

    rule = await _make(env, query="smirnov", actions=["star"])
    applied = await c.post(f"/api/rules/{rule['id']}/apply", headers=auth)
    assert applied.status_code == 200, applied.text
    assert applied.json()["changed"] == 2
    assert applied.json()["rule"]["id"] == rule["id"]
    starred = await c.get("/api/entries", params={"starred": "true"}, headers=auth)
    assert sorted(e["title"] for e in starred.json()["entries"]) == sorted(
        ["Smirnov indicted in Boston", "Smirnov appeal heard"]
    )
    # bob follows the same feed: the admin's rule changed nothing of his
    his = await c.get("/api/entries", params={"starred": "true"}, headers=env.bob)
    assert his.json()["entries"] == []
    again = await c.post(f"/api/rules/{rule['id']}/apply", headers=auth)
    assert again.json()["changed"] == 0  # nothing left to change


async def test_delete_with_unblock_shows_the_blocked_entries_again(env: Env) -> None:
    c, auth = env.client, env.auth
    rule = await _make(env, query="smirnov", actions=["block"])
    assert (await c.post(f"/api/rules/{rule['id']}/apply", headers=auth)).json()["changed"] == 2
    seen = await c.get("/api/rules/test", params={"q": "smirnov"}, headers=auth)
    assert seen.json()["count"] == 0
    bad = await c.delete(f"/api/rules/{rule['id']}", params={"unblock": "maybe"}, headers=auth)
    assert bad.status_code == 400 and "unblock" in bad.text
    gone = await c.delete(f"/api/rules/{rule['id']}", params={"unblock": "true"}, headers=auth)
    assert gone.status_code == 204, gone.text
    back = await c.get("/api/rules/test", params={"q": "smirnov"}, headers=auth)
    assert back.json()["count"] == 2


BAD_RULES: list[tuple[dict[str, object], str]] = [
    ({"actions": ["star"]}, "query"),
    ({"query": "x"}, "actions"),
    ({"query": "x", "actions": 3}, "actions"),
    ({"query": "x", "actions": []}, "actions"),
    ({"query": "x", "actions": ["explode"]}, "explode"),
    ({"query": "x", "actions": ["alert:no such list"]}, "no such list"),
    ({"query": 'title~"(a"', "actions": ["star"]}, "title"),
    ({"query": "x", "actions": ["star"], "colour": "red"}, "colour"),
    ({"query": "x" * 3000, "actions": ["star"]}, "longer"),
    ({"query": "x", "actions": ["star"], "enabled": "yes"}, "enabled"),
    ({"query": "x", "actions": ["star"], "name": 7}, "name"),
]


async def test_bad_rules_are_refused(env: Env) -> None:
    for body, words in BAD_RULES:
        answer = await env.client.post("/api/rules", json=body, headers=env.auth)
        assert answer.status_code == 400, (body, answer.text)
        assert words in answer.json()["error"]["message"], (body, answer.text)
    assert (await env.client.get("/api/rules", headers=env.auth)).json() == []


async def test_bad_input_elsewhere(env: Env) -> None:
    c, auth = env.client, env.auth
    rule = await _make(env, query="smirnov", actions=["star"])
    at = f"/api/rules/{rule['id']}"
    cases = [
        await c.patch(at, json={"actions": ["nope"]}, headers=auth),
        await c.patch(at, json={"query": 'text~"[z-a]"'}, headers=auth),
        await c.patch(at, json={"enabled": 1}, headers=auth),
        await c.patch(at, json={"owner": 2}, headers=auth),
        await c.patch(at, content=b"not json", headers=auth),
        await c.get("/api/rules/test", headers=auth),
        await c.get("/api/rules/test", params={"q": "x", "limit": "0"}, headers=auth),
        await c.get("/api/rules/test", params={"q": 'url~"(("'}, headers=auth),
        await c.post("/api/rules/test", json={"query": "x", "limit": 1000}, headers=auth),
    ]
    assert [r.status_code for r in cases] == [400] * len(cases), [r.text for r in cases]
    assert all(r.json()["error"]["message"] for r in cases)
    # nothing half-changed
    assert (await c.get(at, headers=auth)).json() == (await c.get(at, headers=auth)).json()
    assert (await c.get(at, headers=auth)).json()["actions"] == ["star"]
    for path in ("/api/rules/0", "/api/rules/99999999999", "/api/rules/x"):
        assert (await c.get(path, headers=auth)).status_code == 404
    assert (await c.get("/api/rules")).status_code == 401


async def test_another_persons_rule_looks_missing(env: Env) -> None:
    c = env.client
    rule = await _make(env, query="smirnov", actions=["star"], name="Admin's own")
    missing, bob = 987_654, env.bob
    for method, suffix, body in (
        ("GET", "", None),
        ("PATCH", "", {"enabled": False}),
        ("POST", "/apply", None),
        ("DELETE", "", None),
    ):
        his = await c.request(method, f"/api/rules/{rule['id']}{suffix}", json=body, headers=bob)
        none = await c.request(method, f"/api/rules/{missing}{suffix}", json=body, headers=bob)
        assert his.status_code == none.status_code == 404, (method, suffix, his.text)
        assert "Admin's own" not in his.text
    assert (await c.get("/api/rules", headers=env.bob)).json() == []
    moved = await c.patch(f"/api/rules/{rule['id']}", json={"position": 0}, headers=env.bob)
    assert moved.status_code == 404
    kept = (await c.get(f"/api/rules/{rule['id']}", headers=env.auth)).json()
    assert kept["enabled"] is True and kept["matched"] == 0
    starred = await c.get("/api/entries", params={"starred": "true"}, headers=env.auth)
    assert starred.json()["entries"] == []


async def test_the_openapi_document_describes_the_rules(env: Env) -> None:
    document = (await env.client.get("/api/openapi.json")).json()
    paths = document["paths"]
    assert set(paths["/api/rules"]) == {"get", "post"}
    assert set(paths["/api/rules/{rule_id}"]) == {"get", "patch", "delete"}
    assert set(paths["/api/rules/test"]) == {"get", "post"}
    assert set(paths["/api/rules/{rule_id}/apply"]) == {"post"}
    schemas = document["components"]["schemas"]
    assert {"Rule", "NewRule", "RuleChanges", "RuleTest", "RuleMatches", "RuleApplied"} <= set(
        schemas
    )
    rule = await _make(env, query="smirnov", actions=["star"])
    assert set(rule) == set(schemas["Rule"]["properties"])

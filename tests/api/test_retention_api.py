"""Retention in the native API (issue 16) on SQLite and PostgreSQL: ``GET/PUT /api/retention``
(the caller's default), the ``retention`` field of ``GET/PATCH /api/subscriptions/{id}`` (their
policy for one feed; null: the default), the admin's ``POST /api/cleanup`` (a member gets 403)
and the OpenAPI document describing them. Also ``check_interval`` in a PATCH going through the
same permission check as ``options.interval`` (a shared feed's fetching: an admin's, or its
only follower's).

The desk is small and our own: one loopback feed of six entries followed by the admin and bob
(a member), and one only bob follows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from newsdesk.desk import Desk
from newsdesk.settings import load_settings
from newsdesk.store.schema import entries
from newsdesk.web.api.openapi import document
from newsdesk.web.app import create_app
from routes_server import Answer, RoutesServer

ENTRIES = 6
NO_LIMITS = {"keep_days": None, "keep_read_days": None, "keep_last": None}


def wire(base: str, slug: str) -> bytes:
    now = datetime.now(UTC)
    items = "".join(
        f"<item><title>{slug} {n}</title><link>{base}/{slug}/{n}</link>"
        f"<guid>{base}/{slug}/{n}</guid>"
        f"<pubDate>{(now - timedelta(hours=n + 1)).strftime('%a, %d %b %Y %H:%M:%S GMT')}"
        f"</pubDate><description>Story {n}.</description></item>"
        for n in range(ENTRIES)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{slug}</title>'
        f"<link>{base}/</link><description>d</description>{items}</channel></rss>"
    ).encode()


@dataclass
class Env:
    client: httpx.AsyncClient
    desk: Desk
    key: str
    bob_key: str
    feed_id: int  # followed by both
    bob_only: int

    @property
    def auth(self) -> dict[str, str]:
        return {"X-Auth-Token": self.key}

    @property
    def bob(self) -> dict[str, str]:
        return {"X-Auth-Token": self.bob_key}

    def count(self, feed_id: int) -> int:
        """The feed's stored entries, whoever follows it."""
        with self.desk.store.engine.connect() as conn:
            found = select(func.count()).where(entries.c.feed_id == feed_id)
            return int(conn.execute(found).scalar_one())


@pytest.fixture
async def env(store_url: str, server: RoutesServer) -> AsyncIterator[Env]:
    settings = load_settings(
        env={}, database_url=store_url, allow_private_networks=True, fulltext=False
    )
    desk = Desk(settings)
    try:
        admin = desk.for_name(None)
        bob = desk.as_person(desk.store.users.add_user("bob", "correct horse battery", "member"))
        url = server.route("/wire.xml", Answer(wire(server.base, "wire")))
        bobs = server.route("/bob.xml", Answer(wire(server.base, "bob")))
        feed = await admin.subscribe(url, check=False)
        await bob.subscribe(url, check=False)
        bob_feed = await bob.subscribe(bobs, check=False)
        report = await desk.refresh_async(fulltext=False)
        assert report.new_entries == 2 * ENTRIES, report.summary
        _, key = admin.store.tokens.create_token("tests")
        _, bob_key = bob.store.tokens.create_token("bob's")
        app = create_app(settings, desk=desk)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://newsdesk.test") as c:
            yield Env(c, desk, key, bob_key, feed.id, bob_feed.id)
    finally:
        desk.close()


async def _json(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json()


async def test_default_policy_read_and_replaced(env: Env) -> None:
    c = env.client
    assert await _json(await c.get("/api/retention", headers=env.auth)) == NO_LIMITS
    put = await c.put("/api/retention", json={"keep_days": 30, "keep_last": 200}, headers=env.auth)
    assert await _json(put) == {"keep_days": 30, "keep_read_days": None, "keep_last": 200}
    assert env.desk.for_name(None).store.retention.default() == {"keep_days": 30, "keep_last": 200}
    # PUT replaces the whole policy: what is left out is no limit
    put = await c.put("/api/retention", json={"keep_read_days": 7}, headers=env.auth)
    assert await _json(put) == {**NO_LIMITS, "keep_read_days": 7}
    assert await _json(await c.get("/api/retention", headers=env.auth)) == put.json()
    assert await _json(await c.put("/api/retention", json={}, headers=env.auth)) == NO_LIMITS
    # bob's is his own
    await c.put("/api/retention", json={"keep_days": 3}, headers=env.bob)
    assert await _json(await c.get("/api/retention", headers=env.auth)) == NO_LIMITS
    assert (await c.get("/api/retention", headers=env.bob)).json()["keep_days"] == 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"keep_days": 0}, "keep_days must be a whole number of days from 1 to 36,500"),
        ({"keep_days": "30"}, "keep_days must be a whole number"),
        ({"keep_last": True}, "keep_last must be a whole number of entries"),
        ({"keep_last": 10**12}, "keep_last must be a whole number of entries"),
        ({"keep_days": 1.5}, "keep_days must be a whole number"),
        ({"forever": 1}, "unknown retention setting 'forever'"),
    ],
)
async def test_default_policy_bad_values(env: Env, body: dict[str, Any], message: str) -> None:
    env.desk.for_name(None).store.retention.set_default({"keep_days": 9})
    answer = await env.client.put("/api/retention", json=body, headers=env.auth)
    assert answer.status_code == 400
    assert message in answer.json()["error"]["message"]
    assert env.desk.for_name(None).store.retention.default() == {"keep_days": 9}
    for raw in (b"[1]", b"nope", b""):
        answer = await env.client.put("/api/retention", content=raw, headers=env.auth)
        assert answer.status_code == 400, answer.text


async def test_feed_policy_on_subscriptions(env: Env) -> None:
    c, url = env.client, f"/api/subscriptions/{env.feed_id}"
    assert (await _json(await c.get(url, headers=env.auth)))["retention"] is None
    listed = await _json(await c.get("/api/subscriptions", headers=env.auth))
    assert [f["retention"] for f in listed] == [None]
    patched = await c.patch(
        url, json={"retention": {"keep_last": 3, "keep_days": None}}, headers=env.auth
    )
    found = await _json(patched)
    assert found["retention"] == {"keep_last": 3, "keep_days": None}
    assert found["id"] == env.feed_id and found["entries"] == ENTRIES  # with its counts
    assert (await c.get(url, headers=env.auth)).json()["retention"] == found["retention"]
    listed = await _json(await c.get("/api/subscriptions", headers=env.auth))
    assert listed[0]["retention"] == {"keep_last": 3, "keep_days": None}
    store = env.desk.for_name(None).store.retention
    assert store.feed(env.feed_id) == {"keep_last": 3, "keep_days": None}
    # with other changes in one PATCH
    both = await c.patch(
        url, json={"title": "Renamed", "retention": {"keep_read_days": 2}}, headers=env.auth
    )
    assert (await _json(both))["custom_title"] == "Renamed"
    assert both.json()["retention"] == {"keep_read_days": 2}
    # null: back to the default
    back = await c.patch(url, json={"retention": None}, headers=env.auth)
    assert (await _json(back))["retention"] is None and store.feed(env.feed_id) == {}
    # bob's policy for the same feed is his, and does not show in the admin's answers
    await c.patch(url, json={"retention": {"keep_days": 5}}, headers=env.bob)
    assert (await c.get(url, headers=env.auth)).json()["retention"] is None
    assert (await c.get(url, headers=env.bob)).json()["retention"] == {"keep_days": 5}


async def test_feed_policy_bad_values_change_nothing(env: Env) -> None:
    c, url = env.client, f"/api/subscriptions/{env.feed_id}"
    for body, message in (
        ({"retention": {"keep_days": -1}}, "keep_days must be a whole number"),
        ({"retention": 30}, "retention must be an object"),
        ({"retention": {"keep": 1}}, "unknown retention setting 'keep'"),
        ({"title": "Not saved", "retention": {"keep_last": 0}}, "keep_last must be"),
    ):
        answer = await c.patch(url, json=body, headers=env.auth)
        assert answer.status_code == 400, answer.text
        assert message in answer.json()["error"]["message"]
    found = await _json(await c.get(url, headers=env.auth))
    assert found["retention"] is None and found["custom_title"] is None
    # another person's feed: as missing as one that does not exist
    for feed_id in (env.bob_only, 987_654_321):
        answer = await c.patch(
            f"/api/subscriptions/{feed_id}", json={"retention": {"keep_days": 1}}, headers=env.auth
        )
        assert answer.status_code == 404, answer.text


async def test_cleanup_is_the_admins(env: Env) -> None:
    c = env.client
    for body in ({"dry_run": True}, {"keep_days": 1}, {}):
        refused = await c.post("/api/cleanup", json=body, headers=env.bob)
        assert refused.status_code == 403
        assert refused.json()["error"]["message"] == "only an admin cleans up the desk"
    # both followers keep only the newest two of the shared feed; bob his own feed's newest one
    await c.patch(
        f"/api/subscriptions/{env.feed_id}", json={"retention": {"keep_last": 2}}, headers=env.auth
    )
    await c.put("/api/retention", json={"keep_last": 2}, headers=env.bob)
    await c.patch(
        f"/api/subscriptions/{env.bob_only}", json={"retention": {"keep_last": 1}}, headers=env.bob
    )
    dry = await _json(await c.post("/api/cleanup", json={"dry_run": True}, headers=env.auth))
    assert dry["dry_run"] is True and dry["removed"] == (ENTRIES - 2) + (ENTRIES - 1)
    assert dry["feeds"] == {str(env.feed_id): ENTRIES - 2, str(env.bob_only): ENTRIES - 1}
    assert env.count(env.feed_id) == ENTRIES  # nothing removed
    done = await _json(await c.post("/api/cleanup", headers=env.auth))  # no body: a real run
    assert done["dry_run"] is False and done["removed"] == dry["removed"]
    assert {"batches", "kept_starred", "stories_changed", "stories_removed", "space"} <= set(done)
    assert env.count(env.feed_id) == 2 and env.count(env.bob_only) == 1
    again = await _json(await c.post("/api/cleanup", json={"keep_days": 1}, headers=env.auth))
    assert again["removed"] == 0


async def test_cleanup_bad_input(env: Env) -> None:
    for body, message in (
        ({"keep_days": 0}, "keep_days must be a whole number of days from 1 to 36,500"),
        ({"keep_days": "7"}, "keep_days must be a whole number"),
        ({"dry_run": "yes"}, "dry_run"),
        ({"everything": True}, "unknown fields: everything"),
    ):
        answer = await env.client.post("/api/cleanup", json=body, headers=env.auth)
        assert answer.status_code == 400, answer.text
        assert message in answer.json()["error"]["message"]
    assert env.count(env.feed_id) == ENTRIES


async def test_check_interval_needs_the_same_permission_as_options(env: Env) -> None:
    c = env.client
    shared, own = f"/api/subscriptions/{env.feed_id}", f"/api/subscriptions/{env.bob_only}"
    # bob is a member and the admin follows the feed too: he may not change its interval
    refused = await c.patch(shared, json={"check_interval": 600}, headers=env.bob)
    assert refused.status_code == 400
    assert "only an admin can change how it is fetched" in refused.json()["error"]["message"]
    refused = await c.patch(shared, json={"options": {"interval": "10m"}}, headers=env.bob)
    assert refused.status_code == 400
    assert (await c.get(shared, headers=env.auth)).json()["check_interval"] is None
    # his own feed (its only follower): yes; the admin: any feed
    mine = await _json(await c.patch(own, json={"check_interval": 900}, headers=env.bob))
    assert mine["check_interval"] == 900
    cleared = await _json(await c.patch(own, json={"check_interval": None}, headers=env.bob))
    assert cleared["check_interval"] is None
    admin = await _json(await c.patch(shared, json={"check_interval": 3600}, headers=env.auth))
    assert admin["check_interval"] == 3600
    for body, message in (
        ({"check_interval": 30}, "check_interval is seconds, from 60 to 2592000"),
        ({"check_interval": 600, "options": {"interval": "5m"}}, "not both"),
    ):
        answer = await c.patch(shared, json=body, headers=env.auth)
        assert answer.status_code == 400 and message in answer.json()["error"]["message"]


def test_openapi_describes_retention() -> None:
    doc = document()
    paths, schemas = doc["paths"], doc["components"]["schemas"]
    assert set(paths["/api/retention"]) == {"get", "put"}
    assert paths["/api/cleanup"]["post"]["responses"]["403"]
    for name in ("Retention", "RetentionChanges", "CleanupRequest", "RetentionReport"):
        assert name in schemas
    assert schemas["Feed"]["properties"]["retention"]["nullable"] is True
    assert "retention" in schemas["FeedChanges"]["properties"]
    assert set(schemas["Retention"]["properties"]) == set(NO_LIMITS)

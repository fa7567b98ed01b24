"""Per-feed control through the APIs (issue 16): the native API's ``options`` and Miniflux's
feed fields (user_agent, cookie, username, password, crawler, scraper_rules,
ignore_http_cache); a secret is stored but never returned."""

from __future__ import annotations

from typing import Any

from newsdesk.store import EntryQuery

from .conftest import ApiEnv

COOKIE = "sid=api-cookie-secret"
PASSWORD = "api-password-secret"


def _first_feed(env: ApiEnv) -> int:
    return env.desk.store.list_feeds()[0].id


async def test_native_options_are_set_and_secrets_never_shown(api_env: ApiEnv) -> None:
    feed_id = _first_feed(api_env)
    changed = await api_env.client.patch(
        f"/api/subscriptions/{feed_id}",
        headers=api_env.auth,
        json={
            "title": "Renamed",
            "options": {
                "user_agent": "Browser/1",
                "cookie": COOKIE,
                "fulltext": True,
                "extract_drop": [".ad"],
                "interval": "2h",
            },
        },
    )
    assert changed.status_code == 200, changed.text
    data: dict[str, Any] = changed.json()
    assert data["options"]["user_agent"] == "Browser/1" and data["options"]["cookie"] == "set"
    assert data["check_interval"] == 7200 and data["title"] == "Renamed"
    assert COOKIE not in changed.text
    listed = await api_env.client.get("/api/subscriptions", headers=api_env.auth)
    assert COOKIE not in listed.text and '"cookie": "set"' in listed.text.replace('":"', '": "')
    bad = await api_env.client.patch(
        f"/api/subscriptions/{feed_id}",
        headers=api_env.auth,
        json={"options": {"extract_body": "div["}},
    )
    assert bad.status_code == 400 and "extract_body" in bad.json()["error"]["message"]
    unknown = await api_env.client.patch(
        f"/api/subscriptions/{feed_id}", headers=api_env.auth, json={"options": {"nope": 1}}
    )
    assert unknown.status_code == 400


async def test_native_subscribe_with_credentials_is_private(api_env: ApiEnv) -> None:
    url = api_env.server.base + "/private-feed.xml"
    made = await api_env.client.post(
        "/api/subscriptions",
        headers=api_env.auth,
        json={"url": url, "check": False, "options": {"username": "u", "password": PASSWORD}},
    )
    assert made.status_code == 201, made.text
    assert made.json()["private"] is True and made.json()["options"]["password"] == "set"
    assert PASSWORD not in made.text


async def test_miniflux_feed_fields(api_env: ApiEnv) -> None:
    feed_id = _first_feed(api_env)
    put = await api_env.client.put(
        f"/v1/feeds/{feed_id}",
        headers=api_env.auth,
        json={
            "user_agent": "Browser/2",
            "cookie": COOKIE,
            "crawler": True,
            "scraper_rules": "article .body",
            "ignore_http_cache": True,
        },
    )
    assert put.status_code == 201, put.text
    shown = put.json()
    assert shown["user_agent"] == "Browser/2" and shown["crawler"] is True
    assert shown["scraper_rules"] == "article .body" and shown["ignore_http_cache"] is True
    assert shown["cookie"] == "" and COOKIE not in put.text
    feed = api_env.desk.store.get_feed(shown["id"])
    assert "cookie" in feed.options.sealed and feed.options.fulltext is True
    # A client sends the whole feed back, secrets empty as it got them: nothing is lost.
    again = await api_env.client.put(f"/v1/feeds/{shown['id']}", headers=api_env.auth, json=shown)
    assert again.status_code == 201
    assert "cookie" in api_env.desk.store.get_feed(shown["id"]).options.sealed
    bad = await api_env.client.put(
        f"/v1/feeds/{feed_id}", headers=api_env.auth, json={"scraper_rules": "div["}
    )
    assert bad.status_code == 400
    assert api_env.desk.store.count_entries(EntryQuery()) > 0


async def test_miniflux_create_with_options(api_env: ApiEnv) -> None:
    url = api_env.server.base + "/another.xml"
    made = await api_env.client.post(
        "/v1/feeds",
        headers=api_env.auth,
        json={"feed_url": url, "user_agent": "Browser/3", "username": "u", "password": PASSWORD},
    )
    # The sample server has no such feed: the check refuses it, saying why.
    assert made.status_code == 400 and PASSWORD not in made.text

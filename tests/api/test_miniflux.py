"""Contract tests of the Miniflux-compatible API (/v1/): Miniflux's JSON shapes (field names as
in Miniflux's model package), status codes (201 on create and feed update, 204 on state
changes, 202 on save), its ``{"error_message": …}`` errors, and both ways to authenticate."""

from __future__ import annotations

import pytest

from newsdesk.store import EntryQuery

from .conftest import ApiEnv

ENTRY_FIELDS = {
    "id",
    "user_id",
    "feed_id",
    "status",
    "hash",
    "title",
    "url",
    "comments_url",
    "published_at",
    "created_at",
    "changed_at",
    "content",
    "author",
    "share_code",
    "starred",
    "reading_time",
    "enclosures",
    "feed",
    "tags",
}
FEED_FIELDS = {
    "id",
    "user_id",
    "feed_url",
    "site_url",
    "title",
    "checked_at",
    "next_check_at",
    "etag_header",
    "last_modified_header",
    "parsing_error_message",
    "parsing_error_count",
    "scraper_rules",
    "rewrite_rules",
    "crawler",
    "blocklist_rules",
    "keeplist_rules",
    "user_agent",
    "username",
    "password",
    "disabled",
    "ignore_http_cache",
    "fetch_via_proxy",
    "category",
    "icon",
    "hide_globally",
}
CATEGORY_FIELDS = {"id", "title", "user_id", "hide_globally"}


async def test_me_with_token_and_basic(api_env: ApiEnv) -> None:
    for headers in (api_env.auth, api_env.basic):
        answer = await api_env.client.get("/v1/me", headers=headers)
        assert answer.status_code == 200
        me = answer.json()
        assert me["username"] == "admin" and me["is_admin"] is True and me["id"] == 1


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Auth-Token": "wrong"}, {"Authorization": "Basic YWRtaW46bm9wZQ=="}],
)
async def test_unauthorized(api_env: ApiEnv, headers: dict[str, str]) -> None:
    answer = await api_env.client.get("/v1/feeds", headers=headers)
    assert answer.status_code == 401
    assert answer.json() == {"error_message": "access unauthorized"}


async def test_categories_and_feeds(api_env: ApiEnv) -> None:
    client, auth = api_env.client, api_env.auth
    cats = (await client.get("/v1/categories", headers=auth)).json()
    assert cats and all(set(c) == CATEGORY_FIELDS for c in cats)
    counted = (await client.get("/v1/categories?counts=true", headers=auth)).json()
    assert all({"feed_count", "total_unread"} <= set(c) for c in counted)
    assert sum(c["total_unread"] for c in counted) == api_env.desk.store.count_entries(EntryQuery())
    feeds = (await client.get("/v1/feeds", headers=auth)).json()
    assert len(feeds) == 2
    for feed in feeds:
        assert set(feed) >= FEED_FIELDS
        assert set(feed["category"]) == CATEGORY_FIELDS
        assert feed["checked_at"].endswith("Z")
    one = (await client.get(f"/v1/feeds/{feeds[0]['id']}", headers=auth)).json()
    assert one == feeds[0]
    in_category = (await client.get(f"/v1/categories/{cats[0]['id']}/feeds", headers=auth)).json()
    assert all(f["category"]["id"] == cats[0]["id"] for f in in_category)
    assert (await client.get("/v1/feeds/999", headers=auth)).status_code == 404
    assert (await client.get("/v1/categories/999/entries", headers=auth)).status_code == 404


async def test_entries_list_filters_and_pagination(api_env: ApiEnv) -> None:
    client, auth = api_env.client, api_env.auth
    total = api_env.desk.store.count_entries(EntryQuery())
    page = (await client.get("/v1/entries?limit=4&order=id&direction=asc", headers=auth)).json()
    assert set(page) == {"total", "entries"} and page["total"] == total
    assert len(page["entries"]) == 4
    entry = page["entries"][0]
    assert set(entry) == ENTRY_FIELDS
    assert entry["status"] == "unread" and set(entry["feed"]) >= FEED_FIELDS
    ids = [e["id"] for e in page["entries"]]
    assert ids == sorted(ids)
    nxt = (
        await client.get("/v1/entries?limit=4&offset=4&order=id&direction=asc", headers=auth)
    ).json()
    assert nxt["entries"][0]["id"] > ids[-1]
    after = (await client.get(f"/v1/entries?after_entry_id={ids[1]}&order=id", headers=auth)).json()
    assert all(e["id"] > ids[1] for e in after["entries"])
    assert after["total"] == total - 2
    desc = (await client.get("/v1/entries?direction=desc", headers=auth)).json()
    published = [e["published_at"] for e in desc["entries"]]
    assert published == sorted(published, reverse=True)

    feed_id = entry["feed_id"]
    by_feed = (await client.get(f"/v1/feeds/{feed_id}/entries", headers=auth)).json()
    assert by_feed["total"] == api_env.desk.store.count_entries(EntryQuery(feed_id=feed_id))
    category_id = entry["feed"]["category"]["id"]
    by_cat = (await client.get(f"/v1/categories/{category_id}/entries", headers=auth)).json()
    assert by_cat["entries"] and all(
        e["feed"]["category"]["id"] == category_id for e in by_cat["entries"]
    )
    times = sorted(
        int(e.published.timestamp())
        for e in api_env.desk.store.list_entries(EntryQuery(limit=1000))
    )
    stamp = times[len(times) // 2]
    before = (await client.get(f"/v1/entries?before={stamp}", headers=auth)).json()
    after_t = (await client.get(f"/v1/entries?after={stamp}", headers=auth)).json()
    assert before["total"] == sum(t < stamp for t in times) > 0
    assert after_t["total"] == sum(t > stamp for t in times)
    word = entry["title"].split()[2]
    found = (await client.get("/v1/entries", params={"search": word}, headers=auth)).json()
    assert found["total"] >= 1
    assert (await client.get("/v1/entries?status=removed", headers=auth)).json()["total"] == 0

    for bad in ("status=gone", "order=colour", "direction=up", "limit=x", "category_id=999"):
        answer = await client.get(f"/v1/entries?{bad}", headers=auth)
        assert answer.status_code == 400, bad
        assert answer.json()["error_message"]


async def test_entry_state_changes(api_env: ApiEnv) -> None:
    client, auth = api_env.client, api_env.auth
    ids = [e.id for e in api_env.desk.store.list_entries(EntryQuery(limit=3))]
    put = await client.put("/v1/entries", headers=auth, json={"entry_ids": ids, "status": "read"})
    assert put.status_code == 204 and put.content == b""
    assert api_env.desk.store.count_entries(EntryQuery(read=True)) == 3
    read = (await client.get("/v1/entries?status=read", headers=auth)).json()
    assert {e["id"] for e in read["entries"]} == set(ids)
    unread = (await client.get("/v1/entries?status=unread", headers=auth)).json()
    assert read["total"] + unread["total"] == api_env.desk.store.count_entries(EntryQuery())

    one = (await client.get(f"/v1/entries/{ids[0]}", headers=auth)).json()
    assert one["status"] == "read" and one["starred"] is False
    toggled = await client.put(f"/v1/entries/{ids[0]}/bookmark", headers=auth)
    assert toggled.status_code == 204
    assert (await client.get(f"/v1/entries/{ids[0]}", headers=auth)).json()["starred"] is True
    starred = (await client.get("/v1/entries?starred=true", headers=auth)).json()
    assert [e["id"] for e in starred["entries"]] == [ids[0]]
    await client.put(f"/v1/entries/{ids[0]}/bookmark", headers=auth)
    assert (await client.get(f"/v1/entries/{ids[0]}", headers=auth)).json()["starred"] is False
    saved = await client.post(f"/v1/entries/{ids[1]}/save", headers=auth)
    assert saved.status_code == 202
    assert api_env.desk.store.get_entry(ids[1]).starred is True

    feed = one["feed_id"]
    marked = await client.put(f"/v1/feeds/{feed}/mark-all-as-read", headers=auth)
    assert marked.status_code == 204
    assert api_env.desk.store.count_entries(EntryQuery(feed_id=feed, read=False)) == 0
    counters = (await client.get("/v1/feeds/counters", headers=auth)).json()
    assert set(counters) == {"reads", "unreads"}
    assert counters["unreads"][str(feed)] == 0

    for body in (
        {"entry_ids": ids},
        {"entry_ids": [], "status": "read"},
        {"entry_ids": ["1"], "status": "read"},
        {"entry_ids": ids, "status": "removed"},
        [1, 2],
    ):
        answer = await client.put("/v1/entries", headers=auth, json=body)
        assert answer.status_code == 400, body
        assert answer.json()["error_message"]
    assert (await client.get("/v1/entries/987654", headers=auth)).status_code == 404
    assert (await client.put("/v1/entries/987654/bookmark", headers=auth)).status_code == 404
    in_feed = await client.get(f"/v1/feeds/{feed}/entries/{ids[0]}", headers=auth)
    assert in_feed.status_code == 200 and in_feed.json()["id"] == ids[0]
    other = next(f.id for f in api_env.desk.store.list_feeds() if f.id != feed)
    assert (
        await client.get(f"/v1/feeds/{other}/entries/{ids[0]}", headers=auth)
    ).status_code == 404


async def test_feed_create_update_delete_refresh(api_env: ApiEnv) -> None:
    client, auth = api_env.client, api_env.auth
    feeds = (await client.get("/v1/feeds", headers=auth)).json()
    target = feeds[1]
    gone = await client.delete(f"/v1/feeds/{target['id']}", headers=auth)
    assert gone.status_code == 204
    assert (await client.delete(f"/v1/feeds/{target['id']}", headers=auth)).status_code == 404
    category = feeds[0]["category"]["id"]
    created = await client.post(
        "/v1/feeds", headers=auth, json={"feed_url": target["feed_url"], "category_id": category}
    )
    assert created.status_code == 201, created.text
    new_id = created.json()["feed_id"]
    again = await client.post("/v1/feeds", headers=auth, json={"feed_url": target["feed_url"]})
    assert again.status_code == 400
    updated = await client.put(
        f"/v1/feeds/{new_id}", headers=auth, json={"title": "Renamed", "disabled": True}
    )
    assert updated.status_code == 201
    assert updated.json()["title"] == "Renamed" and updated.json()["disabled"] is True
    assert updated.json()["category"]["id"] == category
    for body in ({"feed_url": "not a url"}, {}, {"feed_url": 5}):
        answer = await client.post("/v1/feeds", headers=auth, json=body)
        assert answer.status_code == 400, body
    assert (await client.put("/v1/feeds/999", headers=auth, json={"title": "x"})).status_code == 404
    refreshed = await client.put(f"/v1/feeds/{feeds[0]['id']}/refresh", headers=auth)
    assert refreshed.status_code == 204
    assert (await client.put("/v1/feeds/refresh", headers=auth)).status_code == 204
    assert (await client.put("/v1/feeds/999/refresh", headers=auth)).status_code == 404


async def test_export_import(api_env: ApiEnv) -> None:
    client, auth = api_env.client, api_env.auth
    exported = await client.get("/v1/export", headers=auth)
    assert exported.status_code == 200 and "<opml" in exported.text
    opml = (
        b'<?xml version="1.0"?><opml version="2.0"><body>'
        b'<outline type="rss" text="Y" xmlUrl="http://127.0.0.1:9/y.xml"/></body></opml>'
    )
    imported = await client.post("/v1/import", headers=auth, content=opml)
    assert imported.status_code == 201
    assert imported.json() == {"message": "Feeds imported successfully"}
    bad = await client.post("/v1/import", headers=auth, content=b"not xml")
    assert bad.status_code == 400 and bad.json()["error_message"]


async def test_unknown_route_is_json_404(api_env: ApiEnv) -> None:
    answer = await api_env.client.get("/v1/users/1/nothing", headers=api_env.auth)
    assert answer.status_code == 404
    assert answer.json() == {"error_message": "resource not found"}

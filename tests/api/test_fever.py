"""Contract tests of the Fever API: api_key = md5("user:password"), groups/feeds/feeds_groups,
items by since_id/max_id/with_ids (50 at a time), unread and saved id lists, and marking
items, feeds and groups."""

from __future__ import annotations

from typing import Any

from newsdesk.store import EntryQuery

from .conftest import ApiEnv


async def fever(api_env: ApiEnv, query: str, **form: str) -> dict[str, Any]:
    answer = await api_env.client.post(
        f"/fever/?api&{query}", data={"api_key": api_env.fever_key, **form}
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["api_version"] == 3 and body["auth"] == 1
    return body


async def test_auth(api_env: ApiEnv) -> None:
    ok = await fever(api_env, "")
    assert isinstance(ok["last_refreshed_on_time"], int) and ok["last_refreshed_on_time"] > 0
    for form in ({}, {"api_key": "0" * 32}, {"api_key": "nonsense"}):
        answer = await api_env.client.post("/fever/?api", data=form)
        assert answer.status_code == 401
        assert answer.json() == {"api_version": 3, "auth": 0}
    # The key in the query string, as some clients send it.
    query = await api_env.client.get(f"/fever/?api&api_key={api_env.fever_key}")
    assert query.json()["auth"] == 1


async def test_groups_and_feeds(api_env: ApiEnv) -> None:
    body = await fever(api_env, "groups&feeds")
    feeds = api_env.desk.store.list_feeds()
    assert [f["id"] for f in body["feeds"]] == [f.id for f in feeds]
    feed = body["feeds"][0]
    assert set(feed) == {
        "id",
        "favicon_id",
        "title",
        "url",
        "site_url",
        "is_spark",
        "last_updated_on_time",
    }
    assert {g["title"] for g in body["groups"]} == {f.category for f in feeds}
    groups = {g["group_id"]: g["feed_ids"] for g in body["feeds_groups"]}
    assert sorted(int(i) for ids in groups.values() for i in ids.split(",")) == sorted(
        f.id for f in feeds
    )
    assert (await fever(api_env, "favicons"))["favicons"] == []
    assert (await fever(api_env, "links"))["links"] == []


async def test_items_paging(api_env: ApiEnv) -> None:
    total = api_env.desk.store.count_entries(EntryQuery())
    first = await fever(api_env, "items&since_id=0")
    assert first["total_items"] == total
    ids = [i["id"] for i in first["items"]]
    assert ids == sorted(ids) and len(ids) == total  # fewer than 50: all of them
    item = first["items"][0]
    assert set(item) == {
        "id",
        "feed_id",
        "title",
        "author",
        "html",
        "url",
        "is_saved",
        "is_read",
        "created_on_time",
    }
    assert item["is_read"] == 0 and isinstance(item["created_on_time"], int)
    after = await fever(api_env, f"items&since_id={ids[3]}")
    assert [i["id"] for i in after["items"]] == ids[4:]
    before = await fever(api_env, f"items&max_id={ids[3]}")
    assert [i["id"] for i in before["items"]] == list(reversed(ids[:3]))
    chosen = await fever(api_env, f"items&with_ids={ids[0]},{ids[2]}")
    assert sorted(i["id"] for i in chosen["items"]) == [ids[0], ids[2]]
    answer = await api_env.client.post(
        "/fever/?api&items&since_id=abc", data={"api_key": api_env.fever_key}
    )
    assert answer.status_code == 400


async def test_marking(api_env: ApiEnv) -> None:
    store = api_env.desk.store
    ids = [int(i) for i in (await fever(api_env, "unread_item_ids"))["unread_item_ids"].split(",")]
    assert len(ids) == store.count_entries(EntryQuery())
    await fever(api_env, "", mark="item", **{"as": "read"}, id=str(ids[0]))
    await fever(api_env, "", mark="item", **{"as": "saved"}, id=str(ids[1]))
    assert store.get_entry(ids[0]).read is True
    assert store.get_entry(ids[1]).starred is True
    saved = (await fever(api_env, "saved_item_ids"))["saved_item_ids"]
    assert saved == str(ids[1])
    unread = (await fever(api_env, "unread_item_ids"))["unread_item_ids"]
    assert str(ids[0]) not in unread.split(",")
    await fever(api_env, "", mark="item", **{"as": "unsaved"}, id=str(ids[1]))
    await fever(api_env, "", mark="item", **{"as": "unread"}, id=str(ids[0]))
    assert store.get_entry(ids[1]).starred is False and store.get_entry(ids[0]).read is False

    feed = store.list_feeds()[0]
    await fever(api_env, "", mark="feed", **{"as": "read"}, id=str(feed.id), before="1")
    assert store.count_entries(EntryQuery(feed_id=feed.id, read=True)) == 0  # all newer
    await fever(api_env, "", mark="feed", **{"as": "read"}, id=str(feed.id), before="4000000000")
    assert store.count_entries(EntryQuery(feed_id=feed.id, read=False)) == 0
    other = store.list_feeds()[1]
    assert other.category_id is not None
    await fever(api_env, "", mark="group", **{"as": "read"}, id=str(other.category_id))
    assert store.count_entries(EntryQuery(read=False)) == 0
    answer = await api_env.client.post(
        "/fever/?api&mark=item&as=burn&id=1", data={"api_key": api_env.fever_key}
    )
    assert answer.status_code == 400 and answer.json()["auth"] == 1

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
        # As Fever and FreshRSS answer: 200, and clients read auth.
        assert answer.status_code == 200
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


async def test_fever_without_its_slash(api_env: ApiEnv) -> None:
    """Clients set up with ".../fever" get the API, not a redirect to the login page."""
    answer = await api_env.client.post("/fever?api", data={"api_key": api_env.fever_key})
    assert answer.status_code == 200 and answer.json()["auth"] == 1
    wrong = await api_env.client.post("/fever?api", data={"api_key": "0" * 32})
    assert wrong.status_code == 200 and wrong.json() == {"api_version": 3, "auth": 0}


async def test_items_of_feeds_and_groups(api_env: ApiEnv) -> None:
    store = api_env.desk.store
    first, second = store.list_feeds()[:2]
    assert first.category_id != second.category_id

    def feeds_of(body: dict[str, Any]) -> set[int]:
        return {i["feed_id"] for i in body["items"]}

    by_feed = await fever(api_env, f"items&since_id=0&feed_ids={first.id}")
    assert feeds_of(by_feed) == {first.id}
    assert len(by_feed["items"]) == store.count_entries(EntryQuery(feed_id=first.id))
    both = await fever(api_env, f"items&since_id=0&feed_ids={first.id},{second.id}")
    assert feeds_of(both) == {first.id, second.id}
    by_group = await fever(api_env, f"items&group_ids={second.category_id}")
    assert feeds_of(by_group) == {second.id}
    either = await fever(api_env, f"items&feed_ids={first.id}&group_ids={second.category_id}")
    assert feeds_of(either) == {first.id, second.id}
    assert (await fever(api_env, "items&feed_ids=99999"))["items"] == []
    newest = max(i["id"] for i in both["items"])
    below = await fever(api_env, f"items&max_id={newest}&feed_ids={second.id}")
    assert feeds_of(below) <= {second.id} and all(i["id"] < newest for i in below["items"])
    bad = await api_env.client.post(
        "/fever/?api&items&feed_ids=1,x", data={"api_key": api_env.fever_key}
    )
    assert bad.status_code == 400


async def test_max_id_zero_is_below_every_item(api_env: ApiEnv) -> None:
    """FreshRSS reads max_id as "ids below it": 0 gives no items (clients page down with it)."""
    assert (await fever(api_env, "items&max_id=0"))["items"] == []
    top = (await fever(api_env, "items&max_id=2147483647"))["items"]
    assert [i["id"] for i in top] == sorted((i["id"] for i in top), reverse=True) and top


async def test_mark_answers_with_the_list_it_changed(api_env: ApiEnv) -> None:
    store = api_env.desk.store
    ids = [int(i) for i in (await fever(api_env, "unread_item_ids"))["unread_item_ids"].split(",")]
    read = await fever(api_env, "", mark="item", **{"as": "read"}, id=str(ids[0]))
    assert read["unread_item_ids"] == ",".join(str(i) for i in ids[1:])
    assert "saved_item_ids" not in read
    unread = await fever(api_env, "", mark="item", **{"as": "unread"}, id=str(ids[0]))
    assert unread["unread_item_ids"] == ",".join(str(i) for i in ids)
    saved = await fever(api_env, "", mark="item", **{"as": "saved"}, id=str(ids[2]))
    assert saved["saved_item_ids"] == str(ids[2]) and "unread_item_ids" not in saved
    unsaved = await fever(api_env, "", mark="item", **{"as": "unsaved"}, id=str(ids[2]))
    assert unsaved["saved_item_ids"] == ""
    feed = store.list_feeds()[0]
    marked = await fever(api_env, "", mark="feed", **{"as": "read"}, id=str(feed.id))
    left = store.list_entries(EntryQuery(read=False, limit=10_000))
    assert sorted(int(i) for i in marked["unread_item_ids"].split(",")) == sorted(
        e.id for e in left
    )

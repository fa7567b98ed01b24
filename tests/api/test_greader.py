"""Contract tests of the Google Reader API: ClientLogin, the GoogleLogin header, streams with
n/c/r/ot/nt/xt/it, item ids in long, hex and decimal forms, edit-tag, mark-all-as-read,
subscriptions, tags, unread counts and the Atom stream."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest

from newsdesk.store import EntryQuery
from newsdesk.web.api.greader import long_id, parse_item_id

from .conftest import PASSWORD, USERNAME, ApiEnv

API = "/reader/api/0"
READING_LIST = "user/-/state/com.google/reading-list"
LABEL = "user/-/label/"


async def login(api_env: ApiEnv) -> dict[str, str]:
    answer = await api_env.client.post(
        "/accounts/ClientLogin", data={"Email": USERNAME, "Passwd": PASSWORD}
    )
    assert answer.status_code == 200
    lines = dict(line.split("=", 1) for line in answer.text.strip().splitlines())
    assert set(lines) == {"SID", "LSID", "Auth"}
    return {"Authorization": f"GoogleLogin auth={lines['Auth']}"}


def test_item_id_forms() -> None:
    assert long_id(31) == "tag:google.com,2005:reader/item/000000000000001f"
    assert parse_item_id("tag:google.com,2005:reader/item/000000000000001f") == 31
    assert parse_item_id("31") == 31
    assert parse_item_id("000000000000001f") == 31
    for bad in ("", "abc", "tag:google.com,2005:reader/item/zz", "0", "-", "1" * 30):
        with pytest.raises(Exception, match="not an item id"):
            parse_item_id(bad)


async def test_client_login(api_env: ApiEnv) -> None:
    client = api_env.client
    as_json = await client.post(
        "/accounts/ClientLogin",
        data={"Email": USERNAME, "Passwd": PASSWORD, "output": "json"},
    )
    assert set(as_json.json()) == {"SID", "LSID", "Auth"}
    wrong = await client.post("/accounts/ClientLogin", data={"Email": USERNAME, "Passwd": "x"})
    assert wrong.status_code == 401 and wrong.text.strip() == "Error=BadAuthentication"
    empty = await client.post("/accounts/ClientLogin")
    assert empty.status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "GoogleLogin auth=admin/0000"},
        {"Authorization": "GoogleLogin auth="},
        {"Authorization": "GoogleLogin nothing"},
    ],
)
async def test_unauthorized(api_env: ApiEnv, headers: dict[str, str]) -> None:
    answer = await api_env.client.get(f"{API}/subscription/list", headers=headers)
    assert answer.status_code == 401 and answer.text == "Unauthorized"
    # As Google did and FreshRSS does: clients read it as "log in again".
    assert answer.headers["Google-Bad-Token"] == "true"


async def test_api_key_works_as_google_login(api_env: ApiEnv) -> None:
    answer = await api_env.client.get(
        f"{API}/user-info", headers={"Authorization": f"GoogleLogin auth={api_env.key}"}
    )
    assert answer.status_code == 200 and answer.json()["userName"] == USERNAME


async def test_lists(api_env: ApiEnv) -> None:
    client, headers = api_env.client, await login(api_env)
    token = await client.get(f"{API}/token", headers=headers)
    assert token.status_code == 200 and len(token.text) == 57
    subs = (await client.get(f"{API}/subscription/list?output=json", headers=headers)).json()
    feeds = api_env.desk.store.list_feeds()
    assert [s["id"] for s in subs["subscriptions"]] == [f"feed/{f.id}" for f in feeds]
    sub = subs["subscriptions"][0]
    assert {"id", "title", "categories", "url", "htmlUrl", "iconUrl"} <= set(sub)
    assert sub["categories"][0]["id"] == f"user/-/label/{feeds[0].category}"
    tags = (await client.get(f"{API}/tag/list?output=json", headers=headers)).json()["tags"]
    assert {"id": "user/-/state/com.google/starred"} in tags
    assert {"id": f"user/-/label/{feeds[0].category}", "type": "folder"} in tags
    counts = (await client.get(f"{API}/unread-count?output=json", headers=headers)).json()
    total = api_env.desk.store.count_entries(EntryQuery())
    assert counts["max"] == total
    by_id = {c["id"]: c["count"] for c in counts["unreadcounts"]}
    assert by_id[READING_LIST] == total
    assert by_id[f"feed/{feeds[0].id}"] == api_env.desk.store.count_entries(
        EntryQuery(feed_id=feeds[0].id)
    )


async def test_stream_contents_and_continuation(api_env: ApiEnv) -> None:
    client, headers = api_env.client, await login(api_env)
    total = api_env.desk.store.count_entries(EntryQuery())
    seen: list[str] = []
    url = f"{API}/stream/contents/{READING_LIST}?n=3&output=json"
    page = (await client.get(url, headers=headers)).json()
    while True:
        assert len(page["items"]) <= 3
        seen.extend(item["id"] for item in page["items"])
        if "continuation" not in page:
            break
        page = (await client.get(f"{url}&c={page['continuation']}", headers=headers)).json()
    assert len(seen) == len(set(seen)) == total
    item = (await client.get(f"{url}", headers=headers)).json()["items"][0]
    assert item["id"].startswith("tag:google.com,2005:reader/item/")
    assert isinstance(item["published"], int)
    assert item["origin"]["streamId"].startswith("feed/")
    assert item["summary"]["content"] and item["canonical"][0]["href"]
    assert READING_LIST in item["categories"]

    oldest = (
        await client.get(f"{API}/stream/contents/{READING_LIST}?r=o&n=100", headers=headers)
    ).json()
    stamps = [i["published"] for i in oldest["items"]]
    assert stamps == sorted(stamps)
    middle = stamps[len(stamps) // 2]
    newer = (
        await client.get(f"{API}/stream/contents/{READING_LIST}?ot={middle}&n=100", headers=headers)
    ).json()
    assert all(i["published"] >= middle for i in newer["items"])
    older = (
        await client.get(f"{API}/stream/contents/{READING_LIST}?nt={middle}&n=100", headers=headers)
    ).json()
    assert len(newer["items"]) + len(older["items"]) == total

    feed = api_env.desk.store.list_feeds()[0]
    by_feed = (
        await client.get(f"{API}/stream/contents/feed%2F{feed.id}?n=100", headers=headers)
    ).json()
    assert by_feed["items"] and all(
        i["origin"]["streamId"] == f"feed/{feed.id}" for i in by_feed["items"]
    )
    by_url = (
        await client.get(f"{API}/stream/contents/feed/{feed.url}?n=100", headers=headers)
    ).json()
    assert [i["id"] for i in by_url["items"]] == [i["id"] for i in by_feed["items"]]
    label = (
        await client.get(
            f"{API}/stream/contents/user/-/label/{feed.category}?n=100", headers=headers
        )
    ).json()
    assert [i["id"] for i in label["items"]] == [i["id"] for i in by_feed["items"]]
    missing = await client.get(f"{API}/stream/contents/feed/999", headers=headers)
    assert missing.status_code == 404
    bad = await client.get(f"{API}/stream/contents/{READING_LIST}?n=abc", headers=headers)
    assert bad.status_code == 400


async def test_edit_tag_and_state_streams(api_env: ApiEnv) -> None:
    client, headers = api_env.client, await login(api_env)
    ids = [e.id for e in api_env.desk.store.list_entries(EntryQuery(limit=3))]
    # One id in each form clients send.
    forms = [long_id(ids[0]), str(ids[1]), f"{ids[2]:016x}"]
    answer = await client.post(
        f"{API}/edit-tag",
        headers=headers,
        data={"i": forms, "a": "user/-/state/com.google/read"},
    )
    assert answer.status_code == 200 and answer.text == "OK"
    assert {e.id for e in api_env.desk.store.list_entries(EntryQuery(read=True))} == set(ids)
    unread_ids = (
        await client.get(
            f"{API}/stream/items/ids?s={READING_LIST}&xt=user/-/state/com.google/read&n=1000",
            headers=headers,
        )
    ).json()
    assert not {int(r["id"]) for r in unread_ids["itemRefs"]} & set(ids)
    read_ids = (
        await client.get(
            f"{API}/stream/items/ids?s=user/-/state/com.google/read&n=1000", headers=headers
        )
    ).json()
    assert {int(r["id"]) for r in read_ids["itemRefs"]} == set(ids)

    await client.post(
        f"{API}/edit-tag",
        headers=headers,
        data={"i": forms[0], "a": "user/-/state/com.google/starred"},
    )
    await client.post(
        f"{API}/edit-tag",
        headers=headers,
        data={"i": forms[1], "r": "user/-/state/com.google/read"},
    )
    assert api_env.desk.store.get_entry(ids[0]).starred is True
    assert api_env.desk.store.get_entry(ids[1]).read is False
    starred = (
        await client.get(f"{API}/stream/contents/user/-/state/com.google/starred", headers=headers)
    ).json()
    assert [i["id"] for i in starred["items"]] == [forms[0]]
    assert "user/-/state/com.google/starred" in starred["items"][0]["categories"]

    contents = (
        await client.post(f"{API}/stream/items/contents", headers=headers, data={"i": forms})
    ).json()
    assert [i["id"] for i in contents["items"]] == [long_id(i) for i in ids]

    for body in ({}, {"i": "nonsense", "a": "user/-/state/com.google/read"}):
        answer = await client.post(f"{API}/edit-tag", headers=headers, data=body)
        assert answer.status_code == 400


async def test_mark_all_as_read(api_env: ApiEnv) -> None:
    client, headers = api_env.client, await login(api_env)
    feed = api_env.desk.store.list_feeds()[0]
    answer = await client.post(
        f"{API}/mark-all-as-read", headers=headers, data={"s": f"feed/{feed.id}"}
    )
    assert answer.text == "OK"
    assert api_env.desk.store.count_entries(EntryQuery(feed_id=feed.id, read=False)) == 0
    assert api_env.desk.store.count_entries(EntryQuery(read=False)) > 0
    everything = await client.post(
        f"{API}/mark-all-as-read", headers=headers, data={"s": READING_LIST, "ts": "1"}
    )
    assert everything.text == "OK"  # ts (1 µs after 1970) leaves everything as it was
    assert api_env.desk.store.count_entries(EntryQuery(read=False)) > 0
    assert (await client.post(f"{API}/mark-all-as-read", headers=headers)).status_code == 400


async def test_subscription_edit_and_quickadd(api_env: ApiEnv) -> None:
    client, headers = api_env.client, await login(api_env)
    feed = api_env.desk.store.list_feeds()[1]
    renamed = await client.post(
        f"{API}/subscription/edit",
        headers=headers,
        data={"ac": "edit", "s": f"feed/{feed.id}", "t": "Mine", "a": "user/-/label/Later"},
    )
    assert renamed.text == "OK"
    changed = api_env.desk.store.get_feed(feed.id)
    assert changed.display_title == "Mine" and changed.category == "Later"
    removed = await client.post(
        f"{API}/subscription/edit",
        headers=headers,
        data={"ac": "unsubscribe", "s": f"feed/{feed.id}"},
    )
    assert removed.text == "OK"
    assert len(api_env.desk.store.list_feeds()) == 1
    added = await client.post(
        f"{API}/subscription/quickadd", headers=headers, data={"quickadd": feed.url}
    )
    assert added.status_code == 200
    assert added.json()["numResults"] == 1 and added.json()["streamId"].startswith("feed/")
    bad = await client.post(
        f"{API}/subscription/edit", headers=headers, data={"ac": "fly", "s": "feed/1"}
    )
    assert bad.status_code == 400
    missing = await client.post(
        f"{API}/subscription/edit", headers=headers, data={"ac": "edit", "s": "feed/999"}
    )
    assert missing.status_code == 404


async def test_atom_stream(api_env: ApiEnv) -> None:
    client, headers = api_env.client, await login(api_env)
    entry = api_env.desk.store.list_entries(EntryQuery(limit=1))[0]
    api_env.desk.store.set_flags([entry.id], read=True)
    answer = await client.get(f"/reader/atom/feed%2F{entry.feed_id}?n=50", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = ElementTree.fromstring(answer.content)
    entries = root.findall("a:entry", ns)
    assert len(entries) == api_env.desk.store.count_entries(EntryQuery(feed_id=entry.feed_id))
    states = {
        e.findtext("a:id", namespaces=ns): {c.get("label") for c in e.findall("a:category", ns)}
        for e in entries
    }
    assert "read" in states[long_id(entry.id)]
    assert sum("fresh" in s for s in states.values()) == len(entries) - 1


async def test_unread_count_lists_feeds_without_entries(api_env: ApiEnv) -> None:
    client, headers = api_env.client, await login(api_env)
    empty = api_env.desk.store.add_feed(api_env.server.base + "/nothing-yet.xml")
    counts = (await client.get(f"{API}/unread-count?output=json", headers=headers)).json()
    by_id = {c["id"]: c for c in counts["unreadcounts"]}
    assert by_id[f"feed/{empty.id}"] == {
        "id": f"feed/{empty.id}",
        "count": 0,
        "newestItemTimestampUsec": "0",
    }
    others = [c for c in counts["unreadcounts"] if c["id"].startswith("feed/") and c["count"]]
    assert others and all(int(c["newestItemTimestampUsec"]) > 0 for c in others)


async def test_quickadd_names_the_feed_and_fails_in_json(api_env: ApiEnv) -> None:
    client, headers = api_env.client, await login(api_env)
    feed = api_env.desk.store.list_feeds()[0]
    assert feed.title and feed.title != feed.url
    await client.post(
        f"{API}/subscription/edit",
        headers=headers,
        data={"ac": "unsubscribe", "s": f"feed/{feed.id}"},
    )
    added = await client.post(
        f"{API}/subscription/quickadd", headers=headers, data={"quickadd": f"feed/{feed.url}"}
    )
    body = added.json()
    assert added.status_code == 200 and body["numResults"] == 1
    assert body["query"] == feed.url and body["streamName"] == feed.title
    assert body["streamId"].startswith("feed/")
    for bad in ("not a url", api_env.server.base + "/no-such-feed.xml", ""):
        failed = await client.post(
            f"{API}/subscription/quickadd", headers=headers, data={"quickadd": bad}
        )
        # FreshRSS's shape: 200, numResults 0 and the reason.
        assert failed.status_code == 200
        assert set(failed.json()) == {"numResults", "error"}
        assert failed.json()["numResults"] == 0 and failed.json()["error"]


async def test_labels_on_items(api_env: ApiEnv) -> None:
    client, headers = api_env.client, await login(api_env)
    store = api_env.desk.store
    ids = [e.id for e in store.list_entries(EntryQuery(limit=3))]
    label = "user/-/label/Read later"
    answer = await client.post(
        f"{API}/edit-tag", headers=headers, data={"i": [long_id(i) for i in ids], "a": label}
    )
    assert answer.text == "OK"
    tags = (await client.get(f"{API}/tag/list?output=json", headers=headers)).json()["tags"]
    assert {"id": label, "type": "tag", "unread_count": 3} in tags
    stream = (await client.get(f"{API}/stream/contents/{label}?n=50", headers=headers)).json()
    assert sorted(int(i["id"][-16:], 16) for i in stream["items"]) == sorted(ids)
    assert all(label in i["categories"] for i in stream["items"])
    refs = (await client.get(f"{API}/stream/items/ids?s={label}&n=50", headers=headers)).json()
    assert sorted(int(r["id"]) for r in refs["itemRefs"]) == sorted(ids)
    counts = (await client.get(f"{API}/unread-count", headers=headers)).json()["unreadcounts"]
    assert {c["id"]: c["count"] for c in counts}[label] == 3
    # A label is not a feed tag: the web's tag filter does not see it.
    assert store.count_entries(EntryQuery(tag="read later")) == 0

    await client.post(f"{API}/edit-tag", headers=headers, data={"i": str(ids[0]), "r": label})
    refs = (await client.get(f"{API}/stream/items/ids?s={label}&n=50", headers=headers)).json()
    assert sorted(int(r["id"]) for r in refs["itemRefs"]) == sorted(ids[1:])
    too_long = await client.post(
        f"{API}/edit-tag", headers=headers, data={"i": str(ids[0]), "a": LABEL + "x" * 200}
    )
    assert too_long.status_code == 400


async def test_labels_survive_a_refresh_that_rewrites_feed_tags(api_env: ApiEnv) -> None:
    from datetime import UTC, datetime

    from newsdesk.store import FeedState

    store = api_env.desk.store
    entry = store.list_entries(EntryQuery(limit=1))[0]
    store.labels.add_label([entry.id], "Keep")
    # A refresh finds the entry changed: its feed tags are written again.
    now = datetime.now(UTC)
    edited = store.save_refresh(
        entry.feed_id, FeedState(last_fetched=now), [_as_entry(entry, ["fresh"])], now
    )
    assert edited.updated_ids == [entry.id]
    assert store.labels.labels_of([entry.id]) == {entry.id: ["Keep"]}
    assert store.count_entries(EntryQuery(tag="fresh", ids=[entry.id])) == 1


def _as_entry(stored: Any, tags: list[str]) -> Any:
    from newsdesk.model import Entry

    fields = {f: getattr(stored, f) for f in Entry.__dataclass_fields__ if hasattr(stored, f)}
    return Entry(**{**fields, "tags": tags, "links": [], "content_hash": "changed"})


async def test_rename_and_disable_tag(api_env: ApiEnv) -> None:
    client, headers = api_env.client, await login(api_env)
    store = api_env.desk.store
    feed = store.list_feeds()[0]
    folder = LABEL + (feed.category or "")
    renamed = await client.post(
        f"{API}/rename-tag", headers=headers, data={"s": folder, "dest": LABEL + "Renamed"}
    )
    assert renamed.status_code == 200 and renamed.text == "OK"
    assert store.get_feed(feed.id).category == "Renamed"

    ids = [e.id for e in store.list_entries(EntryQuery(limit=2))]
    await client.post(f"{API}/edit-tag", headers=headers, data={"i": ids, "a": LABEL + "Old"})
    await client.post(
        f"{API}/rename-tag", headers=headers, data={"s": LABEL + "Old", "dest": LABEL + "New"}
    )
    refs = (await client.get(f"{API}/stream/items/ids?s={LABEL}New", headers=headers)).json()
    assert sorted(int(r["id"]) for r in refs["itemRefs"]) == sorted(ids)

    gone = await client.post(f"{API}/disable-tag", headers=headers, data={"s": LABEL + "New"})
    assert gone.text == "OK"
    tags = (await client.get(f"{API}/tag/list", headers=headers)).json()["tags"]
    assert not any(t["id"] == LABEL + "New" for t in tags)
    # A folder goes; its feeds move to the default category, as FreshRSS moves them.
    folder_gone = await client.post(
        f"{API}/disable-tag", headers=headers, data={"s": LABEL + "Renamed"}
    )
    assert folder_gone.text == "OK"
    assert store.get_feed(feed.id).category == api_env.settings.default_category
    assert "Renamed" not in {title for _, title, _ in store.categories()}

    for path, data in (
        ("rename-tag", {"s": LABEL + "Nothing", "dest": LABEL + "X"}),
        ("rename-tag", {"s": LABEL + "New"}),
        ("disable-tag", {"s": LABEL + "Nothing"}),
        ("disable-tag", {"s": "feed/1"}),
    ):
        answer = await client.post(f"{API}/{path}", headers=headers, data=data)
        assert answer.status_code == 400, (path, data)


@pytest.mark.parametrize("endpoint", ["contents", "ids"])
async def test_continuation_holds_when_a_page_is_marked_read(
    api_env: ApiEnv, endpoint: str
) -> None:
    """Reading unread items a page at a time and marking each page read skips none: the
    continuation is a position (published, id), not an offset."""
    client, headers = api_env.client, await login(api_env)
    unread = api_env.desk.store.count_entries(EntryQuery(read=False))
    if endpoint == "contents":
        url = f"{API}/stream/contents/{READING_LIST}?n=4&xt=user/-/state/com.google/read"
    else:
        url = f"{API}/stream/items/ids?s={READING_LIST}&n=4&xt=user/-/state/com.google/read"
    seen: list[int] = []
    page = (await client.get(url, headers=headers)).json()
    while True:
        if endpoint == "contents":
            ids = [int(i["id"][-16:], 16) for i in page["items"]]
        else:
            ids = [int(r["id"]) for r in page["itemRefs"]]
        seen.extend(ids)
        await client.post(
            f"{API}/edit-tag",
            headers=headers,
            data={"i": [str(i) for i in ids], "a": "user/-/state/com.google/read"},
        )
        if "continuation" not in page:
            break
        assert page["continuation"].isdigit()
        page = (await client.get(f"{url}&c={page['continuation']}", headers=headers)).json()
    assert len(seen) == len(set(seen)) == unread
    for bad in ("abc", "5", "9" * 41):
        answer = await client.get(f"{url}&c={bad}", headers=headers)
        assert answer.status_code == 400

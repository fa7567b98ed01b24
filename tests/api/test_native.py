"""Contract tests of the native REST API (/api/): shapes, status codes, pagination, filters,
bulk state, OPML, refresh jobs, API keys, and the OpenAPI document matching the routes."""

from __future__ import annotations

import asyncio

import pytest

from newsdesk.store import EntryQuery
from newsdesk.web.api import openapi

from .conftest import ApiEnv

FEED_FIELDS = set(openapi.SCHEMAS["Feed"]["properties"])
ENTRY_REQUIRED = set(openapi.SCHEMAS["Entry"]["required"])


async def test_index_and_documents_need_no_key(api_env: ApiEnv) -> None:
    index = await api_env.client.get("/api/")
    assert index.status_code == 200
    assert index.json()["openapi"] == "/api/openapi.json"
    doc = await api_env.client.get("/api/openapi.json")
    assert doc.status_code == 200
    assert doc.json()["openapi"].startswith("3.")
    page = await api_env.client.get("/api/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    # Every operation of the document is on the page, and the page loads nothing remote.
    for path in doc.json()["paths"]:
        assert f"<code>{path}</code>" in page.text
    assert "<script" not in page.text and "http://" not in page.text.split("</style>")[0]


def test_openapi_lists_exactly_the_routes() -> None:
    """The document is generated from the declarations next to the handlers: it names every
    /api/ route and method, no more (a route declared without a ``Doc`` would be missing)."""
    from starlette.routing import Route

    from newsdesk.web.api import native
    from newsdesk.web.api.state import ApiState

    state = ApiState.__new__(ApiState)  # building routes touches no store
    routes = native.routes(state)
    from_routes = {
        (r.path, m.lower())
        for r in routes
        if isinstance(r, Route)
        for m in (r.methods or set())
        if m != "HEAD"
    }
    doc = openapi.document()
    from_doc = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert from_routes == from_doc


def test_generated_document_is_valid_openapi() -> None:
    from openapi_spec_validator import validate

    document = openapi.document()
    validate(document)
    # Every operation got the shared answers it declares, and the key-less ones say so.
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["responses"], (path, method)
            public = operation.get("security") == []
            assert public == (path in {"/api/", "/api/openapi.json", "/api/docs"})
            assert ("401" in operation["responses"]) is not public


@pytest.mark.parametrize("headers", ["auth", "bearer", "basic"])
async def test_credentials_accepted(api_env: ApiEnv, headers: str) -> None:
    answer = await api_env.client.get("/api/subscriptions", headers=getattr(api_env, headers))
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Auth-Token": "nd_wrong"},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic YWRtaW46d3Jvbmc="},  # admin:wrong
        {"Authorization": "Basic !!!"},
    ],
)
async def test_wrong_credentials_are_401_without_detail(
    api_env: ApiEnv, headers: dict[str, str]
) -> None:
    answer = await api_env.client.get("/api/entries", headers=headers)
    assert answer.status_code == 401
    assert answer.json() == {"error": {"status": 401, "message": "access unauthorized"}}


async def test_repeated_failures_are_limited(api_env: ApiEnv) -> None:
    statuses = []
    for _ in range(api_env.settings.login_attempts + 1):
        answer = await api_env.client.get("/api/entries", headers={"X-Auth-Token": "bad"})
        statuses.append(answer.status_code)
    assert statuses[:-1] == [401] * api_env.settings.login_attempts
    assert statuses[-1] == 429
    assert int(answer.headers["retry-after"]) > 0


async def test_subscriptions(api_env: ApiEnv) -> None:
    answer = await api_env.client.get("/api/subscriptions", headers=api_env.auth)
    feeds = answer.json()
    assert len(feeds) == 2
    for feed in feeds:
        assert set(feed) == FEED_FIELDS
        assert feed["entries"] > 0 and feed["unread"] == feed["entries"]
    one = await api_env.client.get(f"/api/subscriptions/{feeds[0]['id']}", headers=api_env.auth)
    assert one.json() == feeds[0]
    missing = await api_env.client.get("/api/subscriptions/999", headers=api_env.auth)
    assert missing.status_code == 404
    assert missing.json()["error"]["status"] == 404
    junk = await api_env.client.get("/api/subscriptions/abc", headers=api_env.auth)
    assert junk.status_code == 404


async def test_subscribe_update_unsubscribe(api_env: ApiEnv) -> None:
    client = api_env.client
    url = api_env.server.base + "/feeds/favorites.atom"
    again = await client.post("/api/subscriptions", headers=api_env.auth, json={"url": url})
    assert again.status_code == 409
    bad = await client.post(
        "/api/subscriptions", headers=api_env.auth, json={"url": "ftp://example.org/feed"}
    )
    assert bad.status_code == 400
    assert "http" in bad.json()["error"]["message"]
    new = await client.post(
        "/api/subscriptions",
        headers=api_env.auth,
        json={"url": "http://127.0.0.1:9/other.xml", "check": False, "category": "Later"},
    )
    assert new.status_code == 201
    feed = new.json()
    assert feed["category"] == "Later" and set(feed) == FEED_FIELDS
    changed = await client.patch(
        f"/api/subscriptions/{feed['id']}",
        headers=api_env.auth,
        json={"title": "Mine", "paused": True, "check_interval": 3600},
    )
    assert changed.status_code == 200
    assert changed.json()["title"] == "Mine"
    assert changed.json()["paused"] is True
    assert changed.json()["check_interval"] == 3600
    wrong = await client.patch(
        f"/api/subscriptions/{feed['id']}", headers=api_env.auth, json={"colour": "red"}
    )
    assert wrong.status_code == 400 and "colour" in wrong.json()["error"]["message"]
    gone = await client.delete(f"/api/subscriptions/{feed['id']}", headers=api_env.auth)
    assert gone.status_code == 204
    assert (
        await client.delete(f"/api/subscriptions/{feed['id']}", headers=api_env.auth)
    ).status_code == 404


async def test_subscribe_discovers_and_checks(api_env: ApiEnv) -> None:
    # Remove a seed feed, then subscribe to it again through the API with the check on.
    client = api_env.client
    feeds = (await client.get("/api/subscriptions", headers=api_env.auth)).json()
    target = feeds[1]
    await client.delete(f"/api/subscriptions/{target['id']}", headers=api_env.auth)
    added = await client.post(
        "/api/subscriptions", headers=api_env.auth, json={"url": target["url"]}
    )
    assert added.status_code == 201, added.text
    assert added.json()["url"] == target["url"]
    broken = await client.post(
        "/api/subscriptions",
        headers=api_env.auth,
        json={"url": api_env.server.base + "/no-such-feed"},
    )
    assert broken.status_code == 400
    assert broken.json()["error"]["message"]


async def test_categories(api_env: ApiEnv) -> None:
    answer = await api_env.client.get("/api/categories", headers=api_env.auth)
    assert answer.status_code == 200
    cats = answer.json()
    assert cats and all(set(c) == {"id", "title", "feeds", "unread"} for c in cats)
    assert sum(c["unread"] for c in cats) == api_env.desk.store.count_entries(EntryQuery())


async def test_entries_page_and_filters(api_env: ApiEnv) -> None:
    client, auth = api_env.client, api_env.auth
    store = api_env.desk.store
    total = store.count_entries(EntryQuery())
    first = (await client.get("/api/entries?limit=3", headers=auth)).json()
    assert first["total"] == total and first["limit"] == 3 and len(first["entries"]) == 3
    assert all(set(e) >= ENTRY_REQUIRED for e in first["entries"])
    second = (await client.get("/api/entries?limit=3&offset=3", headers=auth)).json()
    assert not {e["id"] for e in first["entries"]} & {e["id"] for e in second["entries"]}
    newest = [e["published"] for e in first["entries"]]
    assert newest == sorted(newest, reverse=True)
    oldest = (await client.get("/api/entries?order=oldest&limit=100", headers=auth)).json()
    stamps = [e["published"] for e in oldest["entries"]]
    assert stamps == sorted(stamps)

    posts = (await client.get("/api/entries?kind=post&limit=100", headers=auth)).json()
    assert posts["total"] == store.count_entries(EntryQuery(kind="post"))
    assert all(e["kind"] == "post" for e in posts["entries"])
    feed_id = first["entries"][0]["feed_id"]
    by_feed = (await client.get(f"/api/entries?feed={feed_id}&limit=100", headers=auth)).json()
    assert by_feed["entries"] and all(e["feed_id"] == feed_id for e in by_feed["entries"])
    category = first["entries"][0]["category"]
    by_category = (
        await client.get("/api/entries", params={"category": category}, headers=auth)
    ).json()
    assert by_category["entries"] and all(e["category"] == category for e in by_category["entries"])

    since = (await client.get("/api/entries?since=2024-02-27T18:00:00Z", headers=auth)).json()
    assert all(e["published"] >= "2024-02-27T18:00:00Z" for e in since["entries"])
    before = (await client.get("/api/entries?before=2024-02-27T18:00:00Z", headers=auth)).json()
    assert since["total"] + before["total"] == total

    word = first["entries"][0]["title"].split()[2]
    found = (await client.get("/api/entries", params={"search": word}, headers=auth)).json()
    assert found["total"] >= 1 and all("snippet" in e for e in found["entries"])

    for bad in ("kind=video", "status=maybe", "limit=0", "limit=abc", "since=yesterdayish"):
        answer = await client.get(f"/api/entries?{bad}", headers=auth)
        assert answer.status_code == 400, bad
        assert answer.json()["error"]["message"]


async def test_entry_state(api_env: ApiEnv) -> None:
    client, auth = api_env.client, api_env.auth
    ids = [e.id for e in api_env.desk.store.list_entries(EntryQuery(limit=4))]
    one = await client.patch(f"/api/entries/{ids[0]}", headers=auth, json={"starred": True})
    assert one.status_code == 200 and one.json()["starred"] is True
    starred = (await client.get("/api/entries?starred=true", headers=auth)).json()
    assert [e["id"] for e in starred["entries"]] == [ids[0]]

    bulk = await client.post(
        "/api/entries/state", headers=auth, json={"ids": ids[1:], "read": True}
    )
    assert bulk.json() == {"updated": 3}
    read = (await client.get("/api/entries?status=read", headers=auth)).json()
    assert {e["id"] for e in read["entries"]} == set(ids[1:])

    feed_id = api_env.desk.store.list_feeds()[0].id
    by_feed = await client.post(
        "/api/entries/state", headers=auth, json={"feed": feed_id, "read": True}
    )
    assert by_feed.status_code == 200
    assert api_env.desk.store.count_entries(EntryQuery(feed_id=feed_id, read=False)) == 0

    for body in ({}, {"ids": []}, {"ids": ["x"], "read": True}, {"ids": [1], "read": "yes"}):
        answer = await client.post("/api/entries/state", headers=auth, json=body)
        assert answer.status_code == 400, body
    broken = await client.post(
        "/api/entries/state", headers={**auth, "content-type": "application/json"}, content=b"{"
    )
    assert broken.status_code == 400 and "JSON" in broken.json()["error"]["message"]
    assert (await client.get("/api/entries/99999", headers=auth)).status_code == 404
    assert (
        await client.patch("/api/entries/99999", headers=auth, json={"read": True})
    ).status_code == 404


async def test_related_and_digest(api_env: ApiEnv) -> None:
    client, auth = api_env.client, api_env.auth
    entry = api_env.desk.store.list_entries(EntryQuery(limit=1))[0]
    related = await client.get(f"/api/entries/{entry.id}/related", headers=auth)
    assert related.status_code == 200
    assert set(related.json()) == {"entries", "shared"}
    assert [e["id"] for e in related.json()["entries"]] == entry.related
    digest = await client.get("/api/digest?since=5000d&format=json", headers=auth)
    assert digest.status_code == 200
    assert isinstance(digest.json(), dict | list)
    text = await client.get("/api/digest?since=5000d&format=text", headers=auth)
    assert text.headers["content-type"].startswith("text/plain")
    assert entry.feed_title is not None
    assert "Categories" in text.text
    assert (await client.get("/api/digest?format=pdf", headers=auth)).status_code == 400


async def test_opml_round_trip(api_env: ApiEnv) -> None:
    client, auth = api_env.client, api_env.auth
    exported = await client.get("/api/opml", headers=auth)
    assert exported.status_code == 200 and "<opml" in exported.text
    same = await client.post("/api/opml", headers=auth, content=exported.content)
    assert same.json() == {"added": 0, "skipped": 2, "feeds": []}
    new = (
        b'<?xml version="1.0"?><opml version="2.0"><body><outline text="News">'
        b'<outline type="rss" text="X" xmlUrl="http://127.0.0.1:9/x.xml"/></outline>'
        b"</body></opml>"
    )
    added = await client.post("/api/opml", headers=auth, content=new)
    assert added.json()["added"] == 1
    assert added.json()["feeds"][0]["category"] == "News"
    bad = await client.post("/api/opml", headers=auth, content=b"<html>nope</html>")
    assert bad.status_code == 400 and "OPML" in bad.json()["error"]["message"]


async def test_refresh_job_progress(api_env: ApiEnv) -> None:
    client, auth = api_env.client, api_env.auth
    started = await client.post("/api/refresh", headers=auth)
    assert started.status_code == 202
    job = started.json()
    assert started.headers["location"] == job["url"]
    for _ in range(300):
        job = (await client.get(job["url"], headers=auth)).json()
        if job["status"] != "running":
            break
        await asyncio.sleep(0.05)
    assert job["status"] == "done", job
    assert job["total"] == 2 and job["done"] == 2 and job["percent"] == 100
    assert job["summary"]
    missing = await client.post("/api/refresh", headers=auth, json={"feeds": [12345]})
    assert missing.status_code == 404
    assert (await client.get("/api/refresh/999999", headers=auth)).status_code == 404


async def test_tokens(api_env: ApiEnv) -> None:
    client, auth = api_env.client, api_env.auth
    made = await client.post("/api/tokens", headers=auth, json={"name": "phone"})
    assert made.status_code == 201
    key = made.json()["key"]
    listed = (await client.get("/api/tokens", headers=auth)).json()
    assert {t["name"] for t in listed} == {"tests", "phone"}
    assert all("key" not in t for t in listed)
    assert (await client.get("/api/entries", headers={"X-Auth-Token": key})).status_code == 200
    twice = await client.post("/api/tokens", headers=auth, json={"name": "phone"})
    assert twice.status_code == 400
    gone = await client.delete(f"/api/tokens/{made.json()['id']}", headers=auth)
    assert gone.status_code == 204
    assert (await client.get("/api/entries", headers={"X-Auth-Token": key})).status_code == 401
    assert (await client.delete("/api/tokens/999", headers=auth)).status_code == 404


async def test_unknown_paths_and_methods(api_env: ApiEnv) -> None:
    client, auth = api_env.client, api_env.auth
    missing = await client.get("/api/nothing/here", headers=auth)
    assert missing.status_code == 404 and missing.json()["error"]["status"] == 404
    wrong = await client.put("/api/entries", headers=auth)
    assert wrong.status_code == 405 and "GET" in wrong.headers["allow"]

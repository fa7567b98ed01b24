"""Miniflux API issue 14: incremental sync (``changed_at`` moved by every change, through every
face; ``changed_after``/``changed_before``), starring (``/star``, ``starred`` in
``PUT /v1/entries``), ``GET /v1/entries/ids``, category create/rename/delete, entry update,
flush-history, and titles for untitled posts. Shapes as Miniflux's internal/api has them."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from newsdesk.model import StoredEntry
from newsdesk.store import EntryQuery
from newsdesk.store import sync as sync_store
from newsdesk.store.migrations import MIGRATIONS, migrate
from newsdesk.store.sql import open_store
from newsdesk.web.api.titles import entry_title

from .conftest import ApiEnv


def _unix(value: str) -> int:
    return int(datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


OLD = "2020-01-01T00:00:00Z"


def _age(api_env: ApiEnv, ids: list[int] | None) -> None:
    """Date these entries' arrival and last change back to OLD, so a change now is after it
    whatever the clock's resolution."""
    with api_env.desk.store.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE entries SET first_seen = '2020-01-01 00:00:00', "
                "changed_at = '2020-01-01 00:00:00'"
                + ("" if ids is None else f" WHERE id IN ({','.join(map(str, ids))})")
            )
        )
        conn.execute(  # a person's state changes move their state's changed_at
            text(
                "UPDATE entry_states SET changed_at = '2020-01-01 00:00:00'"
                + ("" if ids is None else f" WHERE entry_id IN ({','.join(map(str, ids))})")
            )
        )


async def _entry(api_env: ApiEnv, entry_id: int) -> dict[str, object]:
    response = await api_env.client.get(f"/v1/entries/{entry_id}", headers=api_env.auth)
    assert response.status_code == 200
    found: dict[str, object] = response.json()
    return found


async def test_changed_after_and_before_filter(api_env: ApiEnv) -> None:
    far = int(time.time()) + 10 * 365 * 86400
    future = await api_env.client.get(
        "/v1/entries", params={"changed_after": far}, headers=api_env.auth
    )
    assert future.status_code == 200
    assert future.json() == {"total": 0, "entries": []}
    everything = await api_env.client.get(
        "/v1/entries", params={"changed_before": far, "limit": 0}, headers=api_env.auth
    )
    total = everything.json()["total"]
    assert total > 0
    for entry in everything.json()["entries"]:
        assert entry["changed_at"] >= entry["created_at"]
    # the feed and category forms read the same filters
    feed_id = everything.json()["entries"][0]["feed_id"]
    by_feed = await api_env.client.get(
        f"/v1/feeds/{feed_id}/entries", params={"changed_after": far}, headers=api_env.auth
    )
    assert by_feed.json()["total"] == 0


async def test_state_changes_move_changed_at_through_every_face(api_env: ApiEnv) -> None:
    entries = api_env.desk.store.list_entries(EntryQuery(limit=3))
    a, b, c = (e.id for e in entries)
    _age(api_env, None)
    before = {i: _unix(str((await _entry(api_env, i))["changed_at"])) for i in (a, b, c)}
    mark = _unix(OLD) + 1
    # the Miniflux face
    await api_env.client.put(
        "/v1/entries", json={"entry_ids": [a], "status": "read"}, headers=api_env.auth
    )
    # the store functions the reading room and the other APIs call
    api_env.desk.store.set_flags([b], starred=True)
    api_env.desk.store.reading.mark_view_read(EntryQuery(ids=[c]))
    for entry_id in (a, b, c):
        after = _unix(str((await _entry(api_env, entry_id))["changed_at"]))
        assert after >= mark > before[entry_id]
    changed = await api_env.client.get(
        "/v1/entries", params={"changed_after": mark - 1, "limit": 0}, headers=api_env.auth
    )
    assert {e["id"] for e in changed.json()["entries"]} == {a, b, c}
    # unstarring and marking unread move it too
    _age(api_env, [a, b, c])
    mark2 = mark
    await api_env.client.put(f"/v1/entries/{b}/star", headers=api_env.auth)
    api_env.desk.store.sync.mark_read(sync_store.SyncQuery(base=EntryQuery(ids=[a])), False)
    again = await api_env.client.get(
        "/v1/entries", params={"changed_after": mark2 - 1}, headers=api_env.auth
    )
    assert {e["id"] for e in again.json()["entries"]} == {a, b}


def test_migration_9_fills_changed_at(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = open_store(url)
    feed = store.add_feed("https://example.org/feed")
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO entries (feed_id, key, kind, published, first_seen, content_html, "
                "content_text, content_hash, tags, links, enclosures, wants_fulltext, read, "
                "starred, read_at) VALUES (:f, 'k', 'article', '2020-01-01 00:00:00', "
                "'2021-01-01 00:00:00', '', '', 'h', '[]', '[]', '[]', 0, 1, 0, "
                "'2022-01-01 00:00:00')"
            ),
            {"f": feed.id},
        )
        # as a version 7 database has it: no changed_at
        conn.execute(text("DROP INDEX ix_entries_changed"))
        conn.execute(text("ALTER TABLE entries DROP COLUMN changed_at"))
        conn.execute(text("UPDATE schema_version SET version = 7"))
    store.close()
    store = open_store(url)
    assert migrate(store.engine) == len(MIGRATIONS)
    (entry,) = store.list_entries(EntryQuery())
    assert entry.changed_at == datetime(2022, 1, 1, tzinfo=UTC)
    store.close()


async def test_star_toggles_and_put_entries_sets_starred(api_env: ApiEnv) -> None:
    entry_id = api_env.desk.store.list_entries(EntryQuery(limit=1))[0].id
    assert (await _entry(api_env, entry_id))["starred"] is False
    toggled = await api_env.client.put(f"/v1/entries/{entry_id}/star", headers=api_env.auth)
    assert toggled.status_code == 204
    assert (await _entry(api_env, entry_id))["starred"] is True
    await api_env.client.put(f"/v1/entries/{entry_id}/star", headers=api_env.auth)
    assert (await _entry(api_env, entry_id))["starred"] is False
    missing = await api_env.client.put("/v1/entries/999999/star", headers=api_env.auth)
    assert missing.status_code == 404

    body = {"entry_ids": [entry_id], "starred": True}
    response = await api_env.client.put("/v1/entries", json=body, headers=api_env.auth)
    assert response.status_code == 204
    assert (await _entry(api_env, entry_id))["starred"] is True
    both = {"entry_ids": [entry_id], "starred": False, "status": "read"}
    await api_env.client.put("/v1/entries", json=both, headers=api_env.auth)
    state = await _entry(api_env, entry_id)
    assert state["starred"] is False and state["status"] == "read"
    neither = await api_env.client.put(
        "/v1/entries", json={"entry_ids": [entry_id]}, headers=api_env.auth
    )
    assert neither.status_code == 400
    assert "error_message" in neither.json()
    wrong = await api_env.client.put(
        "/v1/entries", json={"entry_ids": [entry_id], "starred": "yes"}, headers=api_env.auth
    )
    assert wrong.status_code == 400


async def test_entry_ids(api_env: ApiEnv) -> None:
    response = await api_env.client.get(
        "/v1/entries/ids", params={"status": "unread", "limit": 5}, headers=api_env.auth
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"total", "entry_ids"}
    assert len(body["entry_ids"]) == 5 and all(isinstance(i, int) for i in body["entry_ids"])
    listed = await api_env.client.get(
        "/v1/entries", params={"status": "unread", "limit": 5}, headers=api_env.auth
    )
    assert body["total"] == listed.json()["total"]
    assert body["entry_ids"] == [e["id"] for e in listed.json()["entries"]]
    starred = await api_env.client.get(
        "/v1/entries/ids", params={"starred": "true"}, headers=api_env.auth
    )
    assert starred.json() == {"total": 0, "entry_ids": []}


async def test_category_create_rename_delete(api_env: ApiEnv) -> None:
    created = await api_env.client.post(
        "/v1/categories", json={"title": "Long reads"}, headers=api_env.auth
    )
    assert created.status_code == 201
    category = created.json()
    assert set(category) == {"id", "title", "user_id", "hide_globally"}
    assert category["title"] == "Long reads"
    again = await api_env.client.post(
        "/v1/categories", json={"title": "Long reads"}, headers=api_env.auth
    )
    assert again.status_code == 400
    empty = await api_env.client.post("/v1/categories", json={"title": " "}, headers=api_env.auth)
    assert empty.status_code == 400

    cid = category["id"]
    renamed = await api_env.client.put(
        f"/v1/categories/{cid}", json={"title": "Essays"}, headers=api_env.auth
    )
    assert renamed.status_code == 201
    assert renamed.json()["title"] == "Essays"
    feed = api_env.desk.store.list_feeds()[0]
    moved = await api_env.client.put(
        f"/v1/feeds/{feed.id}", json={"category_id": cid}, headers=api_env.auth
    )
    assert moved.status_code == 201
    assert moved.json()["category"]["title"] == "Essays"

    gone = await api_env.client.delete(f"/v1/categories/{cid}", headers=api_env.auth)
    assert gone.status_code == 204
    listed = await api_env.client.get("/v1/categories", headers=api_env.auth)
    assert cid not in {c["id"] for c in listed.json()}
    # the feed stays subscribed, without a category
    kept = await api_env.client.get(f"/v1/feeds/{feed.id}", headers=api_env.auth)
    assert kept.status_code == 200 and kept.json()["category"]["id"] == 0
    for method in ("PUT", "DELETE"):
        missing = await api_env.client.request(
            method, "/v1/categories/999999", json={"title": "x"}, headers=api_env.auth
        )
        assert missing.status_code == 404


async def test_entry_update(api_env: ApiEnv) -> None:
    entry_id = api_env.desk.store.list_entries(EntryQuery(limit=1))[0].id
    body = {"title": "A <b>better</b> title", "content": "<p>Mine</p><script>x()</script>"}
    response = await api_env.client.put(f"/v1/entries/{entry_id}", json=body, headers=api_env.auth)
    assert response.status_code == 201
    entry = response.json()
    assert entry["id"] == entry_id and entry["title"] == "A better title"
    assert "Mine" in entry["content"] and "script" not in entry["content"]
    assert (await _entry(api_env, entry_id))["title"] == "A better title"
    for bad in ({"title": ""}, {"content": ""}):
        refused = await api_env.client.put(
            f"/v1/entries/{entry_id}", json=bad, headers=api_env.auth
        )
        assert refused.status_code == 400
    missing = await api_env.client.put("/v1/entries/999999", json=body, headers=api_env.auth)
    assert missing.status_code == 404


async def test_flush_history_is_accepted(api_env: ApiEnv) -> None:
    for method in ("PUT", "DELETE"):
        response = await api_env.client.request(method, "/v1/flush-history", headers=api_env.auth)
        assert response.status_code == 202
    unauthorized = await api_env.client.put("/v1/flush-history")
    assert unauthorized.status_code == 401


def _post(text_: str, url: str | None = "https://social.example/@a/1") -> StoredEntry:
    now = datetime.now(UTC)
    return StoredEntry(
        id=1,
        feed_id=1,
        feed_title=None,
        category=None,
        kind="post",
        key="k",
        url=url,
        title=None,
        author="@a",
        published=now,
        updated=None,
        first_seen=now,
        content_html="",
        content_text=text_,
        summary_html=None,
    )


def test_untitled_posts_get_a_title_from_their_text() -> None:
    assert entry_title(_post("Hello   world\nagain")) == "Hello world again"
    long = "word " * 50
    made = entry_title(_post(long))
    assert made.endswith("…") and len(made) == 101
    assert entry_title(_post("", url="https://social.example/@a/2")) == (
        "https://social.example/@a/2"
    )
    assert entry_title(_post("", url=None)) == ""


async def test_untitled_posts_are_titled_in_the_api(api_env: ApiEnv) -> None:
    store = api_env.desk.store
    entry_id = store.list_entries(EntryQuery(limit=1))[0].id
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE entries SET title = NULL, kind = 'post', content_text = :t WHERE id = :i"),
            {"t": "Just a toot about feeds", "i": entry_id},
        )
    assert (await _entry(api_env, entry_id))["title"] == "Just a toot about feeds"


async def test_untitled_posts_are_titled_in_google_reader_and_fever(api_env: ApiEnv) -> None:
    from .test_fever import fever
    from .test_greader import API, login

    store = api_env.desk.store
    entry_id = store.list_entries(EntryQuery(limit=1))[0].id
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE entries SET title = NULL, kind = 'post', content_text = :t WHERE id = :i"),
            {"t": "Just a toot about feeds", "i": entry_id},
        )
    items = (await fever(api_env, f"items&with_ids={entry_id}"))["items"]
    assert [i["title"] for i in items] == ["Just a toot about feeds"]
    headers = await login(api_env)
    contents = await api_env.client.post(
        f"{API}/stream/items/contents", data={"i": str(entry_id)}, headers=headers
    )
    assert contents.status_code == 200, contents.text
    assert [i["title"] for i in contents.json()["items"]] == ["Just a toot about feeds"]

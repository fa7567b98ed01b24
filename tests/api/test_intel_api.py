"""The native API's stories, entities, timelines and watchlists (``web.api.intel``), on SQLite
and on PostgreSQL: shapes, paging, filters, CSV downloads, 400s that say what is wrong, 404s
for unknown ids, and watchlist secrets that never leave the server.

The seed sample is refreshed with the intelligence stage off; the stories, entities, mentions,
events and alerts the API reads are then written in the tables as the stage would, so the
answers can be checked exactly."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import insert, update

from newsdesk.demo import SEED_FEEDS
from newsdesk.demo.server import SampleServer
from newsdesk.desk import Desk
from newsdesk.entities.knowledge import make_key
from newsdesk.model import FoundEntity, StoredEntry
from newsdesk.settings import load_settings
from newsdesk.store import EntryQuery
from newsdesk.store.engine import write_transaction
from newsdesk.store.entities import replace_mentions
from newsdesk.store.events import replace_events
from newsdesk.store.schema import (
    alerts,
    entries,
    stories,
)
from newsdesk.store.watchlists import MASK
from newsdesk.timeline import Event
from newsdesk.web.api import openapi

from .conftest import ApiEnv

STORY_FIELDS = set(openapi.SCHEMAS["Story"]["properties"])
ENTITY_FIELDS = set(openapi.SCHEMAS["Entity"]["properties"])
WATCHLIST_FIELDS = set(openapi.SCHEMAS["Watchlist"]["properties"])
EVENT_FIELDS = set(openapi.SCHEMAS["TimelineEvent"]["required"])
CSV_HEADER = "date,precision,sentence,entry_id,entry_title,entry_url,feed_title,published"
SECRET = "s3cret-webhook-key"
TOKEN = "tk_ntfy_topic_token"


@dataclass
class Env:
    client: httpx.AsyncClient
    desk: Desk
    auth: dict[str, str]
    ids: dict[str, int] = field(default_factory=dict)  # seed entries by name
    story: dict[str, int] = field(default_factory=dict)
    entity: dict[str, int] = field(default_factory=dict)

    async def get(self, path: str, **params: object) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.auth)  # type: ignore[arg-type]


def _find(found: list[StoredEntry], words: str, kind: str) -> StoredEntry:
    return next(e for e in found if e.kind == kind and words in (e.title or ""))


def _fill(desk: Desk, env: Env) -> None:
    """Stories, entities, mentions, dated events as the intelligence stage writes them."""
    found = desk.store.list_entries(EntryQuery(limit=100))
    named = {
        "palace": _find(found, "Premier Palace", "article"),
        "palace_post": _find(found, "Premier Palace", "post"),
        "moscow": _find(found, "Moscow as mediator", "article"),
        "moscow_post": _find(found, "Moscow as mediator", "post"),
        "dw": _find(found, "Israel-Hamas war", "article"),
        "fbi_post": _find(found, "FBI: Is Alexander Smirnov", "post"),
        "zolotov": _find(found, "Viktor Zolotov", "post"),
    }
    env.ids = {name: e.id for name, e in named.items()}
    now = datetime.now(UTC)
    groups = {
        "palace": ["palace", "palace_post"],
        "mideast": ["moscow", "moscow_post", "dw"],
        "zolotov": ["zolotov"],
    }
    mentions = {  # entity -> (kind, entries mentioning it)
        "Alexander Smirnov": ("person", ["palace", "palace_post", "fbi_post"]),
        "FBI": ("org", ["fbi_post"]),
        "Russia": ("place", ["palace", "moscow", "moscow_post", "dw"]),
        "Moscow": ("place", ["moscow", "moscow_post"]),
        "Hamas": ("org", ["dw"]),
    }
    with write_transaction(desk.store.engine) as conn:
        for name, members in groups.items():
            rows = [named[m] for m in members]
            stamps = [e.published for e in rows]
            story_id = conn.execute(
                insert(stories).values(
                    title=rows[0].title,
                    lead_entry_id=rows[0].id,
                    size=len(rows),
                    sources=len({e.feed_id for e in rows}),
                    first_published=min(stamps),
                    last_published=max(stamps),
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            env.story[name] = int(story_id)
            conn.execute(
                update(entries)
                .where(entries.c.id.in_([e.id for e in rows]))
                .values(story_id=story_id)
            )
        surfaces: dict[str, dict[str, int]] = {}
        for entry_name, entry in named.items():
            seen = [
                FoundEntity(kind, make_key(name), name, (name, name.split()[-1]), 2, 0)
                for name, (kind, where) in mentions.items()
                if entry_name in where
            ]
            surfaces[entry_name] = replace_mentions(conn, entry.id, entry.published, seen)
            for name in mentions:
                if name in surfaces[entry_name]:
                    env.entity[name] = surfaces[entry_name][name]
        dated = [
            ("palace", "2023-08-01", "month", "August 2023: Smirnov meets his handler.", 0),
            ("palace", "2023-09-27", "day", "September 27, 2023: Smirnov is questioned.", 1),
            ("moscow", "2024-02-26", "day", "On 26 February 2024 Moscow hosted the talks.", 0),
            ("dw", "2019-01-01", "year", "In 2019, Russia offered to mediate.", 0),
        ]
        for entry in dict.fromkeys(d[0] for d in dated):
            told = [Event(date, p, sentence, n) for e, date, p, sentence, n in dated if e == entry]
            assert replace_events(conn, named[entry].id, told, surfaces[entry]) == len(told)


@pytest.fixture
def filled(store_url: str, seed_server: SampleServer) -> Iterator[tuple[Env, str]]:
    """The seed refreshed (intelligence stage off) and the tables filled; synchronous, since
    a refresh runs its own event loop."""
    settings = load_settings(
        env={},
        database_url=store_url,
        allow_private_networks=True,
        fulltext=False,
        stories=False,
        entities=False,
        timelines=False,
        alerts=False,
    )
    desk = Desk(settings)
    try:
        for path in SEED_FEEDS:
            asyncio.run(desk.subscribe(seed_server.base + path, check=False))
        asyncio.run(desk.refresh_async(fulltext=False))
        _, key = desk.store.tokens.create_token("tests")
        env = Env(None, desk, {"X-Auth-Token": key})  # type: ignore[arg-type]
        _fill(desk, env)
        yield env, key
    finally:
        desk.close()


@pytest.fixture
async def env(filled: tuple[Env, str]) -> AsyncIterator[Env]:
    from newsdesk.web.app import create_app

    env, _ = filled
    app = create_app(env.desk.settings, desk=env.desk)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://newsdesk.test") as client:
        env.client = client
        yield env


def _error(answer: httpx.Response, status: int) -> str:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"]["status"] == status
    message = body["error"]["message"]
    assert isinstance(message, str) and message
    return message


# -- stories ----------------------------------------------------------------------------------


async def test_stories_list_and_paging(env: Env) -> None:
    page = await env.get("/api/stories")
    assert page.status_code == 200
    body = page.json()
    assert (body["limit"], body["offset"], body["min_size"]) == (50, 0, 2)
    listed = body["stories"]
    # Stories of one are left out by default; newest activity first.
    assert [s["id"] for s in listed] == [env.story["palace"], env.story["mideast"]]
    assert all(set(s) == STORY_FIELDS for s in listed)
    palace = listed[0]
    assert palace["size"] == 2 and palace["sources"] == 2
    assert palace["lead_entry_id"] == env.ids["palace"]
    assert palace["title"].startswith("Premier Palace")
    assert palace["first_published"] == "2024-02-27T22:05:00Z"
    assert palace["last_published"] == "2024-02-27T22:10:00Z"

    every = (await env.get("/api/stories", min_size=1)).json()["stories"]
    assert len(every) == 3 and env.story["zolotov"] in {s["id"] for s in every}
    big = (await env.get("/api/stories", min_size=3)).json()["stories"]
    assert [s["id"] for s in big] == [env.story["mideast"]]
    second = (await env.get("/api/stories", limit=1, offset=1)).json()
    assert [s["id"] for s in second["stories"]] == [env.story["mideast"]]
    assert second["limit"] == 1 and second["offset"] == 1

    assert "min_size" in _error(await env.get("/api/stories", min_size=0), 400)
    assert "limit" in _error(await env.get("/api/stories", limit=501), 400)
    assert "offset" in _error(await env.get("/api/stories", offset="x"), 400)
    unauthorized = await env.client.get("/api/stories")
    assert _error(unauthorized, 401) == "access unauthorized"


async def test_story_detail(env: Env) -> None:
    answer = await env.get(f"/api/stories/{env.story['mideast']}")
    assert answer.status_code == 200
    story = answer.json()
    assert set(story) == STORY_FIELDS | {"entries", "entities"}
    assert story["size"] == 3 and story["sources"] == 2
    # Members in time order, as full entries carrying their story id.
    members = story["entries"]
    assert [e["id"] for e in members] == [env.ids["dw"], env.ids["moscow"], env.ids["moscow_post"]]
    assert all(e["story_id"] == env.story["mideast"] for e in members)
    assert all(set(e) >= set(openapi.SCHEMAS["Entry"]["required"]) for e in members)
    # Entities of the members, in most members first.
    counted = [(c["entity"]["name"], c["entries"]) for c in story["entities"]]
    assert counted[0] == ("Russia", 3)
    assert ("Moscow", 2) in counted and ("Hamas", 1) in counted
    assert "Alexander Smirnov" not in dict(counted)
    assert all(set(c["entity"]) == ENTITY_FIELDS for c in story["entities"])

    for missing in ("999999", "0", "abc", "-1"):
        assert "story" in _error(await env.get(f"/api/stories/{missing}"), 404) or missing in {
            "0",
            "abc",
            "-1",
        }
    assert _error(await env.client.get(f"/api/stories/{env.story['palace']}"), 401)
    big = (
        "/api/stories/",
        "/api/entities/",
        "/api/watchlists/",
        "/api/entries/",
        "/api/subscriptions/",
    )
    for path in big:
        _error(await env.get(f"{path}{2**31}"), 404)
        _error(await env.get(f"{path}{10**17}"), 404)


async def test_entries_filter_by_story_and_entity(env: Env) -> None:
    by_story = (await env.get("/api/entries", story_id=env.story["palace"])).json()
    assert by_story["total"] == 2
    assert {e["id"] for e in by_story["entries"]} == {env.ids["palace"], env.ids["palace_post"]}
    assert all(e["story_id"] == env.story["palace"] for e in by_story["entries"])

    by_entity = (await env.get("/api/entries", entity_id=env.entity["Alexander Smirnov"])).json()
    assert by_entity["total"] == 3
    assert {e["id"] for e in by_entity["entries"]} == {
        env.ids["palace"],
        env.ids["palace_post"],
        env.ids["fbi_post"],
    }
    both = (
        await env.get("/api/entries", story_id=env.story["mideast"], entity_id=env.entity["Moscow"])
    ).json()
    assert {e["id"] for e in both["entries"]} == {env.ids["moscow"], env.ids["moscow_post"]}
    articles = (
        await env.get("/api/entries", entity_id=env.entity["Russia"], kind="article")
    ).json()
    assert articles["total"] == 3 and all(e["kind"] == "article" for e in articles["entries"])
    searched = (
        await env.get("/api/entries", entity_id=env.entity["Russia"], search="Palestinian")
    ).json()
    # The Premier Palace article mentions Russia, not Palestinians.
    assert {e["id"] for e in searched["entries"]} == {
        env.ids["moscow"],
        env.ids["moscow_post"],
        env.ids["dw"],
    }
    assert searched["total"] == 3
    nothing = (await env.get("/api/entries", story_id=999999)).json()
    assert nothing == {"total": 0, "limit": 50, "offset": 0, "entries": []}

    assert "story_id" in _error(await env.get("/api/entries", story_id=0), 400)
    assert "entity_id" in _error(await env.get("/api/entries", entity_id="smirnov"), 400)
    # Store ids are 32-bit: a larger one is refused rather than sent to the database.
    assert "story_id" in _error(await env.get("/api/entries", story_id=2**31), 400)


async def test_mark_a_story_read_and_unread(env: Env) -> None:
    members = {env.ids["dw"], env.ids["moscow"], env.ids["moscow_post"]}
    story = env.story["mideast"]

    def unread() -> set[int]:
        return {e.id for e in env.desk.entries(EntryQuery(read=False, limit=500))}

    before = unread()
    assert members <= before
    done = await env.client.post(f"/api/stories/{story}/read", headers=env.auth)
    assert done.status_code == 200
    assert done.json() == {"story_id": story, "read": True, "changed": 3}
    assert unread() == before - members  # every member, nothing else
    again = await env.client.post(f"/api/stories/{story}/unread", headers=env.auth)
    assert again.json() == {"story_id": story, "read": False, "changed": 3}
    assert unread() == before
    _error(await env.client.post("/api/stories/999999/read", headers=env.auth), 404)
    _error(await env.client.post(f"/api/stories/{story}/read"), 401)


async def test_entries_grouped_by_story(env: Env) -> None:
    flat = (await env.get("/api/entries", search="Russia")).json()["entries"]
    grouped = (await env.get("/api/entries", search="Russia", group="story")).json()["entries"]
    heads = [e["id"] for e in grouped]
    folded = [m["id"] for e in grouped for m in e["story_entries"]]
    assert sorted(heads + folded) == sorted(e["id"] for e in flat)
    stories = [e["story_id"] for e in grouped if e["story_id"] is not None]
    assert len(stories) == len(set(stories))  # one entry per story, its others inside it
    mideast = next(e for e in grouped if e["story_id"] == env.story["mideast"])
    assert mideast["id"] == next(e["id"] for e in flat if e["story_id"] == env.story["mideast"])
    assert all(m["story_id"] == env.story["mideast"] for m in mideast["story_entries"])
    assert "story_entries" not in flat[0]
    assert "group" in _error(await env.get("/api/entries", group="feed"), 400)


# -- entities ---------------------------------------------------------------------------------


async def test_entities_list_filter_and_find(env: Env) -> None:
    answer = await env.get("/api/entities")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["limit"], body["offset"]) == (100, 0)
    listed = body["entities"]
    assert all(set(e) == ENTITY_FIELDS for e in listed)
    # In most entries first.
    assert [e["name"] for e in listed[:2]] == ["Russia", "Alexander Smirnov"]
    assert {e["name"] for e in listed} == set(env.entity)
    smirnov = next(e for e in listed if e["name"] == "Alexander Smirnov")
    assert smirnov["kind"] == "person" and smirnov["entry_count"] == 3
    assert smirnov["mention_count"] == 6 and smirnov["aliases"] == ["Smirnov"]
    assert smirnov["first_seen"] == "2024-02-27T22:05:00Z"

    orgs = (await env.get("/api/entities", kind="org")).json()["entities"]
    assert {e["name"] for e in orgs} == {"FBI", "Hamas"}
    paged = (await env.get("/api/entities", limit=2, offset=1)).json()["entities"]
    assert [e["id"] for e in paged] == [e["id"] for e in listed[1:3]]

    found = (await env.get("/api/entities", q="smirnov")).json()["entities"]
    assert [e["name"] for e in found] == ["Alexander Smirnov"]
    assert (await env.get("/api/entities", q="fbi", kind="place")).json()["entities"] == []
    assert (await env.get("/api/entities", q="no such name at all")).json()["entities"] == []

    assert "kind" in _error(await env.get("/api/entities", kind="animal"), 400)
    assert "q" in _error(await env.get("/api/entities", q="x" * 301), 400)
    assert "NUL" in _error(await env.get("/api/entities", q="smir\x00nov"), 400)
    assert _error(await env.client.get("/api/entities"), 401)


async def test_entity_detail(env: Env) -> None:
    russia = env.entity["Russia"]
    answer = await env.get(f"/api/entities/{russia}")
    assert answer.status_code == 200
    entity = answer.json()
    assert set(entity) == ENTITY_FIELDS | {"bucket", "mentions", "co_mentions", "stories"}
    assert entity["name"] == "Russia" and entity["kind"] == "place"
    assert entity["bucket"] == "day"
    # Every mention is on 2024-02-27.
    assert entity["mentions"] == [{"date": "2024-02-27", "entries": 4}]
    together = {c["entity"]["name"]: c["entries"] for c in entity["co_mentions"]}
    assert together["Moscow"] == 2
    assert together["Hamas"] == 1 and together["Alexander Smirnov"] == 1
    assert "Russia" not in together and "FBI" not in together
    assert {s["id"] for s in entity["stories"]} == {env.story["palace"], env.story["mideast"]}
    assert all(set(s) == STORY_FIELDS for s in entity["stories"])

    monthly = (await env.get(f"/api/entities/{russia}", bucket="month")).json()
    assert monthly["bucket"] == "month"
    assert monthly["mentions"] == [{"date": "2024-02-01", "entries": 4}]
    assert "bucket" in _error(await env.get(f"/api/entities/{russia}", bucket="year"), 400)
    assert "entity" in _error(await env.get("/api/entities/999999"), 404)
    assert _error(await env.get("/api/entities/abc"), 404)


async def test_entity_entries(env: Env) -> None:
    smirnov = env.entity["Alexander Smirnov"]
    page = (await env.get(f"/api/entities/{smirnov}/entries")).json()
    assert page["total"] == 3 and page["limit"] == 50
    ids = [e["id"] for e in page["entries"]]
    # Newest first, as /api/entries.
    assert ids == [env.ids["fbi_post"], env.ids["palace_post"], env.ids["palace"]]
    oldest = (await env.get(f"/api/entities/{smirnov}/entries", order="oldest", limit=2)).json()
    assert [e["id"] for e in oldest["entries"]] == [env.ids["palace"], env.ids["palace_post"]]
    posts = (await env.get(f"/api/entities/{smirnov}/entries", kind="post")).json()
    assert posts["total"] == 2
    in_story = (
        await env.get(f"/api/entities/{smirnov}/entries", story_id=env.story["palace"])
    ).json()
    assert in_story["total"] == 2
    # The path's entity wins over a query parameter.
    same = (await env.get(f"/api/entities/{smirnov}/entries", entity_id=env.entity["Hamas"])).json()
    assert same["total"] == 3
    assert "status" in _error(await env.get(f"/api/entities/{smirnov}/entries", status="x"), 400)
    assert _error(await env.get("/api/entities/999999/entries"), 404)


# -- timelines --------------------------------------------------------------------------------


async def test_story_timeline_json_and_csv(env: Env) -> None:
    path = f"/api/stories/{env.story['palace']}/timeline"
    answer = await env.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    timeline = answer.json()
    assert [(e["date"], e["precision"]) for e in timeline] == [
        ("2023-08-01", "month"),
        ("2023-09-27", "day"),
    ]
    assert all(set(e) >= EVENT_FIELDS for e in timeline)
    first = timeline[0]
    assert first["sentence"] == "August 2023: Smirnov meets his handler."
    assert first["entry_id"] == env.ids["palace"]
    assert first["entry_title"].startswith("Premier Palace")
    assert first["story_id"] == env.story["palace"]

    download = await env.get(path, format="csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment") and "timeline" in disposition
    assert f"story-{env.story['palace']}" in disposition and ".csv" in disposition
    assert download.text.splitlines()[0] == CSV_HEADER
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [r["date"] for r in rows] == ["2023-08-01", "2023-09-27"]
    assert rows[1]["sentence"] == "September 27, 2023: Smirnov is questioned."
    assert rows[1]["entry_id"] == str(env.ids["palace"])

    empty = await env.get(f"/api/stories/{env.story['zolotov']}/timeline")
    assert empty.status_code == 200 and empty.json() == []
    assert "format" in _error(await env.get(path, format="xml"), 400)
    assert _error(await env.get("/api/stories/999999/timeline"), 404)
    assert _error(await env.client.get(path), 401)


async def test_entity_timeline(env: Env) -> None:
    russia = env.entity["Russia"]
    timeline = (await env.get(f"/api/entities/{russia}/timeline")).json()
    assert [e["sentence"] for e in timeline] == ["In 2019, Russia offered to mediate."]
    assert timeline[0]["precision"] == "year" and timeline[0]["entry_id"] == env.ids["dw"]
    smirnov = env.entity["Alexander Smirnov"]
    dates = [e["date"] for e in (await env.get(f"/api/entities/{smirnov}/timeline")).json()]
    assert dates == ["2023-08-01", "2023-09-27"]
    download = await env.get(f"/api/entities/{smirnov}/timeline", format="csv")
    assert download.headers["content-type"].startswith("text/csv")
    assert f'filename="entity-{smirnov}-timeline.csv"' in download.headers["content-disposition"]
    assert len(download.text.strip().splitlines()) == 3
    assert _error(await env.get("/api/entities/999999/timeline", format="csv"), 404)


# -- watchlists -------------------------------------------------------------------------------


def _no_secrets(answer: httpx.Response) -> None:
    assert SECRET not in answer.text and TOKEN not in answer.text


async def test_watchlist_crud_masks_secrets(env: Env) -> None:
    client, auth = env.client, env.auth
    body = {
        "name": "Smirnov case",
        "query": "informant",
        "entity_ids": [env.entity["Alexander Smirnov"]],
        "categories": [],
        "feed_ids": [],
        "channels": {
            "webhook": {"url": "http://127.0.0.1:9/hook", "secret": SECRET},
            "ntfy": {
                "url": "http://127.0.0.1:9/topic",
                "token": TOKEN,
                "priority": "high",
                "tags": ["newspaper"],
            },
            "email": {"to": ["desk@example.org"]},
        },
        "mode": "hourly",
    }
    created = await client.post("/api/watchlists", json=body, headers=auth)
    assert created.status_code == 201, created.text
    _no_secrets(created)
    made = created.json()
    assert set(made) == WATCHLIST_FIELDS
    assert created.headers["location"] == f"/api/watchlists/{made['id']}"
    assert made["name"] == "Smirnov case" and made["mode"] == "hourly" and made["enabled"]
    assert made["entity_ids"] == [env.entity["Alexander Smirnov"]]
    assert made["channels"]["webhook"] == {"url": "http://127.0.0.1:9/hook", "secret": MASK}
    assert made["channels"]["ntfy"] == {
        "url": "http://127.0.0.1:9/topic",
        "token": MASK,
        "priority": 4,
        "tags": ["newspaper"],
    }
    assert made["channels"]["email"] == {"to": ["desk@example.org"]}
    stored = env.desk.store.watchlists.get_watchlist(made["id"])
    assert stored is not None and stored.channels["webhook"]["secret"] == SECRET

    listed = await client.get("/api/watchlists", headers=auth)
    _no_secrets(listed)
    assert [w["id"] for w in listed.json()] == [made["id"]]
    one = await client.get(f"/api/watchlists/{made['id']}", headers=auth)
    _no_secrets(one)
    assert one.json() == made

    # Send back what GET showed, with a change: the masked secrets stay as they were.
    shown = one.json()
    edit = {"name": "Smirnov", "mode": "daily", "channels": shown["channels"], "enabled": False}
    changed = await client.patch(f"/api/watchlists/{made['id']}", json=edit, headers=auth)
    assert changed.status_code == 200, changed.text
    _no_secrets(changed)
    assert changed.json()["name"] == "Smirnov" and changed.json()["mode"] == "daily"
    assert changed.json()["enabled"] is False
    stored = env.desk.store.watchlists.get_watchlist(made["id"])
    assert stored is not None
    assert stored.channels["webhook"]["secret"] == SECRET
    assert stored.channels["ntfy"]["token"] == TOKEN
    # Left out: kept as well; a new one replaces it.
    only_hook = {"webhook": {"url": "http://127.0.0.1:9/hook2"}}
    await client.patch(f"/api/watchlists/{made['id']}", json={"channels": only_hook}, headers=auth)
    stored = env.desk.store.watchlists.get_watchlist(made["id"])
    assert stored is not None and set(stored.channels) == {"webhook"}
    assert stored.channels["webhook"] == {"url": "http://127.0.0.1:9/hook2", "secret": SECRET}
    fresh = {"webhook": {"url": "http://127.0.0.1:9/hook2", "secret": "another"}}
    await client.patch(f"/api/watchlists/{made['id']}", json={"channels": fresh}, headers=auth)
    stored = env.desk.store.watchlists.get_watchlist(made["id"])
    assert stored is not None and stored.channels["webhook"]["secret"] == "another"
    nothing = await client.patch(f"/api/watchlists/{made['id']}", json={}, headers=auth)
    assert nothing.status_code == 200 and nothing.json()["name"] == "Smirnov"

    gone = await client.delete(f"/api/watchlists/{made['id']}", headers=auth)
    assert gone.status_code == 204
    assert env.desk.store.watchlists.get_watchlist(made["id"]) is None
    for method in ("GET", "PATCH", "DELETE"):
        again = await client.request(
            method, f"/api/watchlists/{made['id']}", json={"mode": "daily"}, headers=auth
        )
        assert "watchlist" in _error(again, 404)
    assert _error(await client.get("/api/watchlists"), 401)


BAD_WATCHLISTS = [
    ({"channels": {"webhook": {"url": "http://127.0.0.1:9/h"}}, "query": "x"}, "name"),
    ({"name": "a", "query": "smirnov"}, "channels"),
    ({"name": "a", "query": "smirnov", "channels": {}}, "channel"),
    ({"name": "a", "query": "x", "channels": {"webhook": {"url": "ftp://h/x"}}}, "http"),
    ({"name": "a", "query": "x", "channels": {"pager": {"url": "http://h/"}}}, "pager"),
    ({"name": "a", "query": "x", "channels": {"webhook": "http://h/"}}, "webhook"),
    ({"name": "a", "query": "x", "channels": {"email": {"to": []}}}, "email"),
    ({"name": "a", "query": "x", "channels": {"email": {"to": ["nobody"]}}}, "nobody"),
    ({"name": "a", "channels": {"webhook": {"url": "http://h/"}}}, "watch"),
    ({"name": "a", "query": "x", "mode": "weekly", "channels": {}}, "mode"),
    ({"name": "a", "query": "x", "colour": "red", "channels": {}}, "colour"),
    ({"name": "a", "entity_ids": [999999], "channels": {"ntfy": {"url": "http://h/"}}},
     "999999"),
    ({"name": "a", "feed_ids": ["1"], "channels": {"ntfy": {"url": "http://h/"}}},
     "feed_ids"),
    ({"name": "a", "feed_ids": [999999], "channels": {"ntfy": {"url": "http://h/"}}},
     "999999"),
    ({"name": "a", "categories": "News", "channels": {"ntfy": {"url": "http://h/"}}},
     "categories"),
    ({"name": "12", "query": "x", "channels": {"ntfy": {"url": "http://h/"}}}, "digits"),
    ({"name": 5, "query": "x", "channels": {"ntfy": {"url": "http://h/"}}}, "name"),
    ({"name": "a", "query": "x\x00y", "channels": {"ntfy": {"url": "http://h/"}}}, "NUL"),
    ({"name": "a", "query": "x", "channels": {"ntfy": {"url": "http://h/", "tags": 5}}}, "tags"),
    ({"name": "a", "query": "x", "channels": {"ntfy": {"url": "http://h/", "priority": 9}}},
     "priority"),
]  # fmt: skip


async def test_watchlist_bad_input(env: Env) -> None:
    """Each bad body is a 400 whose message names the problem; nothing is stored."""
    for body, words in BAD_WATCHLISTS:
        answer = await env.client.post("/api/watchlists", json=body, headers=env.auth)
        assert words in _error(answer, 400), body
    assert (await env.get("/api/watchlists")).json() == []


async def test_watchlist_bad_bodies_and_conflicts(env: Env) -> None:
    client, auth = env.client, env.auth
    for raw in (b"", b"{nope", b"[1, 2]"):
        answer = await client.post(
            "/api/watchlists", content=raw, headers={**auth, "content-type": "application/json"}
        )
        _error(answer, 400)
    hook = {"webhook": {"url": "http://127.0.0.1:9/h", "secret": SECRET}}
    first = await client.post(
        "/api/watchlists",
        json={"name": "Mideast", "query": "gaza", "channels": hook},
        headers=auth,
    )
    assert first.status_code == 201, first.text
    again = await client.post(
        "/api/watchlists",
        json={"name": " Mideast ", "query": "hamas", "channels": hook},
        headers=auth,
    )
    assert "Mideast" in _error(again, 409)
    other = await client.post(
        "/api/watchlists",
        json={"name": "Other", "feed_ids": [1], "channels": hook},
        headers=auth,
    )
    assert other.status_code == 201
    clash = await client.patch(
        f"/api/watchlists/{other.json()['id']}", json={"name": "Mideast"}, headers=auth
    )
    _error(clash, 409)
    bad = await client.patch(
        f"/api/watchlists/{other.json()['id']}", json={"enabled": "yes"}, headers=auth
    )
    assert "enabled" in _error(bad, 400)
    cleared = await client.patch(
        f"/api/watchlists/{other.json()['id']}", json={"feed_ids": []}, headers=auth
    )
    _error(cleared, 400)  # nothing left to watch
    names = [w["name"] for w in (await env.get("/api/watchlists")).json()]
    assert names == ["Mideast", "Other"]
    _no_secrets(await env.get("/api/watchlists"))


async def test_watchlist_alerts(env: Env) -> None:
    hook = {"webhook": {"url": "http://127.0.0.1:9/h"}}
    made = (
        await env.client.post(
            "/api/watchlists",
            json={"name": "Smirnov", "entity_ids": [env.entity["Alexander Smirnov"]],
                  "channels": hook},
            headers=env.auth,
        )
    ).json()  # fmt: skip
    start = datetime(2024, 2, 28, 8, 0, tzinfo=UTC)
    with write_transaction(env.desk.store.engine) as conn:
        conn.execute(
            insert(alerts),
            [
                {
                    "watchlist_id": made["id"],
                    "entry_id": env.ids[name],
                    "channel": "webhook",
                    "status": status,
                    "attempts": attempts,
                    "error": error,
                    "created_at": start + timedelta(minutes=i),
                    "sent_at": start + timedelta(minutes=i) if status == "sent" else None,
                }
                for i, (name, status, attempts, error) in enumerate(
                    [
                        ("palace", "sent", 1, None),
                        ("palace_post", "failed", 5, "connection refused"),
                        ("fbi_post", "pending", 0, None),
                    ]
                )
            ],
        )
    answer = await env.get(f"/api/watchlists/{made['id']}/alerts")
    assert answer.status_code == 200
    found = answer.json()
    assert [a["entry_id"] for a in found] == [
        env.ids["fbi_post"],
        env.ids["palace_post"],
        env.ids["palace"],
    ]
    assert all(set(a) >= set(openapi.SCHEMAS["Alert"]["required"]) for a in found)
    failed = found[1]
    assert failed["status"] == "failed" and failed["error"] == "connection refused"
    assert failed["attempts"] == 5 and failed["channel"] == "webhook"
    assert found[2]["sent_at"] == "2024-02-28T08:00:00Z"
    only = (await env.get(f"/api/watchlists/{made['id']}/alerts", status="sent")).json()
    assert [a["entry_id"] for a in only] == [env.ids["palace"]]
    one = (await env.get(f"/api/watchlists/{made['id']}/alerts", limit=1)).json()
    assert len(one) == 1
    status = await env.get(f"/api/watchlists/{made['id']}/alerts", status="lost")
    assert "status" in _error(status, 400)
    assert _error(await env.get("/api/watchlists/999999/alerts"), 404)


# -- the real stage ---------------------------------------------------------------------------


async def test_seed_through_the_intel_stage(api_env: ApiEnv) -> None:
    """The API over what the real stage made of the seed (clustering, the entity model,
    timelines): the article and the tweet that shares it are one story; Smirnov is a person
    whose entries and story the API lists."""
    client, auth = api_env.client, api_env.auth
    listed = (await client.get("/api/stories", headers=auth)).json()["stories"]
    article = next(
        e
        for e in (await client.get("/api/entries?kind=article", headers=auth)).json()["entries"]
        if (e["title"] or "").startswith("Premier Palace")
    )
    assert article["story_id"] in {s["id"] for s in listed}
    story = (await client.get(f"/api/stories/{article['story_id']}", headers=auth)).json()
    members = {e["id"]: e for e in story["entries"]}
    assert article["id"] in members and story["size"] == len(members) >= 2
    assert any(e["kind"] == "post" and article["id"] in e["related"] for e in members.values())
    same = (await client.get(f"/api/entries?story_id={story['id']}", headers=auth)).json()
    assert same["total"] == story["size"]

    found = (await client.get("/api/entities?q=smirnov", headers=auth)).json()["entities"]
    assert found and found[0]["kind"] == "person" and "Smirnov" in found[0]["name"]
    smirnov = found[0]["id"]
    detail = (await client.get(f"/api/entities/{smirnov}", headers=auth)).json()
    assert story["id"] in {s["id"] for s in detail["stories"]}
    assert sum(m["entries"] for m in detail["mentions"]) == detail["entry_count"]
    mentioning = (await client.get(f"/api/entities/{smirnov}/entries", headers=auth)).json()
    assert mentioning["total"] == detail["entry_count"] >= 2
    assert article["id"] in {e["id"] for e in mentioning["entries"]}


# -- the document -----------------------------------------------------------------------------


def test_openapi_documents_the_intel_routes() -> None:
    doc = openapi.document()
    for path in (
        "/api/stories",
        "/api/stories/{story_id}",
        "/api/stories/{story_id}/timeline",
        "/api/entities",
        "/api/entities/{entity_id}",
        "/api/entities/{entity_id}/entries",
        "/api/entities/{entity_id}/timeline",
        "/api/watchlists",
        "/api/watchlists/{watchlist_id}",
        "/api/watchlists/{watchlist_id}/alerts",
    ):
        assert path in doc["paths"], path
    names = {p["name"] for p in doc["paths"]["/api/entries"]["get"]["parameters"]}
    assert {"story_id", "entity_id"} <= names
    timeline = doc["paths"]["/api/stories/{story_id}/timeline"]["get"]["responses"]["200"]
    assert set(timeline["content"]) == {"application/json", "text/csv"}
    assert set(doc["paths"]["/api/watchlists/{watchlist_id}"]) == {"get", "patch", "delete"}


def test_intel_answers_match_the_document(filled: tuple[Env, str]) -> None:
    """schemathesis on this module's operations with stories, entities and events in the store
    (the fuzz suite's database has what the seed's refresh made): no 500, every status, media
    type and body as the document says."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis import checks
    from schemathesis.specs.openapi import checks as openapi_checks

    from newsdesk.web.app import create_app

    env, key = filled
    app = create_app(env.desk.settings, desk=env.desk)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    wanted = ("/api/stories", "/api/entities", "/api/watchlists", "/api/entries")
    operations = [
        op
        for op in (result.ok() for result in schema.get_all_operations())
        if op.path.startswith(wanted) and op.path != "/api/entries/state"
    ]
    assert len(operations) >= 14
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers={"X-Auth-Token": key},
                checks=[
                    checks.not_a_server_error,
                    openapi_checks.status_code_conformance,
                    openapi_checks.content_type_conformance,
                    openapi_checks.response_schema_conformance,
                ],
            )

        call()

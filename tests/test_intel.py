"""The intelligence stage end to end, through the CLI on the seed sources: a refresh groups the
tweets with the articles they share into stories, reads the articles' people, organisations and
places and their dated events; the story, entity and timeline commands show them; the stage is
idempotent, degrades cleanly without the entity model, and can be switched off."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from newsdesk.demo import SEED_FEEDS
from newsdesk.demo.server import SampleServer


def _refresh(cli: Any, db: str, server: SampleServer) -> str:
    for path in SEED_FEEDS:
        assert cli("add", server.base + path, "--db", db).code == 0
    result = cli("refresh", "--db", db)
    assert result.code == 0, result.err
    return str(result.out)


def _entries(cli: Any, db: str, *extra: str) -> list[dict[str, Any]]:
    listed = cli("entries", "--json", "--limit", "100", "--db", db, *extra)
    assert listed.code == 0, listed.err
    found: list[dict[str, Any]] = listed.json()
    return found


def test_seed_stories_entities_and_timeline(
    cli: Any, store_url: str, seed_server: SampleServer
) -> None:
    out = _refresh(cli, store_url, seed_server)
    assert "10 entries clustered" in out
    entries = _entries(cli, store_url)
    assert all(e["story_id"] is not None for e in entries)
    by_id = {e["id"]: e for e in entries}

    # Both seed cases: each tweet that shares an article is in that article's story.
    shared = [(e, by_id[r]) for e in entries if e["kind"] == "post" for r in e["related"]]
    assert len(shared) >= 2
    for post, article in shared:
        assert post["story_id"] == article["story_id"], post["content_text"]
    # The three articles are three different stories.
    articles = [e for e in entries if e["kind"] == "article"]
    assert len({a["story_id"] for a in articles}) == 3

    stories = cli("stories", "--json", "--db", store_url)
    assert stories.code == 0, stories.err
    listed = stories.json()
    story_of = {s["id"]: s for s in listed}
    for _post, article in shared:
        story = story_of[article["story_id"]]
        assert story["size"] >= 2
        assert story["lead_entry_id"] == article["id"]
    one = cli("story", str(shared[0][1]["story_id"]), "--json", "--db", store_url).json()
    member_ids = [m["id"] for m in one["entries"]]
    assert shared[0][0]["id"] in member_ids and shared[0][1]["id"] in member_ids
    published = [m["published"] for m in one["entries"]]
    assert published == sorted(published)  # time order
    members = _entries(cli, store_url, "--story", str(shared[0][1]["story_id"]))
    assert {m["id"] for m in members} == set(member_ids)

    # Entities: the people, organisations and places of the articles.
    found = cli("entities", "--json", "--limit", "500", "--db", store_url).json()
    names = {e["name"] for e in found}
    for name in ("Smirnov", "Hamas", "FBI", "Russia", "Israel", "Moscow"):
        assert any(name in n for n in names), (name, sorted(names))
    smirnov = cli("entity", "Smirnov", "--json", "--db", store_url)
    assert smirnov.code == 0, smirnov.err
    data = smirnov.json()
    assert data["kind"] == "person"
    assert data["stories"], "Smirnov's stories"
    assert data["co_mentions"], "who is mentioned with Smirnov"
    mentioning = _entries(cli, store_url, "--entity", "Smirnov")
    assert mentioning and all(e["id"] in by_id for e in mentioning)

    # Timeline: the dated bullets of the Premier Palace article, as CSV.
    timeline = cli("timeline", "--entity", "Smirnov", "--format", "csv", "--db", store_url)
    assert timeline.code == 0, timeline.err
    rows = list(csv.DictReader(io.StringIO(timeline.out)))
    assert any(r["date"] == "2023-08-01" and r["precision"] == "month" for r in rows), rows[:5]
    assert all(r["entry_id"] for r in rows)
    story_events = cli(
        "timeline", "--story", str(articles[0]["story_id"]), "--format", "json", "--db", store_url
    )
    assert story_events.code == 0, story_events.err

    # The stage is idempotent: a second pass reads nothing again, changes no story.
    again = cli("intel", "--json", "--db", store_url)
    assert again.code == 0, again.err
    report = again.json()
    assert report["read"] == 0
    assert report["joined"] == 0 and report["new_stories"] == 0
    assert [e["story_id"] for e in _entries(cli, store_url)] == [e["story_id"] for e in entries]


def test_missing_entity_model_is_a_clear_note_not_a_crash(
    cli: Any, sqlite_url: str, seed_server: SampleServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSDESK_ENTITY_MODEL", "no_such_model")
    out = _refresh(cli, sqlite_url, seed_server)
    assert "entities skipped" in out and "no_such_model" in out
    assert "NEWSDESK_ENTITY_MODEL" in out
    # Stories and timelines still work without the model.
    entries = _entries(cli, sqlite_url)
    assert all(e["story_id"] is not None for e in entries)
    found = cli("entities", "--json", "--db", sqlite_url).json()
    assert found == []
    # Installing/choosing the model later: `newsdesk intel` reads what was skipped.
    monkeypatch.delenv("NEWSDESK_ENTITY_MODEL")
    report = cli("intel", "--json", "--db", sqlite_url).json()
    assert report["entities_read"] == len(entries)
    assert cli("entities", "--json", "--db", sqlite_url).json()


def test_switched_off(
    cli: Any, sqlite_url: str, seed_server: SampleServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("STORIES", "ENTITIES", "TIMELINES", "ALERTS"):
        monkeypatch.setenv(f"NEWSDESK_{name}", "0")
    out = _refresh(cli, sqlite_url, seed_server)
    assert "clustered" not in out
    entries = _entries(cli, sqlite_url)
    assert all(e["story_id"] is None for e in entries)
    assert cli("entities", "--json", "--db", sqlite_url).json() == []


def test_unknown_story_and_entity_are_clear_errors(cli: Any, sqlite_url: str) -> None:
    missing = cli("story", "999", "--db", sqlite_url)
    assert missing.code == 1 and "no story with id 999" in missing.err
    nobody = cli("entity", "Nobody Atall", "--db", sqlite_url)
    assert nobody.code == 1 and "no entity named" in nobody.err
    both = cli("timeline", "--db", sqlite_url)
    assert both.code == 1 and "--story" in both.err


def test_a_big_batch_is_left_to_the_background_job(
    cli: Any, sqlite_url: str, seed_server: SampleServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSDESK_INTEL_INLINE_MAX", "5")
    out = _refresh(cli, sqlite_url, seed_server)
    assert "10 entries left for the background job" in out and "newsdesk intel" in out
    assert all(e["story_id"] is None for e in _entries(cli, sqlite_url))
    report = cli("intel", "--json", "--db", sqlite_url).json()
    assert report["clustered"] == 10 and report["read"] == 10
    entries = _entries(cli, sqlite_url)
    assert all(e["story_id"] is not None for e in entries)
    shared = [(e, r) for e in entries if e["kind"] == "post" for r in e["related"]]
    by_id = {e["id"]: e for e in entries}
    assert shared and all(p["story_id"] == by_id[r]["story_id"] for p, r in shared)

"""Issue 15, intel as each person sees it: stories, entities and timelines are computed once
over every entry and shown to a person over the entries they see; watchlists and their alerts
are a person's own. Alice follows one feed, Bob another; a story spans both."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from newsdesk.alerts import match_entries
from newsdesk.errors import EntityNotFoundError, NewsdeskError
from newsdesk.model import Event, FoundEntity
from newsdesk.store import open_store
from newsdesk.store.engine import write_transaction
from newsdesk.store.entities import replace_mentions
from newsdesk.store.events import replace_events
from newsdesk.store.schema import alerts, entries
from newsdesk.store.sql import SqlStore
from newsdesk.store.stories import assign_stories, create_stories, refresh_stories
from newsdesk.store.watchlists import WatchlistNotFoundError

PASSWORD = "correct horse battery staple 42"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SMIRNOV = FoundEntity("person", "alexander smirnov", "Alexander Smirnov", ("Smirnov",), 2, 0)
FBI = FoundEntity("org", "fbi", "FBI", ("FBI",), 1, 0)
HOOK = {"webhook": {"url": "https://hooks.example.org/in"}}
_keys = itertools.count(1)


@dataclass
class Team:
    store: SqlStore  # the system's view
    alice: SqlStore
    bob: SqlStore
    alpha: int  # Alice's feed
    beta: int  # Bob's feed
    shared: int  # the story with members in both feeds
    bobs: int  # a story only Bob sees
    a1: int
    b1: int
    b2: int


def _entry(store: SqlStore, feed_id: int, title: str, minutes: int) -> int:
    n = next(_keys)
    when = T0 + timedelta(minutes=minutes)
    with write_transaction(store.engine) as conn:
        result = conn.execute(
            insert(entries).values(
                feed_id=feed_id,
                key=f"k{n}",
                url=f"https://news.example/{n}",
                url_canonical=f"https://news.example/{n}",
                title=title,
                kind="article",
                published=when,
                first_seen=when,
                content_html=f"<p>{title}</p>",
                content_text=title,
                content_hash=hashlib.sha256(f"{n}{title}".encode()).hexdigest(),
                tags=[],
                links=[],
                enclosures=[],
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


@pytest.fixture
def team(store_url: str) -> Iterator[Team]:
    store = open_store(store_url)
    alice = store.as_person(store.users.add_user("alice", PASSWORD, "member").id)
    bob = store.as_person(store.users.add_user("bob", PASSWORD, "member").id)
    alpha = alice.add_feed("https://alpha.example/feed", title="Alpha", category="World").id
    beta = bob.add_feed("https://beta.example/feed", title="Beta", category="World").id
    a1 = _entry(store, alpha, "Smirnov charged, Alpha says", 1)
    b1 = _entry(store, beta, "Smirnov charged: the FBI on the informant, Beta says", 2)
    b2 = _entry(store, beta, "FBI statement on Smirnov", 3)
    b3 = _entry(store, beta, "Chips", 4)
    b4 = _entry(store, beta, "More chips", 5)
    with write_transaction(store.engine) as conn:
        shared, bobs = create_stories(conn, 2, T0, T0)
        assign_stories(conn, {a1: shared, b1: shared, b2: shared, b3: bobs, b4: bobs})
        refresh_stories(conn, [shared, bobs], T0)
        replace_mentions(conn, a1, T0, [SMIRNOV])
        surfaces = replace_mentions(conn, b1, T0, [SMIRNOV, FBI])
        replace_mentions(conn, b2, T0, [FBI])
        said = Event("2026-02-27", "day", "On 27 February the FBI charged Smirnov.", 0)
        replace_events(conn, b1, [said], surfaces)
    yield Team(store.as_system(), alice, bob, alpha, beta, shared, bobs, a1, b1, b2)
    store.close()


def test_a_story_shows_each_person_only_their_members(team: Team) -> None:
    everyone = team.store.stories.get_story(team.shared)
    assert everyone is not None and (everyone.size, everyone.sources) == (3, 2)
    for_bob = team.bob.stories.get_story(team.shared)
    assert for_bob is not None and (for_bob.size, for_bob.sources) == (2, 1)
    assert team.bob.stories.story_member_ids(team.shared) == [team.b1, team.b2]
    assert for_bob.lead_entry_id in (team.b1, team.b2)
    for_alice = team.alice.stories.get_story(team.shared)
    assert for_alice is not None and (for_alice.size, for_alice.sources) == (1, 1)
    assert for_alice.lead_entry_id == team.a1 and for_alice.title == "Smirnov charged, Alpha says"
    assert team.alice.stories.story_member_ids(team.shared) == [team.a1]
    # A story with no member Alice sees does not exist for her.
    assert team.alice.stories.get_story(team.bobs) is None
    assert team.alice.stories.story_member_ids(team.bobs) == []
    assert team.alice.stories.story_summaries([team.shared, team.bobs]).keys() == {team.shared}
    assert [s.id for s in team.alice.stories.list_stories(min_size=1)] == [team.shared]
    assert team.alice.stories.list_stories(min_size=2) == []
    assert {s.id for s in team.bob.stories.list_stories()} == {team.shared, team.bobs}
    # Her river's card members are hers, her read state.
    members = team.alice.intel.story_members([team.shared, team.bobs], 100)
    assert [(m.id, m.feed_title, m.read) for m in members] == [(team.a1, "Alpha", False)]


def test_marking_a_story_marks_only_what_the_person_sees_for_them(team: Team) -> None:
    assert team.bob.reading.mark_story(team.shared, True) == 2
    assert team.bob.reading.mark_story(team.shared, True) == 0
    assert [m.read for m in team.bob.intel.story_members([team.shared], 10)] == [True, True]
    assert [m.read for m in team.alice.intel.story_members([team.shared], 10)] == [False]
    assert team.alice.reading.mark_story(team.bobs, True) == 0


def test_timelines_are_told_by_the_entries_a_person_sees(team: Team) -> None:
    assert [e.entry_id for e in team.bob.events.story_timeline(team.shared)] == [team.b1]
    assert [e.feed_title for e in team.bob.events.story_timeline(team.shared)] == ["Beta"]
    assert team.alice.events.story_timeline(team.shared) == []
    assert team.alice.events.entry_events(team.b1) == []
    fbi = team.bob.entities.resolve("FBI")
    assert len(team.bob.events.entity_timeline(fbi.id)) == 1
    assert team.alice.events.entity_timeline(fbi.id) == []


def test_entities_are_counted_per_person(team: Team) -> None:
    smirnov = team.store.entities.resolve("Alexander Smirnov")
    assert (smirnov.entry_count, smirnov.mention_count) == (2, 4)
    for_alice = team.alice.entities.resolve("Smirnov")
    assert (for_alice.id, for_alice.entry_count, for_alice.mention_count) == (smirnov.id, 1, 2)
    assert team.bob.entities.resolve(smirnov.id).entry_count == 1
    fbi = team.store.entities.resolve("FBI")
    # Only Bob's entries name the FBI: Alice has no such entity.
    assert team.alice.entities.get_entity(fbi.id) is None
    with pytest.raises(EntityNotFoundError):
        team.alice.entities.resolve("FBI")
    assert team.alice.entities.find_entities("fbi") == []
    assert [(e.name, e.entry_count) for e in team.alice.entities.list_entities()] == [
        ("Alexander Smirnov", 1)
    ]
    assert [(e.name, e.entry_count) for e in team.bob.entities.list_entities()] == [
        ("FBI", 2),
        ("Alexander Smirnov", 1),
    ]
    assert team.alice.entities.co_mentions(smirnov.id) == []
    assert [(e.name, n) for e, n in team.bob.entities.co_mentions(smirnov.id)] == [("FBI", 1)]
    nodes, edges = team.alice.entities.co_mention_graph(smirnov.id)
    assert [n.id for n in nodes] == [smirnov.id] and edges == []
    assert team.alice.entities.co_mention_graph(fbi.id) == ([], [])
    assert sum(n for _, n in team.alice.entities.mentions_over_time(smirnov.id)) == 1
    assert team.alice.entities.entity_story_ids(fbi.id) == []
    assert team.bob.entities.entity_story_ids(fbi.id) == [team.shared]
    on_b1 = team.alice.entities.entities_for_entries([team.a1, team.b1])
    assert on_b1[team.b1] == [] and [e.entry_count for e in on_b1[team.a1]] == [1]


def test_a_watchlist_alerts_only_on_what_its_owner_sees(team: Team) -> None:
    made = T0 - timedelta(hours=1)
    alices = team.alice.watchlists.create_watchlist(
        name="Smirnov", query="smirnov", channels=HOOK, now=made
    )
    bobs = team.bob.watchlists.create_watchlist(
        name="Smirnov", query="smirnov", channels=HOOK, now=made
    )
    by_category = team.alice.watchlists.create_watchlist(
        name="World", categories=["world"], channels=HOOK, now=made
    )
    assert by_category.categories == ("World",)
    assert match_entries(team.store.alerts, [team.a1, team.b1, team.b2]) > 0
    with team.store.engine.connect() as conn:
        pairs = {(r.watchlist_id, r.entry_id) for r in conn.execute(select(alerts))}
    assert pairs == {
        (alices.id, team.a1),
        (by_category.id, team.a1),
        (bobs.id, team.b1),
        (bobs.id, team.b2),
    }
    assert {a.entry_id for a in team.alice.watchlists.list_alerts()} == {team.a1}
    assert team.alice.watchlists.alert_counts()["pending"] == 2
    assert team.bob.watchlists.alert_counts()["pending"] == 2
    # A feed she does not follow cannot be watched.
    with pytest.raises(NewsdeskError, match="no feed with id"):
        team.alice.watchlists.create_watchlist(name="Beta", feed_ids=[team.beta], channels=HOOK)


def test_another_persons_watchlist_and_alerts_do_not_exist(team: Team) -> None:
    theirs = team.alice.watchlists.create_watchlist(
        name="Private", query="smirnov", channels=HOOK, now=T0 - timedelta(hours=1)
    )
    match_entries(team.store.alerts, [team.a1])
    assert team.bob.watchlists.list_watchlists() == []
    assert team.bob.watchlists.get_watchlist(theirs.id) is None
    assert team.bob.watchlists.get_watchlist("Private") is None
    with pytest.raises(WatchlistNotFoundError):
        team.bob.watchlists.require_watchlist(theirs.id)
    with pytest.raises(WatchlistNotFoundError):
        team.bob.watchlists.update_watchlist(theirs.id, name="Mine now")
    assert team.bob.watchlists.delete_watchlist(theirs.id) is False
    assert team.bob.watchlists.list_alerts() == []
    assert team.bob.watchlists.list_alerts(watchlist_id=theirs.id) == []
    assert sum(team.bob.watchlists.alert_counts(theirs.id).values()) == 0
    # Bob may use the same name for his own; Alice's is untouched.
    team.bob.watchlists.create_watchlist(name="Private", query="chips", channels=HOOK)
    kept = team.alice.watchlists.require_watchlist("Private")
    assert kept.id == theirs.id and kept.query == "smirnov"
    assert len(team.alice.watchlists.list_alerts()) == 1


def test_the_cli_takes_user(team: Team, cli: Any, store_url: str) -> None:
    run = cli  # the conftest's in-process runner
    db = ("--db", store_url)
    listed = run("stories", "--user", "alice", "--min-size", "1", "--json", *db)
    assert listed.code == 0 and [s["id"] for s in listed.json()] == [team.shared]
    assert listed.json()[0]["size"] == 1
    hidden = run("story", str(team.bobs), "--user", "alice", *db)
    assert hidden.code == 1 and "no story" in hidden.err
    hidden = run("timeline", "--story", str(team.bobs), "--user", "alice", *db)
    assert hidden.code == 1 and "no story" in hidden.err
    names = run("entities", "--user", "alice", "--json", *db)
    assert [e["name"] for e in names.json()] == ["Alexander Smirnov"]
    assert run("entity", "FBI", "--user", "alice", *db).code == 1
    added = run(
        "watch", "add", "mine", "--query", "smirnov", "--webhook", "https://h.example/in",
        "--user", "bob", *db,
    )  # fmt: skip
    assert added.code == 0, added.err
    assert "mine" in run("watch", "list", "--user", "bob", *db).out
    assert "mine" not in run("watch", "list", "--user", "alice", *db).out
    gone = run("watch", "remove", "mine", "--user", "alice", *db)
    assert gone.code == 1 and "no watchlist" in gone.err
    assert run("alerts", "list", "--user", "alice", *db).code == 0

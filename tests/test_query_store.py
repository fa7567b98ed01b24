"""The query language against the store (docs/query.md), on SQLite and PostgreSQL: search,
``matching_ids`` and ``count_matching`` agree, every kind of term finds what it says, a person
sees only their own entries, labels and categories."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from newsdesk.model import Entry
from newsdesk.query import QueryError, parse
from newsdesk.store import EntryQuery, open_store
from newsdesk.store.protocols.refresh import FeedState
from newsdesk.store.schema import entry_filings
from newsdesk.store.sql import SqlStore

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
EVERY = EntryQuery(limit=100)
POLITICS = "http://paper.example/politics"
TECH = "http://blog.example/tech"
BOBS = "http://bob.example/feed"


def _entry(key: str, title: str, text: str, *, hours: int, **kw: object) -> Entry:
    values: dict[str, object] = dict(
        key=key,
        url=f"http://example.org/{key}",
        title=title,
        author="Ann Smith",
        kind="article",
        published=NOW - timedelta(hours=hours),
        updated=None,
        content_html=f"<p>{text}</p>",
        content_text=text,
        summary_html=None,
        content_hash=f"{abs(hash(key + title + text)):064d}"[:64],
        tags=[],
    )
    values.update(kw)
    return Entry(**values)  # type: ignore[arg-type]


@dataclass
class World:
    store: SqlStore
    alice: SqlStore
    bob: SqlStore
    ids: dict[str, int]

    def titles(self, ids: list[int]) -> list[str]:
        key = {v: k for k, v in self.ids.items()}
        return [key[i] for i in ids]

    def match(self, query: str, view: SqlStore | None = None) -> list[str]:
        view = view or self.alice
        found = self.titles(view.matching_ids(query))
        assert view.count_matching(query) == len(found)
        assert view.matching_ids(parse(query), among=list(self.ids.values())) == [
            self.ids[k] for k in found
        ]
        return found


@pytest.fixture
def world(store_url: str) -> Iterator[World]:
    store = open_store(store_url)
    admin = store.users.person()
    store.users.setup_owner("alice", "alice-password")
    bob_user = store.users.add_user("bob", "bob-password", role="member")
    alice, bob = store.as_person(admin.id), store.as_person(bob_user.id)
    politics = alice.add_feed(POLITICS, title="Guardian Politics", category="World")
    tech = alice.add_feed(TECH, category="Tech")
    bobs = bob.add_feed(BOBS, category="World")
    system = store.as_system()
    state = FeedState(last_fetched=NOW, last_status=200)
    ids: dict[str, int] = {}
    batches = {
        politics.id: [
            _entry("smirnov", "Smirnov detention hearing", "The judge ruled on bail.", hours=1),
            _entry("court", "Court of appeal", "Smirnov was not there. Café talk.", hours=2),
            _entry("budget", "Budget vote", "The house voted on the budget.", hours=3),
            _entry("crypto", "Bitcoin falls", "Crypto markets fell.", hours=4, author="Bo Li"),
        ],
        tech.id: [
            _entry("rust", "Rust 2.0 released", "The house of Rust voted.", hours=5, kind="post"),
            _entry("python", "Python news", "Bitcoin and python.", hours=6, tags=["lang"]),
        ],
        bobs.id: [_entry("bob", "Smirnov for Bob", "Only Bob sees this.", hours=7)],
    }
    for feed_id, batch in batches.items():
        new = system.save_refresh(feed_id, state, batch, NOW).new_ids
        ids.update(zip((e.key for e in batch), new, strict=True))
    yield World(store, alice, bob, ids)
    store.close()


def test_words_phrases_not_and_or(world: World) -> None:
    assert world.match("smirnov") == ["smirnov", "court"]
    assert world.match("smir") == ["smirnov", "court"]  # the last word is a prefix
    assert world.match("smirnov -judge") == ["court"]
    assert world.match("-smirnov -bitcoin") == ["budget", "rust"]
    assert world.match("bitcoin OR judge") == ["smirnov", "crypto", "python"]
    assert world.match('"the house voted"') == ["budget"]
    assert world.match("house voted") == ["budget", "rust"]
    assert world.match('-"house voted"') == ["smirnov", "court", "crypto", "rust", "python"]
    assert world.match('"voted the house"') == []
    assert world.match("cafe") == ["court"]  # accents ignored
    assert world.match('"CAFÉ talk"') == ["court"]
    assert world.match("(bitcoin OR judge) -python") == ["smirnov", "crypto"]
    assert world.match('"house voted" OR rust') == ["budget", "rust"]
    assert world.match('-("house voted" OR crypto)') == ["smirnov", "court", "rust", "python"]


def test_field_filters(world: World) -> None:
    assert world.match("title:smirnov") == ["smirnov"]
    assert world.match('title:"detention hearing"') == ["smirnov"]
    assert world.match("author:li") == ["crypto"]
    assert world.match("-author:smith") == ["crypto"]
    assert world.match("kind:post") == ["rust"]
    assert world.match("feed:guardian") == ["smirnov", "court", "budget", "crypto"]
    assert world.match(f"feed:{world.alice.get_feed(TECH).id} house") == ["rust"]
    assert world.match("feed:blog.example") == ["rust", "python"]
    assert world.match("category:world smirnov") == ["smirnov", "court"]
    assert world.match("category:tech OR bitcoin") == ["crypto", "rust", "python"]
    assert world.match("tag:lang") == ["python"]
    assert world.match("category:nowhere") == []


def test_labels_filings_and_entities_are_the_persons(world: World) -> None:
    alice_id = world.alice.require_person()
    world.alice.labels.add_label([world.ids["budget"]], "Later")
    assert world.match("tag:Later") == ["budget"]
    assert world.match("tag:Later", world.bob) == []
    tech = world.alice.get_feed(TECH)
    with world.store.engine.begin() as conn:
        conn.execute(
            insert(entry_filings).values(
                user_id=alice_id, entry_id=world.ids["crypto"], category_id=tech.category_id
            )
        )
    assert world.match("category:Tech") == ["crypto", "rust", "python"]
    assert world.match("category:Tech", world.bob) == []


def test_regexes(world: World) -> None:
    assert world.match('title~"(?i)SMIRNOV"') == ["smirnov"]
    assert world.match('title~"^Smirnov"') == ["smirnov"]
    assert world.match('text~"\\d\\.\\d"') == []
    assert world.match('title~"\\d\\.\\d"') == ["rust"]
    assert world.match("url~/python$") == ["python"]
    assert world.match('author~"^Bo "') == ["crypto"]
    assert world.match('title~"o" -title~"^[BC]"') == ["smirnov", "python"]
    assert world.match('smirnov OR title~"^Bit"') == ["smirnov", "court", "crypto"]
    assert world.match('-title~"o"') == ["rust"]


def test_a_person_sees_only_their_own(world: World) -> None:
    assert world.match("smirnov", world.bob) == ["bob"]
    assert world.match('title~"Smirnov"', world.bob) == ["bob"]
    assert world.bob.matching_ids("smirnov", among=[world.ids["smirnov"]]) == []
    assert [e.title for e in world.bob.search("smirnov", EVERY)] == ["Smirnov for Bob"]


def test_search_ranks_and_lists(world: World) -> None:
    found = world.alice.search("smirnov -bail", EVERY)
    assert [e.title for e in found] == ["Court of appeal"]
    assert found[0].snippet is not None
    listed = world.alice.search("kind:article feed:guardian", EntryQuery(limit=2, offset=1))
    assert [e.title for e in listed] == ["Court of appeal", "Budget vote"]
    assert [e.title for e in world.alice.search('"house voted"', EVERY)] == ["Budget vote"]
    assert [e.title for e in world.alice.search('title~"^B"', EntryQuery(limit=1))] == [
        "Budget vote"
    ]
    assert world.alice.search('"; DROP TABLE entries; --', EVERY) == []
    assert world.alice.search("smirnov", EntryQuery(kind="post")) == []


def test_limits_and_among(world: World) -> None:
    assert world.titles(world.alice.matching_ids("-zzz", limit=2)) == ["smirnov", "court"]
    assert world.titles(world.alice.matching_ids('title~"o"', limit=2)) == ["smirnov", "court"]
    among = [world.ids["python"], world.ids["court"]]
    assert world.titles(world.alice.matching_ids("bitcoin OR smirnov", among=among)) == [
        "court",
        "python",
    ]
    assert world.alice.matching_ids("smirnov", among=[]) == []
    assert world.alice.count_matching('"house of rust" OR bitcoin', EntryQuery(kind="post")) == 1
    assert (
        world.alice.count_matching(
            "house OR bitcoin", EntryQuery(feed_id=world.alice.get_feed(TECH).id)
        )
        == 2
    )
    assert world.alice.matching_ids("") == [] and world.alice.count_matching(" ") == 0


def test_bad_queries_say_why(world: World) -> None:
    with pytest.raises(QueryError, match=r'title~"\(a\+": invalid regular expression'):
        world.alice.matching_ids('title~"(a+"')
    with pytest.raises(QueryError, match="kind is one of post, article"):
        world.alice.search("kind:video", EVERY)


def test_a_hostile_pattern_on_a_long_title_is_linear(world: World) -> None:
    """re2 runs in linear time: no backtracking however the pattern nests (a backtracking
    engine would take longer than the universe's age on this title)."""
    feed = world.alice.get_feed(POLITICS)
    title = "a" * 50_000 + "!"
    state = FeedState(last_fetched=NOW, last_status=200)
    (new,) = (
        world.store.as_system()
        .save_refresh(feed.id, state, [_entry("long", title, "x", hours=0)], NOW)
        .new_ids
    )
    assert world.alice.matching_ids('title~"(a+)+$"', among=[new]) == []
    assert world.alice.matching_ids('title~"(a+)+!$"') == [new]


def test_watchlists_and_saved_searches_speak_the_language(world: World) -> None:
    from newsdesk.alerts.match import match_entries

    past = NOW - timedelta(days=1)
    hook = {"webhook": {"url": "http://127.0.0.1:9/hook"}}
    mine = world.alice.watchlists.create_watchlist(
        name="Smirnov", query='(smirnov -bail) OR title~"^Bit"', channels=hook, now=past
    )
    labelled = world.alice.watchlists.create_watchlist(
        name="Later", query="tag:Later", channels=hook, now=past
    )
    world.alice.labels.add_label([world.ids["rust"]], "Later")
    theirs = world.bob.watchlists.create_watchlist(
        name="Bob's", query="tag:Later OR smirnov", channels=hook, now=past
    )
    assert match_entries(world.store.alerts, list(world.ids.values())) == 4
    alerted = {
        (w, world.titles([a.entry_id])[0])
        for w in (mine.id, labelled.id, theirs.id)
        for a in world.store.as_system().watchlists.list_alerts(watchlist_id=w)
    }
    assert alerted == {
        (mine.id, "court"),
        (mine.id, "crypto"),
        (labelled.id, "rust"),
        (theirs.id, "bob"),
    }
    with pytest.raises(QueryError, match="invalid regular expression"):
        world.alice.watchlists.create_watchlist(name="Bad", query='url~"("', channels=hook)
    with pytest.raises(QueryError, match="kind is one of"):
        world.alice.saved_searches.save_search("Videos", "kind:video", {})
    saved = world.alice.saved_searches.save_search("Posts", "kind:post house", {})
    assert [e.title for e in world.alice.search(saved.query, EVERY)] == ["Rust 2.0 released"]

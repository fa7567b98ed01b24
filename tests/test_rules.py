"""Issue 16, rules: each action at ingest (a real refresh from a loopback feed server) and
applied later to stored entries, on SQLite and PostgreSQL. Alice and Bob follow the same feed;
Alice's rules change only what Alice sees."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from newsdesk.desk import Desk
from newsdesk.errors import NewsdeskError
from newsdesk.model import StoredEntry
from newsdesk.refresh import RefreshReport
from newsdesk.settings import Settings, load_settings
from newsdesk.store import open_store
from newsdesk.store.protocols.refresh import EntryQuery
from newsdesk.store.sync import SyncQuery
from routes_server import Answer, RoutesServer

PASSWORD = "a long enough pass phrase 16"
STORIES = (
    ("smirnov", "Smirnov indicted in Chicago", "The informant Alexander Smirnov was charged."),
    ("weather", "Weather for Tuesday", "Rain in the morning, sun in the afternoon."),
    ("match", "Local team wins the cup", "A late goal settled the final."),
)


def feed_xml(items: tuple[tuple[str, str, str], ...], edition: int = 1) -> bytes:
    parts = "".join(
        f"<item><title>{title}</title><link>https://news.example/{key}</link>"
        f"<guid>{key}</guid><description>{text} (edition {edition})</description>"
        f"<pubDate>Tue, 27 Feb 2024 1{i}:00:00 GMT</pubDate></item>"
        for i, (key, title, text) in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Wire</title>'
        f"<link>https://news.example/</link>{parts}</channel></rss>"
    ).encode()


@dataclass
class Desks:
    system: Desk
    alice: Desk
    bob: Desk
    server: RoutesServer
    path: str = "/wire.rss"

    def serve(self, items: tuple[tuple[str, str, str], ...] = STORIES, edition: int = 1) -> None:
        self.server.route(self.path, Answer(feed_xml(items, edition)))

    async def refresh(self) -> None:
        await self.system.refresh_async()

    async def refresh_report(self) -> RefreshReport:
        return await self.system.refresh_async()

    def entry(self, desk: Desk, key: str) -> StoredEntry:
        """The entry as ``desk``'s person sees it (the system's: as stored)."""
        for e in desk.store.as_system().list_entries(EntryQuery(limit=100)):
            if e.url == f"https://news.example/{key}":
                return desk.store.get_entry(e.id) if desk.person is not None else e
        raise AssertionError(f"no entry {key}")

    def keys(self, desk: Desk, query: EntryQuery | None = None) -> set[str]:
        seen = desk.store.list_entries(query or EntryQuery(limit=100))
        return {(e.url or "").rsplit("/", 1)[1] for e in seen}


def rule_settings(store_url: str, **overrides: object) -> Settings:
    """The intel stage as it runs after every refresh, without the slow parts (the entity
    model, clustering) that rules do not need."""
    return load_settings(
        env={},
        database_url=store_url,
        allow_private_networks=True,
        entities=False,
        fulltext=False,
        expand_links=False,
        **overrides,
    )


@pytest.fixture
def desks(store_url: str, server: RoutesServer) -> Iterator[Desks]:
    system = Desk(rule_settings(store_url), open_store(store_url))
    url = server.base + "/wire.rss"
    people = []
    for name in ("alice", "bob"):
        user = system.store.users.add_user(name, PASSWORD)
        desk = system.as_person(user)
        desk.store.add_feeds([(url, None, "News")])
        people.append(desk)
    found = Desks(system, people[0], people[1], server)
    found.serve()
    yield found
    system.close()


async def _apply(desks: Desks, actions: str, when: str, query: str = "smirnov") -> int:
    """The rule at ingest (made before the refresh) or later (applied after it); returns how
    many entries applying it later changed (at ingest: what the rule counted)."""
    if when == "ingest":
        rule = desks.alice.add_rule(query, actions)
        await desks.refresh()
        return desks.alice.rule(rule.id).matched
    await desks.refresh()
    rule = desks.alice.add_rule(query, actions)
    return desks.alice.apply_rule(rule.id)


WHEN = ["ingest", "later"]


@pytest.mark.parametrize("when", WHEN)
async def test_block_hides_the_entry_from_its_person_everywhere(desks: Desks, when: str) -> None:
    assert await _apply(desks, "block", when) == 1
    alice, bob = desks.alice, desks.bob
    assert desks.keys(alice) == {"weather", "match"}
    assert desks.keys(bob) == {"smirnov", "weather", "match"}
    assert alice.store.count_entries(EntryQuery()) == 2
    assert alice.search("Smirnov", EntryQuery()) == []
    assert [e.title for e in bob.search("Smirnov", EntryQuery())] == [STORIES[0][1]]
    assert desks.keys(alice, EntryQuery(category="News", limit=100)) == {"weather", "match"}
    hidden = desks.entry(desks.system, "smirnov").id
    with pytest.raises(NewsdeskError):
        alice.store.get_entry(hidden)
    # the reader APIs' streams (Google Reader, Miniflux, Fever)
    assert hidden not in alice.store.sync.entry_ids(SyncQuery())
    assert alice.store.sync.count_entries(SyncQuery()) == 2
    assert hidden in bob.store.sync.entry_ids(SyncQuery())
    # the person's own state changes pass it by
    assert alice.store.set_flags([hidden], starred=True) == 0
    # blocked entries are read: the unread counts leave them out
    assert dict((t, n) for _, t, n in alice.store.reading.unread_by_category()) == {"News": 2}
    assert dict((t, n) for _, t, n in bob.store.reading.unread_by_category()) == {"News": 3}


@pytest.mark.parametrize("when", WHEN)
async def test_read_marks_the_entry_read_for_its_person(desks: Desks, when: str) -> None:
    assert await _apply(desks, "read", when) == 1
    assert desks.entry(desks.alice, "smirnov").read
    assert not desks.entry(desks.alice, "weather").read
    assert not desks.entry(desks.bob, "smirnov").read
    assert desks.keys(desks.alice, EntryQuery(read=False, limit=100)) == {"weather", "match"}


@pytest.mark.parametrize("when", WHEN)
async def test_star_stars_the_entry_for_its_person(desks: Desks, when: str) -> None:
    assert await _apply(desks, "star", when) == 1
    assert desks.entry(desks.alice, "smirnov").starred
    assert not desks.entry(desks.alice, "smirnov").read
    assert not desks.entry(desks.bob, "smirnov").starred
    assert desks.keys(desks.alice, EntryQuery(starred=True, limit=100)) == {"smirnov"}


@pytest.mark.parametrize("when", WHEN)
async def test_tag_puts_the_persons_label_on_the_entry(desks: Desks, when: str) -> None:
    assert await _apply(desks, "tag:Smirnov case", when) == 1
    found = desks.entry(desks.alice, "smirnov").id
    assert desks.alice.store.labels.labels_of([found]) == {found: ["Smirnov case"]}
    assert desks.bob.store.labels.labels_of([found]) == {}


@pytest.mark.parametrize("when", WHEN)
async def test_category_files_the_entry_in_the_persons_category(desks: Desks, when: str) -> None:
    assert await _apply(desks, "category:Crime", when) == 1
    alice, bob = desks.alice, desks.bob
    assert desks.keys(alice, EntryQuery(category="Crime", limit=100)) == {"smirnov"}
    assert alice.store.count_entries(EntryQuery(category="Crime")) == 1
    assert desks.keys(alice, EntryQuery(category="News", limit=100)) == {
        "smirnov",
        "weather",
        "match",
    }
    counts = {t: n for _, t, n in alice.store.reading.unread_by_category()}
    assert counts == {"Crime": 1, "News": 3}
    assert {t for _, t, _ in bob.store.reading.unread_by_category()} == {"News"}
    assert desks.keys(bob, EntryQuery(category="Crime", limit=100)) == set()
    # the reader APIs' category stream
    crime = next(c for c, t, _ in alice.store.reading.unread_by_category() if t == "Crime")
    filed = desks.entry(desks.system, "smirnov").id
    assert alice.store.sync.entry_ids(SyncQuery(category_id=crime)) == [filed]


@pytest.mark.parametrize("when", WHEN)
async def test_alert_raises_an_alert_on_the_persons_watchlist(
    desks: Desks, when: str, server: RoutesServer
) -> None:
    hook = server.route("/hook", Answer(b"", 204))
    # a watchlist whose own words match nothing: the alert comes from the rule
    watch = desks.alice.store.watchlists.create_watchlist(
        name="Court cases", query="zzzunmatched", channels={"webhook": {"url": hook}}
    )
    assert await _apply(desks, "alert:court cases", when) == 1
    found = desks.alice.store.watchlists.list_alerts(watchlist_id=watch.id)
    assert [(a.entry_title, a.channel) for a in found] == [(STORIES[0][1], "webhook")]
    # once per entry and channel: applying again adds none
    rule = desks.alice.rules()[0]
    assert desks.alice.apply_rule(rule.id) == 0
    assert len(desks.alice.store.watchlists.list_alerts(watchlist_id=watch.id)) == 1


async def test_a_blocked_entry_stays_blocked_when_the_feed_is_fetched_again(
    desks: Desks,
) -> None:
    rule = desks.alice.add_rule("smirnov", "block")
    await desks.refresh()
    desks.serve(edition=2)  # every item edited: stored again as updates
    await desks.refresh()
    assert "edition 2" in desks.entry(desks.bob, "smirnov").content_text
    assert desks.keys(desks.alice) == {"weather", "match"}
    # the rule is off and the entry comes back only if the person asks (`rule unblock`): a
    # refetch alone never shows it again
    desks.alice.update_rule(rule.id, enabled=False)
    desks.serve(edition=3)
    await desks.refresh()
    assert desks.keys(desks.alice) == {"weather", "match"}


@pytest.mark.parametrize("when", WHEN)
async def test_unblock_shows_again_what_the_rule_blocked_and_only_that(
    desks: Desks, when: str
) -> None:
    assert await _apply(desks, "block", when) == 1
    other = desks.alice.add_rule("weather", "block")
    assert desks.alice.apply_rule(other.id) == 1
    assert desks.keys(desks.alice) == {"match"}
    first = desks.alice.rules()[0]
    # another person cannot, and it is as if the rule did not exist
    with pytest.raises(NewsdeskError, match=f"no rule with id {first.id}"):
        desks.bob.unblock_rule(first.id)
    assert desks.alice.unblock_rule(first.id) == 1
    assert desks.keys(desks.alice) == {"smirnov", "match"}
    assert desks.entry(desks.alice, "smirnov").read  # blocked entries were read: they stay so
    assert desks.alice.unblock_rule(first.id) == 0
    # removing a rule leaves its blocks, unless asked
    assert desks.alice.remove_rule(other.id, unblock=True) == 1
    assert desks.keys(desks.alice) == {"smirnov", "weather", "match"}
    assert desks.keys(desks.bob) == {"smirnov", "weather", "match"}


async def test_rules_apply_in_order_and_a_block_ends_the_entry_s_turn(desks: Desks) -> None:
    first = desks.alice.add_rule("smirnov OR weather", "tag:seen", name="tag first")
    desks.alice.add_rule("smirnov", "block", name="then block")
    desks.alice.add_rule("smirnov OR weather", "star", name="star last")
    await desks.refresh()
    weather = desks.entry(desks.alice, "weather")
    assert weather.starred
    smirnov = desks.entry(desks.system, "smirnov").id
    assert desks.alice.store.labels.labels_of([smirnov, weather.id]) == {
        smirnov: ["seen"],
        weather.id: ["seen"],
    }
    # the blocked entry was out of the third rule's reach
    assert desks.keys(desks.alice, EntryQuery(starred=True, limit=100)) == {"weather"}
    assert [r.matched for r in desks.alice.rules()] == [2, 1, 1]
    assert desks.alice.rules()[0].id == first.id


async def test_a_disabled_rule_does_not_run_at_ingest(desks: Desks) -> None:
    rule = desks.alice.add_rule("smirnov", "read", enabled=False)
    await desks.refresh()
    assert not desks.entry(desks.alice, "smirnov").read
    assert desks.alice.apply_rule(rule.id) == 1  # asked for: it applies
    assert desks.entry(desks.alice, "smirnov").read


async def test_rules_run_when_every_other_part_of_the_intel_stage_is_off(
    desks: Desks, store_url: str
) -> None:
    off = rule_settings(store_url, stories=False, timelines=False, alerts=False)
    desks.system.settings = off
    desks.alice.add_rule("smirnov", "star")
    await desks.refresh()
    assert desks.entry(desks.alice, "smirnov").starred


async def test_the_rules_setting_switches_them_off(desks: Desks, store_url: str) -> None:
    desks.system.settings = rule_settings(store_url, rules=False)
    desks.alice.add_rule("smirnov", "star")
    await desks.refresh()
    assert not desks.entry(desks.alice, "smirnov").starred


async def test_a_big_refresh_left_to_the_background_still_applies_rules(
    desks: Desks, store_url: str
) -> None:
    desks.system.settings = rule_settings(store_url, intel_inline_max=1)
    desks.alice.add_rule("smirnov", "block")
    report = await desks.refresh_report()
    assert report.intel_deferred == 3
    assert desks.keys(desks.alice) == {"weather", "match"}


async def test_a_blocked_entry_raises_no_alert_on_its_persons_watchlist(
    desks: Desks, server: RoutesServer
) -> None:
    hook = server.route("/hook", Answer(b"", 204))
    watch = desks.alice.store.watchlists.create_watchlist(
        name="Chicago", query="chicago", channels={"webhook": {"url": hook}}
    )
    bobs = desks.bob.store.watchlists.create_watchlist(
        name="Chicago", query="chicago", channels={"webhook": {"url": hook}}
    )
    desks.alice.add_rule("smirnov", "block")
    await desks.refresh()
    assert desks.alice.store.watchlists.list_alerts(watchlist_id=watch.id) == []
    assert len(desks.bob.store.watchlists.list_alerts(watchlist_id=bobs.id)) == 1


async def test_test_rule_previews_the_stored_entries_it_would_take(desks: Desks) -> None:
    await desks.refresh()
    count, shown = desks.alice.test_rule("smirnov OR weather OR cup", limit=2)
    assert count == 3
    assert [e.title for e in shown] == [STORIES[2][1], STORIES[1][1]]  # newest first
    assert desks.alice.test_rule("nothing-like-this", limit=5) == (0, [])
    assert not any(e.read for e in desks.alice.entries(EntryQuery(limit=100)))  # no change


async def test_the_background_job_applies_rules_too(desks: Desks, store_url: str) -> None:
    """``newsdesk run`` reads new entries in a process of its own (``intel_job``, which opens
    the store by URL): the rules run there as well."""
    from newsdesk.intel import intel_job

    desks.system.settings = rule_settings(store_url, rules=False)  # not inline
    desks.alice.add_rule("smirnov", "star")
    report = await desks.refresh_report()
    assert not desks.entry(desks.alice, "smirnov").starred
    done = await asyncio.to_thread(intel_job, store_url, rule_settings(store_url), report.new_ids)
    assert done.rules_changed == 1
    assert desks.entry(desks.alice, "smirnov").starred

"""Watchlists: creation, checks with clear messages, secrets masked, updates, deletion; matching
new entries on words, entities, categories and feeds, at most once per channel. On SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from newsdesk.alerts import match_entries
from newsdesk.errors import NewsdeskError
from newsdesk.store.schema import alerts
from newsdesk.store.sql import SqlStore
from newsdesk.store.watchlists import MASK, resolve_entity

from .conftest import T0, World, add_entity, add_entry, mention

HOOK = {"webhook": {"url": "https://hooks.example/in", "secret": "s3cret"}}


def test_create_get_update_delete(store: SqlStore, world: World) -> None:
    w = store.watchlists.create_watchlist(
        name="  Smirnov   case ",
        query="Smirnov",
        entity_ids=[world.smirnov, world.smirnov],
        categories=["world"],  # stored as the category's own spelling
        feed_ids=[world.world_feed],
        channels={
            **HOOK,
            "email": {"to": ["me@example.org", "me@example.org"]},
            "ntfy": {"url": "https://ntfy.example/desk", "token": "tk_1", "priority": "high"},
        },
        mode="daily",
    )
    assert w.name == "Smirnov case"
    assert w.entity_ids == (world.smirnov,)
    assert w.categories == ("World",)
    assert w.channels["email"] == {"to": ["me@example.org"]}
    assert w.channels["ntfy"]["priority"] == 4
    shown = w.as_dict()
    assert shown["channels"]["webhook"] == {"url": "https://hooks.example/in", "secret": MASK}  # type: ignore[index]
    assert shown["channels"]["ntfy"]["token"] == MASK  # type: ignore[index]
    assert w.as_dict(reveal_secrets=True)["channels"]["webhook"]["secret"] == "s3cret"  # type: ignore[index]

    assert store.watchlists.get_watchlist(w.id) == w
    assert store.watchlists.get_watchlist(str(w.id)) == w
    assert store.watchlists.get_watchlist("smirnov CASE") == w
    assert store.watchlists.get_watchlist("nope") is None
    assert [x.id for x in store.watchlists.list_watchlists()] == [w.id]

    # What as_dict shows can be sent back: masked secrets keep the stored ones.
    changed = store.watchlists.update_watchlist(
        w.id, channels=shown["channels"], mode="hourly", enabled=False
    )
    assert changed.channels["webhook"]["secret"] == "s3cret"
    assert changed.channels["ntfy"]["token"] == "tk_1"
    assert (changed.mode, changed.enabled) == ("hourly", False)
    # A webhook given without a secret keeps its secret; a new URL is checked.
    kept = store.watchlists.update_watchlist(
        w.id, channels={"webhook": {"url": "https://h.example/2"}}
    )
    assert kept.channels == {"webhook": {"url": "https://h.example/2", "secret": "s3cret"}}
    with pytest.raises(NewsdeskError, match="must be an http"):
        store.watchlists.update_watchlist(
            w.id, channels={"webhook": {"url": "gopher://h.example/"}}
        )
    with pytest.raises(NewsdeskError, match="no field 'colour'"):
        store.watchlists.update_watchlist(w.id, colour="red")
    with pytest.raises(NewsdeskError, match="no watchlist with id 999"):
        store.watchlists.update_watchlist(999, mode="daily")

    assert store.watchlists.delete_watchlist(w.id) is True
    assert store.watchlists.delete_watchlist(w.id) is False
    assert store.watchlists.list_watchlists() == []


def test_webhook_without_secret_gets_one(store: SqlStore, world: World) -> None:
    w = store.watchlists.create_watchlist(
        name="a", query="x", channels={"webhook": {"url": "http://h.example/"}}
    )
    assert len(w.channels["webhook"]["secret"]) >= 24


BAD_INPUT: list[tuple[dict[str, object], str]] = [
    ({"name": " "}, "needs a name"),
    ({"name": "123"}, "cannot be only digits"),
    ({"mode": "weekly"}, "mode 'weekly' is not one of instant, hourly, daily"),
    ({"channels": {}}, "at least one channel"),
    ({"channels": {"sms": {}}}, "unknown channel 'sms'"),
    ({"channels": {"webhook": {"url": "ftp://h.example/"}}}, "must be an http"),
    ({"channels": {"webhook": {"url": ""}}}, "needs a URL"),
    ({"channels": {"ntfy": {"url": "javascript:alert(1)"}}}, "must be an http"),
    ({"channels": {"ntfy": {"url": "http://n.example/t", "priority": 9}}}, "priority"),
    ({"channels": {"email": {"to": []}}}, "at least one address"),
    ({"channels": {"email": {"to": ["not an address"]}}}, "not an e-mail address"),
    ({"query": "", "entity_ids": []}, "needs something to watch"),
    ({"query": "!!! ???"}, "no words to search for"),
    ({"entity_ids": [424242]}, "no entity with id 424242"),
    ({"entity_ids": ["x"]}, "entity ids are whole numbers"),
    ({"feed_ids": [424242]}, "no feed with id 424242"),
]


def test_bad_input_is_a_clear_error(store: SqlStore, world: World) -> None:
    for kwargs, message in BAD_INPUT:
        args: dict[str, object] = {"name": "w", "query": "Smirnov", "channels": HOOK, **kwargs}
        with pytest.raises(NewsdeskError, match=message):
            store.watchlists.create_watchlist(**args)  # type: ignore[arg-type]
    assert store.watchlists.list_watchlists() == []


def test_names_are_unique(store: SqlStore, world: World) -> None:
    store.watchlists.create_watchlist(name="Case", query="x", channels=HOOK)
    with pytest.raises(NewsdeskError, match="already a watchlist named 'Case'"):
        store.watchlists.create_watchlist(name="Case", query="y", channels=HOOK)
    other = store.watchlists.create_watchlist(name="Other", query="y", channels=HOOK)
    with pytest.raises(NewsdeskError, match="already a watchlist named"):
        store.watchlists.update_watchlist(other.id, name="Case")
    assert store.watchlists.get_watchlist(other.id) == other


def test_resolve_entity(store: SqlStore, world: World) -> None:
    assert resolve_entity(store.engine, "alexander SMIRNOV") == world.smirnov
    assert resolve_entity(store.engine, "smirnov") == world.smirnov  # an alias
    assert resolve_entity(store.engine, "Federal Bureau of Investigation") == world.fbi
    assert resolve_entity(store.engine, str(world.fbi)) == world.fbi
    with pytest.raises(NewsdeskError, match="no entity named 'Weiss'"):
        resolve_entity(store.engine, "Weiss")
    add_entity(store, "place", "georgia", "Georgia")
    add_entity(store, "person", "georgia", "Georgia")
    with pytest.raises(NewsdeskError, match="names more than one entity"):
        resolve_entity(store.engine, "georgia")


def _pairs(store: SqlStore) -> set[tuple[int, int, str]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(alerts.c.watchlist_id, alerts.c.entry_id, alerts.c.channel))
        return {(int(w), int(e), str(c)) for w, e, c in rows}


def test_matching_all_criteria_at_most_once(store: SqlStore, world: World) -> None:
    two = {**HOOK, "ntfy": {"url": "https://ntfy.example/t"}}
    by_words = store.watchlists.create_watchlist(
        name="words", query="smirnov", channels=two, now=T0
    )
    by_entity = store.watchlists.create_watchlist(
        name="entity", entity_ids=[world.fbi], channels=HOOK, now=T0
    )
    combined = store.watchlists.create_watchlist(
        name="combined",
        query="indictment",
        entity_ids=[world.smirnov, world.fbi],
        categories=["World"],
        channels=HOOK,
        now=T0,
    )
    by_feed = store.watchlists.create_watchlist(
        name="feed", feed_ids=[world.tech_feed], channels=HOOK, now=T0
    )
    off = store.watchlists.create_watchlist(name="off", query="smirnov", channels=HOOK, now=T0)
    store.watchlists.update_watchlist(off.id, enabled=False)

    old = add_entry(store, world.world_feed, "Smirnov before", first_seen=T0 - timedelta(hours=1))
    e1 = add_entry(store, world.world_feed, "Informant Smirnov's indictment", "The FBI said…")
    e2 = add_entry(store, world.tech_feed, "Chips", "Nothing about anyone")
    e3 = add_entry(store, world.tech_feed, "Another indictment", "The FBI said Smirnov lied.")
    e4 = add_entry(store, world.world_feed, "Weather", "Rain")
    mention(store, e1, world.smirnov)
    mention(store, e1, world.fbi)
    mention(store, e3, world.fbi)
    mention(store, old, world.smirnov)

    ids = [old, e1, e2, e3, e4, 987654]  # an id that is no entry is ignored
    created = match_entries(store.alerts, ids)
    expected = {
        (by_words.id, e1, "webhook"),
        (by_words.id, e1, "ntfy"),
        (by_words.id, e3, "webhook"),  # "Smirnov" in the text, no mention needed
        (by_words.id, e3, "ntfy"),
        (by_entity.id, e1, "webhook"),
        (by_entity.id, e3, "webhook"),
        (combined.id, e1, "webhook"),  # e3 is in Tech, not World
        (by_feed.id, e2, "webhook"),
        (by_feed.id, e3, "webhook"),
    }
    assert _pairs(store) == expected
    assert created == len(expected)
    # Matching again (the intel stage reading an entry twice) adds nothing.
    assert match_entries(store.alerts, ids) == 0
    assert match_entries(store.alerts, []) == 0
    assert len(store.watchlists.list_alerts()) == len(expected)
    pending = store.watchlists.list_alerts(watchlist_id=by_feed.id, status="pending")
    assert {a.entry_id for a in pending} == {e2, e3}
    assert pending[0].as_dict()["watchlist"] == "feed"
    with pytest.raises(NewsdeskError, match="status 'lost'"):
        store.watchlists.list_alerts(status="lost")

    # Deleting a watchlist deletes its alerts.
    store.watchlists.delete_watchlist(by_feed.id)
    assert store.watchlists.list_alerts(watchlist_id=by_feed.id) == []

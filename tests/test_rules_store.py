"""Issue 16, the rules part of the store (``store.rules``) and the Desk's rule methods: a
person's own rules, checked when saved, in their order; another person's rule does not exist
for them. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import inspect, update

from newsdesk.desk import Desk
from newsdesk.errors import NewsdeskError
from newsdesk.query import QueryError
from newsdesk.settings import load_settings
from newsdesk.store import open_store
from newsdesk.store.engine import write_transaction
from newsdesk.store.migrations import schema_version
from newsdesk.store.rules import RuleNotFoundError

PASSWORD = "a long enough pass phrase 16"


@dataclass
class Pair:
    alice: Desk
    bob: Desk


@pytest.fixture
def pair(store_url: str) -> Iterator[Pair]:
    settings = load_settings(env={}, database_url=store_url)
    system = Desk(settings, open_store(store_url))
    alice = system.as_person(system.store.users.add_user("alice", PASSWORD))
    bob = system.as_person(system.store.users.add_user("bob", PASSWORD))
    yield Pair(alice, bob)
    system.close()


def test_a_rule_is_stored_with_its_checked_actions(pair: Pair) -> None:
    rule = pair.alice.add_rule('title:"Smirnov"', " Star , TAG: Smirnov  case ,category:Crime")
    assert rule.actions == ("star", "tag:Smirnov case", "category:Crime")
    assert rule.name == 'title:"Smirnov"'  # the query, when no name is given
    assert rule.enabled and rule.matched == 0 and rule.position == 0
    shown = rule.as_dict()
    assert shown["actions"] == ["star", "tag:Smirnov case", "category:Crime"]
    assert set(shown) >= {"id", "name", "query", "actions", "position", "enabled", "matched"}
    assert pair.alice.rule(rule.id) == rule
    assert pair.alice.rules() == [rule]
    second = pair.alice.add_rule("weather", ["read", "block"], name="Weather")
    assert second.position == 1 and second.actions == ("read", "block")


@pytest.mark.parametrize(
    ("query", "actions", "name", "message"),
    [
        ("smirnov", "explode", None, "unknown action 'explode'"),
        ("smirnov", "tag", None, "the action 'tag' needs a name"),
        ("smirnov", "tag:", None, "a label needs a name"),
        ("smirnov", "category:  ", None, "the category title is required"),
        ("smirnov", "star:yes", None, "the action 'star' takes no name"),
        ("smirnov", "", None, "at least one action"),
        ("smirnov", " , ,", None, "at least one action"),
        ("smirnov", "alert:nobody watches", None, "no watchlist 'nobody watches'"),
        ("", "star", None, "a rule needs a query"),
        ("   ", "star", "a name", "a rule needs a query"),
        ("smirnov", "star", "x" * 201, "at most 200 characters"),
    ],
)
def test_a_bad_rule_is_refused_with_a_clear_message(
    pair: Pair, query: str, actions: str, name: str | None, message: str
) -> None:
    with pytest.raises(NewsdeskError, match=message):
        pair.alice.add_rule(query, actions, name=name)
    assert pair.alice.rules() == []


def test_an_invalid_pattern_is_refused_when_the_rule_is_saved(pair: Pair) -> None:
    with pytest.raises(QueryError, match="title~"):
        pair.alice.add_rule('title~"(unclosed"', "block")
    rule = pair.alice.add_rule('title~"(?i)smirnov"', "block")
    with pytest.raises(QueryError):
        pair.alice.update_rule(rule.id, query='text~"[z-a]"')
    assert pair.alice.rule(rule.id).query == 'title~"(?i)smirnov"'


def test_alert_needs_one_of_the_persons_own_watchlists(pair: Pair) -> None:
    hook = {"webhook": {"url": "https://hooks.example.org/in"}}
    pair.bob.store.watchlists.create_watchlist(name="Bob's", query="x", channels=hook)
    with pytest.raises(NewsdeskError, match="no watchlist"):
        pair.alice.add_rule("smirnov", "alert:Bob's")
    pair.alice.store.watchlists.create_watchlist(name="Court", query="x", channels=hook)
    assert pair.alice.add_rule("smirnov", "alert:court").actions == ("alert:court",)


def test_update_changes_what_is_given_and_checks_it(pair: Pair) -> None:
    rule = pair.alice.add_rule("smirnov", "star", name="Smirnov")
    changed = pair.alice.update_rule(rule.id, name="Smirnov news", actions="read,tag:x")
    assert (changed.name, changed.query, changed.actions) == (
        "Smirnov news",
        "smirnov",
        ("read", "tag:x"),
    )
    assert changed.updated_at >= rule.updated_at
    assert not pair.alice.update_rule(rule.id, enabled=False).enabled
    with pytest.raises(NewsdeskError, match="unknown action"):
        pair.alice.update_rule(rule.id, actions="nope")
    with pytest.raises(NewsdeskError, match="no field 'position'"):
        pair.alice.store.rules.update(rule.id, position=3)


def test_reorder_puts_the_rules_in_the_given_order(pair: Pair) -> None:
    a, b, c = (pair.alice.add_rule(q, "read") for q in ("alpha", "beta", "gamma"))
    assert [r.id for r in pair.alice.reorder_rules([c.id, a.id])] == [c.id, a.id, b.id]
    assert [r.position for r in pair.alice.rules()] == [0, 1, 2]
    with pytest.raises(NewsdeskError, match="twice"):
        pair.alice.reorder_rules([a.id, a.id])
    pair.alice.remove_rule(b.id)
    assert [r.id for r in pair.alice.rules()] == [c.id, a.id]
    d = pair.alice.add_rule("delta", "read")
    assert [r.id for r in pair.alice.rules()] == [c.id, a.id, d.id]


def test_another_persons_rule_does_not_exist_for_you(pair: Pair) -> None:
    rule = pair.alice.add_rule("smirnov", "star")
    message = f"no rule with id {rule.id}"
    assert pair.bob.rules() == []
    for attempt in (
        lambda: pair.bob.rule(rule.id),
        lambda: pair.bob.update_rule(rule.id, name="mine now"),
        lambda: pair.bob.remove_rule(rule.id),
        lambda: pair.bob.apply_rule(rule.id),
        lambda: pair.bob.reorder_rules([rule.id]),
    ):
        with pytest.raises(RuleNotFoundError, match=message):
            attempt()
    assert pair.alice.rule(rule.id) == rule  # untouched
    with pytest.raises(RuleNotFoundError, match="no rule with id 999"):
        pair.alice.remove_rule(999)


def test_test_rule_refuses_an_empty_or_bad_query(pair: Pair) -> None:
    with pytest.raises(NewsdeskError, match="needs a query"):
        pair.alice.test_rule("  ")
    with pytest.raises(QueryError):
        pair.alice.test_rule('url~"("')
    assert pair.alice.test_rule("anything", limit=3) == (0, [])


def _state_indexes(url: str) -> set[str]:
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            return {str(i["name"]) for i in inspect(conn).get_indexes("entry_states")}
    finally:
        store.close()


def test_the_blocked_entries_have_their_partial_index(store_url: str) -> None:
    assert "ix_entry_states_hidden" in _state_indexes(store_url)  # a new database
    # a database at migration 11 gets it from migration 12
    store = open_store(store_url)
    with write_transaction(store.engine) as conn:
        conn.exec_driver_sql("DROP INDEX ix_entry_states_hidden")
        conn.execute(update(schema_version).values(version=11))
    store.close()
    assert "ix_entry_states_hidden" in _state_indexes(store_url)

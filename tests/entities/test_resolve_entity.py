"""The one rule every face (CLI, pages, API, watchlists) uses to find an entity from what a
person typed: ``store.entities.resolve``. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from newsdesk.errors import AmbiguousEntityError, EntityNotFoundError, NewsdeskError
from newsdesk.store.engine import write_transaction
from newsdesk.store.entities import replace_mentions

from .test_store_entities import NOW, _store_with_entries, org, person, place


def test_the_rule(store_url: str) -> None:
    store, (a, b, c) = _store_with_entries(store_url, [NOW, NOW, NOW])
    georgia_place = place("georgia", "Georgia", 3)
    georgia_person = person("georgia", "Georgia", 1)
    with write_transaction(store.engine) as conn:
        replace_mentions(conn, a, NOW, [georgia_place, person("smith anna", "Anna Smith")])
        replace_mentions(conn, b, NOW, [georgia_person, person("smith john", "John Smith")])
        replace_mentions(conn, c, NOW, [org("smithsonian", "Smithsonian"), georgia_place])
    resolve = store.entities.resolve
    try:
        by_name = {e.name: e for e in store.entities.list_entities()}
        # A number is an id, and only an id.
        assert resolve(str(by_name["Anna Smith"].id)) == by_name["Anna Smith"]
        assert resolve(by_name["Anna Smith"].id) == by_name["Anna Smith"]
        with pytest.raises(EntityNotFoundError, match="no entity with id 999999"):
            resolve("999999")
        # An exact name, any case; among several, the most mentioned.
        assert resolve("  anna   SMITH ").name == "Anna Smith"
        chosen = resolve("GEORGIA")
        assert (chosen.kind, chosen.mention_count) == ("place", 6)
        # Else a single loose match.
        assert resolve("Smithson").name == "Smithsonian"
        assert resolve("john").name == "John Smith"
        # Several loose matches and none exact: an error naming (up to five) candidates.
        with pytest.raises(AmbiguousEntityError) as ambiguous:
            resolve("smith")
        message = str(ambiguous.value)
        assert "Anna Smith" in message and "John Smith" in message and "Smithsonian" in message
        assert isinstance(ambiguous.value, NewsdeskError)
        # Nothing.
        with pytest.raises(EntityNotFoundError, match="no entity named 'Weiss'"):
            resolve("Weiss")
        with pytest.raises(EntityNotFoundError):
            resolve("   ")
    finally:
        store.close()


def test_an_alias_is_exact(store_url: str) -> None:
    store, (a, _b, _c) = _store_with_entries(store_url, [NOW, NOW, NOW])
    smirnov = person("alexander smirnov", "Alexander Smirnov", 2, "Alexander Smirnov", "Smirnov")
    with write_transaction(store.engine) as conn:
        replace_mentions(conn, a, NOW, [smirnov, person("smirnova olga", "Olga Smirnova")])
    try:
        # "Smirnov" is an alias of one and a loose match of the other: the alias wins.
        assert store.entities.resolve("smirnov").name == "Alexander Smirnov"
    finally:
        store.close()


def test_five_candidates_at_most(store_url: str) -> None:
    store, (a, _b, _c) = _store_with_entries(store_url, [NOW, NOW, NOW])
    many = [org(f"acme {n}", f"Acme {n}") for n in "abcdefg"]
    with write_transaction(store.engine) as conn:
        replace_mentions(conn, a, NOW, many)
    try:
        with pytest.raises(AmbiguousEntityError) as ambiguous:
            store.entities.resolve("acme")
        assert sum(f"Acme {n}" in str(ambiguous.value) for n in "abcdefg") == 5
    finally:
        store.close()

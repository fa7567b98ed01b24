"""What the core pages (entry, search, republished feeds) ask of the intelligence tables: an
entry's story, entities and events, and an entity from what a person typed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from newsdesk.errors import NewsdeskError
from newsdesk.model import StoredEntry
from newsdesk.store.entities import (
    Entity,
    entities_for_entries,
    find_entities,
    get_entity,
    list_entities,
)
from newsdesk.store.events import entry_events
from newsdesk.store.stories import get_story


def resolve_entity(engine: Engine, text: str) -> Entity:
    """An entity by id (digits) or by name: an exact name (any case) first, else the best
    match. Raises ``NewsdeskError`` with a message when nothing matches."""
    name = " ".join(text.split())
    if not name:
        raise NewsdeskError("Give an entity's name or id.")
    if name.isdigit():
        found = get_entity(engine, int(name))
        if found is None:
            raise NewsdeskError(f"There is no entity {name}.")
        return found
    matches = find_entities(engine, name, limit=5)
    exact = [e for e in matches if e.name.casefold() == name.casefold()]
    chosen = (exact or matches)[:1]
    if not chosen:
        raise NewsdeskError(f"No entity is named {name!r}: see the Entities page.")
    return chosen[0]


def entry_intel(engine: Engine, entry: StoredEntry) -> dict[str, Any]:
    """The entry's story (when it has other members), entities and dated events."""
    out: dict[str, Any] = {"story": None, "entities": [], "events": []}
    if entry.story_id is not None:
        story = get_story(engine, entry.story_id)
        out["story"] = story if story is not None and story.size > 1 else None
    listed = entities_for_entries(engine, [entry.id]).get(entry.id, [])
    out["entities"] = sorted(listed, key=lambda e: (e.kind, e.name.casefold()))
    out["events"] = entry_events(engine, entry.id)
    return out


def entity_choices(engine: Engine, limit: int = 300) -> list[str]:
    """Names of the entities in the most entries, for the search form's suggestions."""
    return list(dict.fromkeys(e.name for e in list_entities(engine, limit=limit)))

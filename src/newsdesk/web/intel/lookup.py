"""What the core pages (entry, search, republished feeds) ask of the intelligence tables: an
entry's story, entities and events. An entity from what a person typed is
``store.entities.resolve`` (one rule for every face)."""

from __future__ import annotations

from typing import Any

from newsdesk.model import StoredEntry
from newsdesk.store.sql import SqlStore


def entry_intel(store: SqlStore, entry: StoredEntry) -> dict[str, Any]:
    """The entry's story (when it has other members), entities and dated events."""
    out: dict[str, Any] = {"story": None, "entities": [], "events": []}
    if entry.story_id is not None:
        story = store.stories.get_story(entry.story_id)
        out["story"] = story if story is not None and story.size > 1 else None
    listed = store.entities.entities_for_entries([entry.id]).get(entry.id, [])
    out["entities"] = sorted(listed, key=lambda e: (e.kind, e.name.casefold()))
    out["events"] = store.events.entry_events(entry.id)
    return out


def entity_choices(store: SqlStore, limit: int = 300) -> list[str]:
    """Names of the entities in the most entries, for the search form's suggestions."""
    return list(dict.fromkeys(e.name for e in store.entities.list_entities(limit=limit)))

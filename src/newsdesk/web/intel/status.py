"""Whether the entity sections of the pages can have anything to show, and if not, the short
explanation the pages give instead."""

from __future__ import annotations

import importlib.util
from functools import lru_cache

from newsdesk.settings import Settings


@lru_cache(maxsize=8)
def _installed(name: str) -> bool:
    # find_spec only looks for the package: it does not import spaCy (slow) into the web server.
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def entities_note(settings: Settings) -> str | None:
    """None when entities are extracted; else why not, and what to do about it."""
    if not settings.entities:
        return (
            "Entity extraction is turned off (NEWSDESK_ENTITIES=false): people, organisations "
            "and places are not picked out of entries."
        )
    model = settings.entity_model
    if not _installed("spacy") or not _installed(model):
        return (
            f"The entity model {model!r} (setting NEWSDESK_ENTITY_MODEL) is not installed, so "
            "people, organisations and places are not picked out of entries. Install it with "
            "pip install 'newsdesk[entities]'."
        )
    return None

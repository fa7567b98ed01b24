"""The search form's entity suggestions, kept a little while (``WebContext.suggestions``)."""

from __future__ import annotations

import threading
import time

from newsdesk.store.sql import SqlStore
from newsdesk.web.intel.lookup import entity_choices

# How long (seconds) the suggestions are kept per person, as the feed icons are (``IconLinks``):
# counting every mention the person sees, by entity, was a fifth of the search page, for a list
# of names to suggest.
SUGGESTIONS_TTL = 30.0


class Suggestions:
    """One per app: each person's entity suggestions, at most SUGGESTIONS_TTL seconds old."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[int | None, tuple[float, list[str]]] = {}

    def entity_names(self, store: SqlStore) -> list[str]:
        """``entity_choices`` of the store's person, as of at most SUGGESTIONS_TTL ago."""
        person = store.person_id
        now = time.monotonic()
        with self._lock:
            kept = self._kept.get(person)
        if kept is not None and now - kept[0] < SUGGESTIONS_TTL:
            return list(kept[1])
        names = entity_choices(store)
        with self._lock:
            self._kept[person] = (now, names)
        return list(names)

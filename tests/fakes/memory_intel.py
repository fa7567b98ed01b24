"""``MemoryIntel``: the intel stage's store (``IntelStorage``) on dicts and lists, no database.

It keeps what the stage writes (stories, keys and signatures, entities and mentions, events,
read marks) with the same meaning as the SQL store, so the real stage code (``run_intel``,
``read_entries``, ``cluster_entries``) runs on it and tests read the results back directly."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from fakes.memory_alerts import MemoryAlerts
from newsdesk.model import Event, FoundEntity
from newsdesk.store.protocols.intel import EntryRow, EntryText, Facts, IntelStorage, Reading


@dataclass(slots=True)
class MemoryEntry:
    id: int
    feed_id: int
    title: str
    text: str
    published: datetime
    kind: str = "article"
    url_canonical: str | None = None
    links: list[str] = field(default_factory=list)
    content_hash: str = ""
    language: str | None = "en"
    fulltext: bool = False
    story_id: int | None = None


@dataclass(slots=True)
class MemoryStory:
    lead_entry_id: int | None = None
    size: int = 0
    sources: int = 0
    title: str | None = None


@dataclass(slots=True)
class MemoryEntity:
    id: int
    kind: str
    key: str
    name: str
    mention_count: int = 0
    entry_count: int = 0


@dataclass(slots=True)
class MemoryEvent:
    entry_id: int
    event: Event
    entity_ids: set[int]


class MemoryIntel:
    """``IntelStorage`` in memory (see the module's docstring)."""

    def __init__(self) -> None:
        self.entries: dict[int, MemoryEntry] = {}
        self.stories: dict[int, MemoryStory] = {}
        self.keys: dict[str, dict[int, datetime]] = {}  # key -> entry id -> published
        self.signatures_of: dict[int, tuple[bytes | None, str]] = {}
        self.entities: dict[int, MemoryEntity] = {}
        self.mentions: dict[int, dict[int, int]] = {}  # entry id -> entity id -> count
        self.events: list[MemoryEvent] = []
        self.marks: dict[int, tuple[str, int, int, str | None]] = {}  # what was read
        self.alerts = MemoryAlerts()  # the alerts stage's own fake
        self.rules = None  # no rules here (``RulesStorage``: tests run them on the database)
        self._next_story = 1
        self._next_entity = 1

    def add(self, entry: MemoryEntry) -> MemoryEntry:
        self.entries[entry.id] = entry
        return entry

    # -- clustering: one "transaction" is simply this object --

    @contextmanager
    def clustering(self) -> Iterator[MemoryIntel]:
        yield self

    @contextmanager
    def clustering_lock(self) -> Iterator[None]:
        yield

    def unclustered_ids(self, limit: int) -> list[int]:
        waiting = [e for e in self.entries.values() if e.story_id is None]
        return [e.id for e in sorted(waiting, key=lambda e: (e.published, e.id))][:limit]

    def load_entries(self, ids: Sequence[int]) -> list[EntryRow]:
        rows = [
            EntryRow(
                id=e.id,
                feed_id=e.feed_id,
                kind=e.kind,
                title=e.title,
                text=e.text,
                url_canonical=e.url_canonical,
                links=list(e.links),
                published=e.published,
                story_id=e.story_id,
                title_terms=self.signatures_of[e.id][1] if e.id in self.signatures_of else None,
            )
            for i in dict.fromkeys(ids)
            if (e := self.entries.get(i)) is not None
        ]
        return sorted(rows, key=lambda r: (r.published, r.id))

    def story_leads(self, story_ids: Iterable[int]) -> dict[int, tuple[int | None, int]]:
        return {
            s: (self.stories[s].lead_entry_id, self.stories[s].size)
            for s in story_ids
            if s in self.stories
        }

    def key_hits(self, keys: Iterable[str]) -> list[tuple[str, int]]:
        return [(k, e) for k in set(keys) for e in self.keys.get(k, {})]

    def entry_facts(self, ids: Iterable[int]) -> dict[int, Facts]:
        return {
            i: Facts(e.story_id, e.feed_id, e.published)
            for i in ids
            if (e := self.entries.get(i)) is not None
        }

    def signatures(self, ids: Iterable[int]) -> dict[int, tuple[bytes | None, str | None]]:
        return {i: self.signatures_of[i] for i in ids if i in self.signatures_of}

    def create_stories(self, count: int, when: datetime, now: datetime) -> list[int]:
        made = list(range(self._next_story, self._next_story + max(count, 0)))
        self._next_story += len(made)
        for story_id in made:
            self.stories[story_id] = MemoryStory()
        return made

    def merge_stories(self, merged: Mapping[int, int]) -> None:
        for source, target in merged.items():
            for e in self.entries.values():
                if e.story_id == source and source != target:
                    e.story_id = target

    def replace_keys(
        self, rekeyed: Sequence[int], rows: Sequence[tuple[str, int, datetime]]
    ) -> None:
        gone = set(rekeyed)
        for holders in self.keys.values():
            for entry_id in gone & set(holders):
                del holders[entry_id]
        for key, entry_id, published in rows:
            self.keys.setdefault(key, {}).setdefault(entry_id, published)

    def replace_signatures(self, rows: Sequence[tuple[int, bytes | None, str]]) -> None:
        for entry_id, minhash, terms in rows:
            self.signatures_of[entry_id] = (minhash, terms)

    def assign_stories(self, assignments: Mapping[int, int]) -> None:
        for entry_id, story_id in assignments.items():
            self.entries[entry_id].story_id = story_id

    def refresh_stories(self, story_ids: Iterable[int], now: datetime) -> None:
        for story_id in set(story_ids):
            members = [e for e in self.entries.values() if e.story_id == story_id]
            if not members:
                self.stories.pop(story_id, None)
                continue
            lead = min(
                members,
                key=lambda m: (
                    m.kind != "article",
                    not m.fulltext,
                    -min(len(m.text), 20_000) // 500,
                    m.published,
                    m.id,
                ),
            )
            self.stories[story_id] = MemoryStory(
                lead.id, len(members), len({m.feed_id for m in members}), lead.title
            )

    # -- reading entities and events --

    def index_queued_search(self, from_id: int = 0) -> int:
        return 0  # nothing waits for an index in memory

    def all_entry_ids(self) -> Iterator[list[int]]:
        ids = sorted(self.entries)
        for start in range(0, len(ids), 2000):
            yield ids[start : start + 2000]

    def pending(self, ids: Sequence[int], model: str | None, version: int) -> dict[int, bool]:
        found: dict[int, bool] = {}
        for i in sorted(set(ids)):
            entry = self.entries.get(i)
            if entry is None:
                continue
            mark = self.marks.get(i)
            if mark != (entry.content_hash, len(entry.text), version, model):
                found[i] = mark is None
        return found

    def entry_texts(self, ids: Sequence[int]) -> list[EntryText]:
        return [
            EntryText(e.id, e.title, e.text, e.content_hash, e.published, e.language)
            for i in sorted(set(ids))
            if (e := self.entries.get(i)) is not None
        ]

    def save_readings(
        self, readings: Sequence[Reading], *, version: int, model: str | None, done_at: datetime
    ) -> int:
        stored = 0
        for r in readings:
            surfaces: dict[str, int] = {}
            if r.mentions is not None:
                surfaces = self._replace_mentions(r.entry_id, r.mentions)
            if r.events is not None:
                self.events = [e for e in self.events if e.entry_id != r.entry_id]
                for event in r.events:
                    named = {
                        entity_id
                        for surface, entity_id in surfaces.items()
                        if re.search(rf"(?<!\w){re.escape(surface)}(?!\w)", event.sentence)
                    }
                    self.events.append(MemoryEvent(r.entry_id, event, named))
                stored += len(r.events)
            self.marks[r.entry_id] = (r.content_hash, r.text_length, version, model)
        return stored

    def _replace_mentions(self, entry_id: int, found: Sequence[FoundEntity]) -> dict[str, int]:
        for entity_id, count in self.mentions.pop(entry_id, {}).items():
            self.entities[entity_id].mention_count -= count
            self.entities[entity_id].entry_count -= 1
        counts: dict[int, int] = {}
        surfaces: dict[str, int] = {}
        for f in found:
            entity = self._entity(f)
            counts[entity.id] = counts.get(entity.id, 0) + f.count
            for surface in (*f.surfaces, f.name):
                surfaces.setdefault(surface, entity.id)
        for entity_id, count in counts.items():
            self.entities[entity_id].mention_count += count
            self.entities[entity_id].entry_count += 1
        if counts:
            self.mentions[entry_id] = counts
        return surfaces

    def _entity(self, found: FoundEntity) -> MemoryEntity:
        for entity in self.entities.values():
            if (entity.kind, entity.key) == (found.kind, found.key):
                return entity
        entity = MemoryEntity(self._next_entity, found.kind, found.key, found.name)
        self.entities[entity.id] = entity
        self._next_entity += 1
        return entity


def _implements(store: MemoryIntel) -> IntelStorage:
    return store  # mypy checks here that the fake implements the protocol

"""The intel stage on the in-memory store (``tests/fakes/memory_intel.py``): clustering into
stories, entity mentions and timeline events, with the real stage code and no database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from fakes.memory_intel import MemoryEntry, MemoryIntel
from newsdesk.intel import IntelReport, read_entries, run_intel
from newsdesk.model import FoundEntity
from newsdesk.settings import Settings, load_settings

T0 = datetime(2024, 1, 5, 9, 0, tzinfo=UTC)
PORT = (
    "The Harbour Authority said the new container port at Leixa opened on 12 March 2023 after "
    "nine years of delay, cost overruns and two changes of contractor. Ana Costa, the mayor of "
    "Leixa, will visit the terminal in June 2024 with the regional transport minister. Dock "
    "workers' unions welcomed the opening but warned that automated cranes would cut hundreds "
    "of jobs over the coming decade, and asked the authority to publish its staffing plan."
)
ECLIPSE = (
    "Astronomers in Chile recorded an unusually long annular eclipse on Tuesday, watched by "
    "thousands of visitors who travelled to the Atacama desert. The observatory's director said "
    "the clear skies made the measurements of the solar corona the best in two decades, and "
    "that the data would be shared with universities in Europe and North America next spring."
)


def _settings(**changes: object) -> Settings:
    base = load_settings(env={}, database_url="sqlite://")
    wanted: dict[str, object] = {"entities": False, "alerts": False, **changes}
    return replace(base, **wanted)  # type: ignore[arg-type]


def _store() -> MemoryIntel:
    store = MemoryIntel()
    store.add(MemoryEntry(1, 1, "Leixa port opens after nine years", PORT, T0, content_hash="a"))
    copy = PORT.replace("nine years", "nine long years")
    store.add(MemoryEntry(2, 2, "Leixa port opens after nine years", copy, T0 + timedelta(hours=2)))
    store.add(MemoryEntry(3, 3, "Long eclipse over the Atacama", ECLIPSE, T0 + timedelta(hours=1)))
    return store


class _Extractor:
    """Stands for the spaCy model: finds the names it is told to."""

    model_name = "fake-model"

    def __init__(self, names: dict[str, FoundEntity]) -> None:
        self.names = names
        self.calls = 0

    def extract(self, docs: Sequence[tuple[str, str]]) -> list[list[FoundEntity]]:
        self.calls += 1
        return [[f for name, f in self.names.items() if name in text] for _title, text in docs]


COSTA = FoundEntity("person", "ana costa", "Ana Costa", ("Ana Costa",), 1, 0)
AUTHORITY = FoundEntity(
    "org", "harbour authority", "Harbour Authority", ("Harbour Authority",), 1, 4
)


def test_clustering_groups_the_same_story() -> None:
    store = _store()
    report = run_intel(store, _settings(timelines=False), None)
    port = store.entries[1].story_id
    assert port is not None and store.entries[2].story_id == port
    assert store.entries[3].story_id not in (None, port)
    assert store.stories[port].size == 2 and store.stories[port].sources == 2
    assert store.stories[port].lead_entry_id == 1  # the earlier of two alike articles
    assert (report.clustered, report.new_stories) == (3, 2)
    again = run_intel(store, _settings(timelines=False), [1, 2, 3])
    assert again.new_stories == 0 and store.entries[2].story_id == port  # a re-run changes nothing


def test_entity_mentions_are_read_once_and_again_when_the_text_changes() -> None:
    store = _store()
    extractor = _Extractor({"Ana Costa": COSTA, "Harbour Authority": AUTHORITY})
    settings = _settings(stories=False, timelines=False)
    report = IntelReport()
    assert read_entries(store, settings, [1, 2, 3], report, extractor) == [1, 2, 3]  # type: ignore[arg-type]
    costa = next(e for e in store.entities.values() if e.key == "ana costa")
    assert (costa.entry_count, costa.mention_count) == (2, 2)
    assert store.mentions.get(3) is None and report.mentions == 4
    # Nothing changed: nothing is read again.
    assert read_entries(store, settings, [1, 2, 3], IntelReport(), extractor) == []  # type: ignore[arg-type]
    # A new text for entry 1 (the full text arriving): read again, the counters stay right.
    store.entries[1].text = "The Harbour Authority published its staffing plan."
    store.entries[1].content_hash = "b"
    assert read_entries(store, settings, [1, 2, 3], IntelReport(), extractor) == [1]  # type: ignore[arg-type]
    assert (costa.entry_count, costa.mention_count) == (1, 1)


def test_timeline_events_are_linked_to_the_entities_they_name() -> None:
    store = _store()
    extractor = _Extractor({"Ana Costa": COSTA, "Harbour Authority": AUTHORITY})
    report = IntelReport()
    read_entries(store, _settings(stories=False), [1], report, extractor)  # type: ignore[arg-type]
    told = [(e.event.date, e.event.precision) for e in store.events if e.entry_id == 1]
    assert told == [("2023-03-12", "day"), ("2024-06-01", "month")]
    assert report.events == 2
    ids = {e.key: e.id for e in store.entities.values()}
    named = {e.event.date: e.entity_ids for e in store.events}
    assert named == {"2023-03-12": {ids["harbour authority"]}, "2024-06-01": {ids["ana costa"]}}


def test_the_whole_stage_with_alerts_on() -> None:
    store = _store()
    report = run_intel(store, _settings(alerts=True), [1, 2, 3])
    assert report.clustered == 3 and report.read == 3 and report.events >= 2
    assert report.alerts_created == 0 and report.alerts_sent == 0  # no watchlist in the fake

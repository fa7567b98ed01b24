"""The intelligence stage, run after entries are stored and enriched: group them into stories,
read their entities and dated events, raise and deliver the alerts they match.

Each step is its own package (``stories``, ``entities``, ``timeline``, ``alerts``); this module
only decides which entries each step sees and records what was read (``entry_intel``), so an
entry is read again only when its text changes (full text arriving later), the extractor moves
on (``INTEL_VERSION``) or the entity model changes. The same function runs after
``newsdesk refresh``, in ``newsdesk run``'s scheduler, in the Celery workers and from
``newsdesk intel`` for a backlog.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from newsdesk.settings import Settings
from newsdesk.store.protocols.intel import EntryText, IntelStorage, Reading
from newsdesk.util import chunks

if TYPE_CHECKING:
    from newsdesk.entities import EntityExtractor
    from newsdesk.model import FoundEntity

log = logging.getLogger(__name__)

# Bump when what the stage extracts changes, so stored entries are read again by `newsdesk intel`
# (the timeline extractor's own version is folded in: see ``_version``).
INTEL_VERSION = 1
# Entries read (and written) per transaction.
READ_BATCH = 100


@dataclass(slots=True)
class IntelReport:
    entries: int = 0  # entries the stage looked at
    clustered: int = 0
    joined: int = 0  # of which joined an existing story
    new_stories: int = 0
    read: int = 0  # entries whose text was read for entities and events
    entities_read: int = 0  # of which with the entity model
    mentions: int = 0
    events: int = 0
    alerts_created: int = 0
    alerts_sent: int = 0
    alerts_failed: int = 0
    note: str | None = None  # why a part was skipped (the entity model missing)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        parts = [f"{self.clustered} entries clustered ({self.joined} joined a story)"]
        if self.read:
            parts.append(
                f"{self.read} read: {self.mentions} entity mentions, {self.events} dated events"
            )
        if self.alerts_created or self.alerts_sent or self.alerts_failed:
            parts.append(
                f"{self.alerts_created} alerts raised, {self.alerts_sent} sent, "
                f"{self.alerts_failed} failed"
            )
        text = "; ".join(parts)
        if self.seconds:
            text += f" in {sum(self.seconds.values()):.2f} s"
        if self.note:
            text += f" ({self.note})"
        return text

    def add(self, other: IntelReport) -> None:
        """Fold another run's figures into this one (the stage run in several batches)."""
        for name in (
            "entries",
            "clustered",
            "joined",
            "new_stories",
            "read",
            "entities_read",
            "mentions",
            "events",
            "alerts_created",
            "alerts_sent",
            "alerts_failed",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.note = self.note or other.note
        for stage, seconds in other.seconds.items():
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def as_dict(self) -> dict[str, object]:
        return {
            "entries": self.entries,
            "clustered": self.clustered,
            "joined": self.joined,
            "new_stories": self.new_stories,
            "read": self.read,
            "entities_read": self.entities_read,
            "mentions": self.mentions,
            "events": self.events,
            "alerts_created": self.alerts_created,
            "alerts_sent": self.alerts_sent,
            "alerts_failed": self.alerts_failed,
            "note": self.note,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def _took(report: IntelReport, stage: str, started: float) -> None:
    report.seconds[stage] = report.seconds.get(stage, 0.0) + time.perf_counter() - started


def intel_wanted(settings: Settings) -> bool:
    """Whether any part of the stage is switched on."""
    return settings.stories or settings.entities or settings.timelines or settings.alerts


def _extractor(settings: Settings, report: IntelReport) -> EntityExtractor | None:
    if not settings.entities:
        return None
    from newsdesk.entities import EntityModelMissing, load_extractor

    try:
        return load_extractor(settings)
    except EntityModelMissing as exc:
        report.note = f"entities skipped: {exc}"
        return None


def _version() -> int:
    from newsdesk.entities import EXTRACTOR_VERSION as ENTITIES
    from newsdesk.timeline import EXTRACTOR_VERSION as EVENTS

    return INTEL_VERSION * 1_000_000 + EVENTS * 1000 + ENTITIES


def _english(language: str | None) -> bool:
    """The entity model reads English; an entry whose feed says otherwise is not given to it."""
    return not language or language.lower().startswith("en")


def read_entries(
    store: IntelStorage,
    settings: Settings,
    entry_ids: Sequence[int],
    report: IntelReport,
    extractor: EntityExtractor | None,
) -> list[int]:
    """Entities and dated events of the entries whose text was not read yet; returns their
    ids."""
    if not (extractor is not None or settings.timelines):
        return []
    model = extractor.model_name if extractor is not None else None
    version = _version()
    pending = store.pending(entry_ids, model, version)
    order = list(pending)
    for batch in chunks(order, READ_BATCH):
        rows = store.entry_texts(batch)
        found = _entities_of(rows, report, extractor)
        started = time.perf_counter()
        readings = [
            _reading(row, mentions, pending[row.id], settings, report, extractor is not None)
            for row, mentions in zip(rows, found, strict=True)
        ]
        report.events += store.save_readings(
            readings, version=version, model=model, done_at=datetime.now(UTC)
        )
        _took(report, "events+write", started)
        report.read += len(rows)
        if extractor is not None:
            report.entities_read += len(rows)
    return order


def _entities_of(
    rows: Sequence[EntryText], report: IntelReport, extractor: EntityExtractor | None
) -> list[list[FoundEntity]]:
    """The entities the model finds in each entry (none in an entry it cannot read)."""
    found: list[list[FoundEntity]] = [[] for _ in rows]
    if extractor is None:
        return found
    started = time.perf_counter()
    readable = [i for i, r in enumerate(rows) if _english(r.language)]
    docs = [(rows[i].title, rows[i].text) for i in readable]
    for i, doc_found in zip(readable, extractor.extract(docs), strict=True):
        found[i] = list(doc_found)
    _took(report, "entities", started)
    return found


def _reading(
    row: EntryText,
    mentions: list[FoundEntity],
    fresh: bool,
    settings: Settings,
    report: IntelReport,
    with_entities: bool,
) -> Reading:
    """What to store of one entry: its mentions and events, unless there is nothing to
    replace (an entry never read that has none)."""
    report.mentions += len(mentions)
    events = None
    if settings.timelines:
        from newsdesk.timeline.extract import extract_events

        extracted = extract_events(row.text, published=row.published)
        events = extracted if extracted or not fresh else None
    return Reading(
        entry_id=row.id,
        published=row.published,
        content_hash=row.content_hash,
        text_length=len(row.text),
        mentions=mentions if with_entities and (mentions or not fresh) else None,
        events=events,
        fresh=fresh,
    )


def _cluster(
    store: IntelStorage, settings: Settings, ids: Sequence[int] | None, report: IntelReport
) -> None:
    from newsdesk.stories.cluster import cluster_entries

    started = time.perf_counter()
    with store.clustering_lock():
        clustered = cluster_entries(store, settings, ids)
    _took(report, "stories", started)
    report.clustered += clustered.entries
    report.joined += clustered.joined
    report.new_stories += clustered.new_stories


def _match(store: IntelStorage, ids: Sequence[int], report: IntelReport) -> None:
    from newsdesk.alerts import match_entries

    started = time.perf_counter()
    report.alerts_created += match_entries(store.alerts, ids)
    _took(report, "alerts", started)


def run_intel(
    store: IntelStorage,
    settings: Settings,
    entry_ids: Sequence[int] | None,
    *,
    deliver: bool = True,
) -> IntelReport:
    """Run the stage on ``entry_ids``, or with None on the backlog: the entries never clustered
    and those whose text was not read (or was read by another model or extractor version).
    ``deliver`` False raises alerts without sending them (a caller that delivers itself)."""
    report = IntelReport()
    extractor = _extractor(settings, report)
    if entry_ids is None:
        if settings.stories:
            _cluster(store, settings, None, report)
        for ids in store.all_entry_ids():
            done = read_entries(store, settings, ids, report, extractor)
            if settings.alerts and done:
                _match(store, done, report)
        report.entries = max(report.clustered, report.read)
    else:
        ids = list(entry_ids)
        report.entries = len(ids)
        if ids and settings.stories:
            _cluster(store, settings, ids, report)
        if ids:
            read_entries(store, settings, ids, report, extractor)
        if ids and settings.alerts:
            _match(store, ids, report)
    if settings.alerts and deliver:
        from newsdesk.alerts import deliver_due

        delivery = deliver_due(store.alerts, settings)
        report.alerts_sent += delivery.sent
        report.alerts_failed += delivery.failed
    return report


def intel_job(url: str, settings: Settings, entry_ids: list[int] | None) -> IntelReport:
    """``run_intel`` in a process of its own (``newsdesk run``'s background job): the store is
    opened once per process."""
    from newsdesk.store.intel import open_intel

    return run_intel(open_intel(url), settings, entry_ids)

"""Reading entries for the intel stage: their entities (with the model, English text only) and
dated events, saved with what was read (``entry_intel``) so an entry is read again only when its
text changes, the extractor moves on (``INTEL_VERSION``) or the entity model changes."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from newsdesk.intel.report import IntelReport, took
from newsdesk.settings import Settings
from newsdesk.store.protocols.intel import EntryText, IntelStorage, Reading
from newsdesk.util import chunks

if TYPE_CHECKING:
    from newsdesk.entities import EntityExtractor
    from newsdesk.model import FoundEntity

# Bump when what the stage extracts changes, so stored entries are read again by `newsdesk intel`
# (the timeline extractor's own version is folded in: see ``_version``).
INTEL_VERSION = 1
# Entries read (and written) per transaction.
READ_BATCH = 100


def load_entity_extractor(settings: Settings, report: IntelReport) -> EntityExtractor | None:
    """The entity model when entities are on and it is installed; else None (the report's note
    says why when it is missing)."""
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
        took(report, "events+write", started)
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
    took(report, "entities", started)
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

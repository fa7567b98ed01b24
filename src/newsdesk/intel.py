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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from newsdesk.settings import Settings
from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import entries, entry_intel

if TYPE_CHECKING:
    from newsdesk.entities import EntityExtractor

log = logging.getLogger(__name__)

# Bump when what the stage extracts changes, so stored entries are read again by `newsdesk intel`
# (the timeline extractor's own version is folded in: see ``_version``).
INTEL_VERSION = 1
# Entries read (and written) per transaction.
READ_BATCH = 100
# Ids looked at per query when scanning the whole store.
SCAN_CHUNK = 2000
_CLUSTER_LOCK = 7405124  # PostgreSQL advisory lock key (migrations use 7405123)


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


def _pending(engine: Engine, ids: Sequence[int], model: str | None) -> dict[int, bool]:
    """Of ``ids``, those whose text was never read (True), or changed since or was read
    otherwise (False)."""
    found: dict[int, bool] = {}
    version = _version()
    stale = or_(
        entry_intel.c.entry_id.is_(None),
        entry_intel.c.content_hash != entries.c.content_hash,
        entry_intel.c.text_length != func.length(entries.c.content_text),
        entry_intel.c.version != version,
        func.coalesce(entry_intel.c.entities_model, "") != (model or ""),
    )
    with engine.connect() as conn:
        for start in range(0, len(ids), SCAN_CHUNK):
            chunk = list(ids[start : start + SCAN_CHUNK])
            rows = conn.execute(
                select(entries.c.id, entry_intel.c.entry_id.is_(None).label("fresh"))
                .select_from(entries.outerjoin(entry_intel, entry_intel.c.entry_id == entries.c.id))
                .where(and_(entries.c.id.in_(chunk), stale))
                .order_by(entries.c.id)
            )
            found.update((int(r.id), bool(r.fresh)) for r in rows)
    return found


def all_entry_ids(engine: Engine) -> Iterator[list[int]]:
    """Every stored entry id, in chunks, oldest first (a backlog run)."""
    last = 0
    with engine.connect() as conn:
        while True:
            chunk = [
                int(r.id)
                for r in conn.execute(
                    select(entries.c.id)
                    .where(entries.c.id > last)
                    .order_by(entries.c.id)
                    .limit(SCAN_CHUNK)
                )
            ]
            if not chunk:
                return
            yield chunk
            last = chunk[-1]


def _record(conn: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = conn.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(entry_intel)
    stmt = stmt.on_conflict_do_update(
        index_elements=[entry_intel.c.entry_id],
        set_={
            "content_hash": stmt.excluded.content_hash,
            "text_length": stmt.excluded.text_length,
            "version": stmt.excluded.version,
            "entities_model": stmt.excluded.entities_model,
            "done_at": stmt.excluded.done_at,
        },
    )
    conn.execute(stmt, rows)  # executemany: one compiled statement, cached


def read_entries(
    engine: Engine,
    settings: Settings,
    entry_ids: Sequence[int],
    report: IntelReport,
    extractor: EntityExtractor | None,
) -> list[int]:
    """Entities and dated events of the entries whose text was not read yet; returns their
    ids."""
    if not (extractor is not None or settings.timelines):
        return []
    from newsdesk.store.entities import replace_mentions
    from newsdesk.store.events import replace_events
    from newsdesk.timeline import extract_events

    model = extractor.model_name if extractor is not None else None
    pending = _pending(engine, entry_ids, model)
    version = _version()
    order = list(pending)
    for start in range(0, len(order), READ_BATCH):
        batch = order[start : start + READ_BATCH]
        with engine.connect() as conn:
            rows = list(
                conn.execute(
                    select(
                        entries.c.id,
                        entries.c.title,
                        entries.c.content_text,
                        entries.c.content_hash,
                        entries.c.published,
                        entries.c.language,
                    )
                    .where(entries.c.id.in_(batch))
                    .order_by(entries.c.id)
                )
            )
        started = time.perf_counter()
        found: list[list[Any]] = [[] for _ in rows]
        if extractor is not None:
            readable = [i for i, r in enumerate(rows) if _english(r.language)]
            docs = [(rows[i].title or "", rows[i].content_text or "") for i in readable]
            for i, doc_found in zip(readable, extractor.extract(docs), strict=True):
                found[i] = doc_found
            _took(report, "entities", started)
        started = time.perf_counter()
        done_at = datetime.now(UTC)
        with write_transaction(engine) as conn:
            marks = []
            for row, mentions in zip(rows, found, strict=True):
                fresh = pending[row.id]
                surfaces: dict[str, int] = {}
                if extractor is not None and (mentions or not fresh):
                    surfaces = replace_mentions(conn, row.id, row.published, mentions)
                report.mentions += len(mentions)
                if settings.timelines:
                    events = extract_events(row.content_text or "", published=row.published)
                    if events or not fresh:
                        report.events += replace_events(conn, row.id, events, surfaces, fresh=fresh)
                marks.append(
                    {
                        "entry_id": row.id,
                        "content_hash": row.content_hash,
                        "text_length": len(row.content_text or ""),
                        "version": version,
                        "entities_model": model,
                        "done_at": done_at,
                    }
                )
            _record(conn, marks)
        _took(report, "events+write", started)
        report.read += len(rows)
        if extractor is not None:
            report.entities_read += len(rows)
    return order


@contextmanager
def _clustering_lock(engine: Engine) -> Iterator[None]:
    """One clusterer at a time on PostgreSQL (several workers): two duplicates clustered at the
    same moment in two processes would otherwise each start a story. SQLite writers are one at a
    time already."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({_CLUSTER_LOCK})")
        conn.commit()
        try:
            yield
        finally:
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_CLUSTER_LOCK})")
            conn.commit()


def _cluster(
    engine: Engine, settings: Settings, ids: Sequence[int] | None, report: IntelReport
) -> None:
    from newsdesk.stories import cluster_entries

    started = time.perf_counter()
    with _clustering_lock(engine):
        clustered = cluster_entries(engine, settings, ids)
    _took(report, "stories", started)
    report.clustered += clustered.entries
    report.joined += clustered.joined
    report.new_stories += clustered.new_stories


def _match(engine: Engine, ids: Sequence[int], report: IntelReport) -> None:
    from newsdesk.alerts import match_entries
    from newsdesk.store.alerts import AlertStore

    started = time.perf_counter()
    report.alerts_created += match_entries(AlertStore(engine), ids)
    _took(report, "alerts", started)


def run_intel(
    engine: Engine,
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
            _cluster(engine, settings, None, report)
        for ids in all_entry_ids(engine):
            done = read_entries(engine, settings, ids, report, extractor)
            if settings.alerts and done:
                _match(engine, done, report)
        report.entries = max(report.clustered, report.read)
    else:
        ids = list(entry_ids)
        report.entries = len(ids)
        if ids and settings.stories:
            _cluster(engine, settings, ids, report)
        if ids:
            read_entries(engine, settings, ids, report, extractor)
        if ids and settings.alerts:
            _match(engine, ids, report)
    if settings.alerts and deliver:
        from newsdesk.alerts import deliver_due
        from newsdesk.store.alerts import AlertStore

        delivery = deliver_due(AlertStore(engine), settings)
        report.alerts_sent += delivery.sent
        report.alerts_failed += delivery.failed
    return report


_JOB_ENGINES: dict[str, Engine] = {}


def intel_job(url: str, settings: Settings, entry_ids: list[int] | None) -> IntelReport:
    """``run_intel`` in a process of its own (``newsdesk run``'s background job): the store is
    opened once per process."""
    engine = _JOB_ENGINES.get(url)
    if engine is None:
        from newsdesk.store.engine import create_store_engine

        engine = _JOB_ENGINES[url] = create_store_engine(url)
    return run_intel(engine, settings, entry_ids)

"""What a run of the intel stage did: ``IntelReport``, its figures and the seconds each part
took."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(slots=True)
class IntelReport:
    entries: int = 0  # entries the stage looked at
    indexed: int = 0  # queued entries it put in the search index first (a first import's)
    clustered: int = 0
    joined: int = 0  # of which joined an existing story
    new_stories: int = 0
    read: int = 0  # entries whose text was read for entities and events
    entities_read: int = 0  # of which with the entity model
    mentions: int = 0
    events: int = 0
    rules_changed: int = 0  # entries the people's rules changed (issue 16)
    alerts_created: int = 0
    alerts_sent: int = 0
    alerts_failed: int = 0
    note: str | None = None  # why a part was skipped (the entity model missing)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        parts = []
        if self.indexed:
            parts.append(f"{self.indexed} entries indexed for search")
        if self.clustered or "stories" in self.seconds:  # (rules alone: no clustering line)
            parts.append(f"{self.clustered} entries clustered ({self.joined} joined a story)")
        if self.read:
            parts.append(
                f"{self.read} read: {self.mentions} entity mentions, {self.events} dated events"
            )
        if self.rules_changed:
            parts.append(f"{self.rules_changed} entries changed by rules")
        if self.alerts_created or self.alerts_sent or self.alerts_failed:
            parts.append(
                f"{self.alerts_created} alerts raised, {self.alerts_sent} sent, "
                f"{self.alerts_failed} failed"
            )
        if not parts and not self.note:
            return ""  # nothing to tell (rules alone, and none of them changed anything)
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
            "indexed",
            "clustered",
            "joined",
            "new_stories",
            "read",
            "entities_read",
            "mentions",
            "events",
            "rules_changed",
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
            "indexed": self.indexed,
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


def took(report: IntelReport, stage: str, started: float) -> None:
    """Add the time since ``started`` (``time.perf_counter``) to ``stage``'s seconds."""
    report.seconds[stage] = report.seconds.get(stage, 0.0) + time.perf_counter() - started

"""Precision and recall of extracted entities against a reader's annotation, per kind.

Used by the seed test and benchmarks/bench_entities.py. An extracted entity is a hit when its
name or key is the name or a variant of an annotated entity of an acceptable kind; a second
extracted entity for the same annotated one is a false positive (normalisation failed), and
one matching an "optional" annotation counts neither way."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsdesk.model import KINDS, FoundEntity
from newsdesk.process.names import make_key


@dataclass(frozen=True, slots=True)
class Gold:
    """One annotated entity."""

    kinds: tuple[str, ...]
    name: str
    keys: frozenset[str]
    issue: bool = False

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Gold:
        names = [raw["name"], *raw.get("variants", [])]
        return cls(
            kinds=tuple(raw["kinds"]),
            name=raw["name"],
            keys=frozenset(make_key(n) for n in names),
            issue=bool(raw.get("issue", False)),
        )


@dataclass(frozen=True, slots=True)
class AnnotatedDocument:
    position: int
    entities: tuple[Gold, ...]
    optional: tuple[Gold, ...]


def load_annotation(path: Path) -> list[AnnotatedDocument]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [
        AnnotatedDocument(
            position=int(article["position"]),
            entities=tuple(Gold.from_json(e) for e in article["entities"]),
            optional=tuple(Gold.from_json(e) for e in article.get("optional", [])),
        )
        for article in raw["articles"]
    ]


@dataclass(slots=True)
class Score:
    """Counts over any number of documents."""

    hits: Counter[str] = field(default_factory=Counter)  # by annotated kind
    found: Counter[str] = field(default_factory=Counter)  # scored extractions, by extracted kind
    correct: Counter[str] = field(default_factory=Counter)  # hits, by extracted kind
    gold: Counter[str] = field(default_factory=Counter)  # annotated, by kind
    missed: list[str] = field(default_factory=list)
    spurious: list[str] = field(default_factory=list)
    issue_total: int = 0
    issue_missed: list[str] = field(default_factory=list)

    def precision(self, kind: str | None = None) -> float:
        found = self.found[kind] if kind else sum(self.found.values())
        correct = self.correct[kind] if kind else sum(self.correct.values())
        return correct / found if found else 1.0

    def recall(self, kind: str | None = None) -> float:
        gold = self.gold[kind] if kind else sum(self.gold.values())
        hits = self.hits[kind] if kind else sum(self.hits.values())
        return hits / gold if gold else 1.0

    @property
    def issue_recall(self) -> float:
        if not self.issue_total:
            return 1.0
        return (self.issue_total - len(self.issue_missed)) / self.issue_total

    def lines(self) -> list[str]:
        out = [
            f"{'kind':8} {'precision':>9} {'recall':>7} {'annotated':>9} {'extracted':>9}",
        ]
        for kind in (*KINDS, None):
            out.append(
                f"{kind or 'all':8} {self.precision(kind):9.3f} {self.recall(kind):7.3f} "
                f"{self.gold[kind] if kind else sum(self.gold.values()):9d} "
                f"{self.found[kind] if kind else sum(self.found.values()):9d}"
            )
        return out


def _matches(entity: FoundEntity, gold: Gold) -> bool:
    return entity.kind in gold.kinds and bool({entity.key, make_key(entity.name)} & gold.keys)


def score_document(
    found: Sequence[FoundEntity], document: AnnotatedDocument, score: Score | None = None
) -> Score:
    """Add one document's comparison to ``score`` (a new one when None)."""
    score = score or Score()
    matched: set[int] = set()
    for entity in found:
        index = next(
            (
                i
                for i, g in enumerate(document.entities)
                if i not in matched and _matches(entity, g)
            ),
            None,
        )
        if index is not None:
            matched.add(index)
            score.found[entity.kind] += 1
            score.correct[entity.kind] += 1
            continue
        if any(_matches(entity, g) for g in document.optional):
            continue
        score.found[entity.kind] += 1
        score.spurious.append(f"{document.position}: {entity.kind} {entity.name}")
    for i, gold in enumerate(document.entities):
        score.gold[gold.kinds[0]] += 1
        if gold.issue:
            score.issue_total += 1
        if i in matched:
            score.hits[gold.kinds[0]] += 1
        else:
            score.missed.append(f"{document.position}: {gold.kinds[0]} {gold.name}")
            if gold.issue:
                score.issue_missed.append(f"{document.position}: {gold.name}")
    return score


def score_all(
    pairs: Iterable[tuple[Sequence[FoundEntity], AnnotatedDocument]],
) -> Score:
    score = Score()
    for found, document in pairs:
        score_document(found, document, score)
    return score


def seed_articles(expected: Path) -> dict[int, tuple[str, str]]:
    """The seed's articles as the intel stage sees them: title and the full text (the
    paragraphs a good extractor keeps), by position in expected.json."""
    raw = json.loads(expected.read_text(encoding="utf-8"))
    return {
        int(item["position"]): (item["title"], "\n\n".join(item["required_paragraphs"]))
        for item in raw
        if item["kind"] == "article"
    }


def seed_posts(expected: Path) -> list[tuple[str, str]]:
    """The seed's posts as (title, text): a post's title is its text."""
    raw = json.loads(expected.read_text(encoding="utf-8"))
    return [(item["text"], item["text"]) for item in raw if item["kind"] == "post"]

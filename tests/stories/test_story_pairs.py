"""The labelled set (tests/data/stories/pairs.json, made by make_pairs.py): syndicated copies,
rewrites, posts quoting headlines or sharing URLs, and hard negatives (the same kind of event
elsewhere, told in the same wire phrasing; one outlet's template around every story). Scored
through the real store and the real clustering: pairs put in one story against the labels."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

from newsdesk.settings import load_settings
from newsdesk.store import open_store
from newsdesk.stories import cluster_entries

PRECISION = 0.95
RECALL = 0.85


def _score(url: str, evaluate: ModuleType, items: list[dict[str, Any]], pairs: Any) -> Any:
    store = open_store(url)
    try:
        ids = evaluate.store_items(store, items)
        report = cluster_entries(store.intel, load_settings(env={}, database_url=url))
        assert report.entries == len(items)
        return evaluate.score(pairs, evaluate.story_of(store, ids)), store, ids
    finally:
        store.close()


def test_precision_and_recall(sqlite_url: str, evaluate: ModuleType) -> None:
    data = evaluate.load_pairs()
    score, _store, _ids = _score(sqlite_url, evaluate, data["entries"], data["pairs"])
    print(
        f"\nstory pairs: precision {score.precision:.3f}, recall {score.recall:.3f} "
        f"({score.true_positive} found, {score.false_positive} wrong, "
        f"{score.false_negative} missed)"
    )
    assert score.precision >= PRECISION, score.mistakes[:10]
    assert score.recall >= RECALL


def test_the_set_covers_every_variant(evaluate: ModuleType) -> None:
    data = evaluate.load_pairs()
    variants = {e["variant"] for e in data["entries"]}
    assert variants == {
        "wire",
        "syndicated",
        "rewrite",
        "rewrite-heavy",
        "post-title",
        "post-url",
        "noise",
    }
    labels = [same for _a, _b, same in data["pairs"]]
    assert labels.count(True) > 1000 and labels.count(False) > 10_000
    by_key = {e["key"]: e for e in data["entries"]}
    hard = [
        (a, b)
        for a, b, same in data["pairs"]
        if not same and by_key[a]["event"].split("-")[0] == by_key[b]["event"].split("-")[0]
    ]
    assert len(hard) > 5000  # same kind of event, another place: the hard negatives


def test_the_set_is_what_the_script_makes(make_pairs: ModuleType) -> None:
    committed = json.loads(Path(make_pairs.__file__).with_name("pairs.json").read_text())
    assert make_pairs.build() == committed


def test_incremental_clustering_scores_as_well(sqlite_url: str, evaluate: ModuleType) -> None:
    """Half the set clustered, then the other half as later refreshes would bring it, in
    small batches: the same quality as all at once."""
    data = evaluate.load_pairs()
    items = sorted(data["entries"], key=lambda e: e["published"])
    settings = load_settings(env={}, database_url=sqlite_url)
    store = open_store(sqlite_url)
    try:
        half = len(items) // 2
        ids = evaluate.store_items(store, items[:half])
        cluster_entries(store.intel, settings)
        first = evaluate.story_of(store, ids)
        for start in range(half, len(items), 40):
            batch = evaluate.store_items(store, items[start : start + 40])
            cluster_entries(store.intel, settings, sorted(batch.values()))
            ids |= batch
        stories = evaluate.story_of(store, ids)
    finally:
        store.close()
    # earlier entries keep their stories (merges aside, which only small stories undergo)
    kept = sum(1 for key, story in first.items() if stories[key] == story)
    assert kept >= 0.95 * len(first)
    score = evaluate.score(data["pairs"], stories)
    assert score.precision >= PRECISION
    assert score.recall >= RECALL

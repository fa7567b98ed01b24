"""Story clustering benchmark: quality on the labelled set, speed on a large synthetic store.

1. Precision and recall of story pairs on tests/data/stories/pairs.json (the set the tests
   score), clustered through the real ``cluster_entries`` on a fresh SQLite store.
2. Throughput on a large set (about 20,000 entries by default) made by the same generator:
   the first run clusters the whole backlog (``entry_ids=None``), then a batch of new entries
   is clustered into the full store as a refresh would (explicit ids), then a re-run over
   everything that changes nothing. Also the cost of hashing alone (features per entry).

Run: ``python benchmarks/bench_stories.py [--events 360] [--new 500] [--postgres URL]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from newsdesk.settings import load_settings
from newsdesk.store import open_store
from newsdesk.stories import cluster_entries
from newsdesk.stories import features as ft

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "stories"


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"story_{name}", DATA / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def quality(url: str, evaluate: ModuleType) -> dict[str, Any]:
    store = open_store(url)
    data = evaluate.load_pairs()
    ids = evaluate.store_items(store, data["entries"])
    report = cluster_entries(store.engine, load_settings(env={}, database_url=url))
    score = evaluate.score(data["pairs"], evaluate.story_of(store, ids))
    store.close()
    return {
        "entries": len(data["entries"]),
        "pairs": len(data["pairs"]),
        "precision": score.precision,
        "recall": score.recall,
        "false_positives": score.false_positive,
        "false_negatives": score.false_negative,
        "seconds": report.seconds,
    }


def throughput(url: str, events: int, new: int, evaluate: ModuleType) -> dict[str, Any]:
    make = _module("make_pairs")
    data = make.build(events, seed=7, pairs=False)
    items: list[dict[str, Any]] = data["entries"]
    old, fresh = items[: len(items) - new], items[len(items) - new :]
    settings = load_settings(env={}, database_url=url)
    store = open_store(url)
    started = time.perf_counter()
    evaluate.store_items(store, old)
    stored = time.perf_counter() - started
    cpu = time.process_time()
    backlog = cluster_entries(store.engine, settings)
    backlog_cpu = time.process_time() - cpu
    new_ids = evaluate.store_items(store, fresh)
    cpu = time.process_time()
    incremental = cluster_entries(store.engine, settings, sorted(new_ids.values()))
    incremental_cpu = time.process_time() - cpu
    every = evaluate.all_entry_ids(store)
    cpu = time.process_time()
    again = cluster_entries(store.engine, settings, every)
    again_cpu = time.process_time() - cpu
    hashed = _hashing(items)
    store.close()
    return {
        "entries": len(items),
        "store_seconds": stored,
        "backlog": (backlog.entries, backlog.seconds, backlog_cpu),
        "incremental": (incremental.entries, incremental.seconds, incremental_cpu),
        "rerun": (again.entries, again.seconds, again_cpu),
        "stories": (backlog.new_stories + incremental.new_stories),
        "hash_us_per_entry": hashed,
    }


def _hashing(items: Sequence[dict[str, Any]]) -> float:
    batch = [ft.Item(i["kind"], i["title"], i["text"], i["url"], i["links"]) for i in items[:5000]]
    ft.compute(batch[:100])
    started = time.process_time()
    for start in range(0, len(batch), 500):
        ft.compute(batch[start : start + 500])
    return (time.process_time() - started) / len(batch) * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--events", type=int, default=480, help="events per topic (6 topics)")
    parser.add_argument("--new", type=int, default=500, help="entries clustered incrementally")
    parser.add_argument(
        "--postgres", help="also time on this PostgreSQL database (a fresh, empty one)"
    )
    args = parser.parse_args(argv)
    evaluate = _module("evaluate")
    with tempfile.TemporaryDirectory() as tmp:
        q = quality(f"sqlite:///{tmp}/quality.db", evaluate)
        print(
            f"labelled set: {q['entries']} entries, {q['pairs']} pairs: "
            f"precision {q['precision']:.3f}, recall {q['recall']:.3f} "
            f"({q['false_positives']} false pairs, {q['false_negatives']} missed)"
        )
        targets = [("sqlite", f"sqlite:///{tmp}/big.db")]
        if args.postgres:
            targets.append(("postgresql", args.postgres))
        for name, url in targets:
            t = throughput(url, args.events, args.new, evaluate)
            print(f"{name}: {t['entries']} entries (stored in {t['store_seconds']:.1f} s)")
            for label, step in (
                ("backlog", "backlog"),
                ("new batch", "incremental"),
                ("re-run, no change", "rerun"),
            ):
                n, wall, cpu = t[step]
                print(
                    f"  {label:<18}{n:>6} entries: {n / wall:7.0f} entries/s "
                    f"({wall:5.2f} s wall, {cpu / n * 1000:5.3f} ms CPU per entry)"
                )
            print(f"  hashing alone: {t['hash_us_per_entry']:.0f} µs CPU per entry")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Entity benchmark: quality on the seed, throughput on a few thousand entries.

1. Precision and recall, per kind, of the extractor on the seed's three articles against
   tests/data/entities/seed-annotation.json (our reader-level annotation), and on six short
   held-out texts (tests/data/entities/holdout.json) the rules were not developed on.
2. Throughput: a deterministic synthetic corpus (default 2,000 entries) recombined from the
   seed's article paragraphs and posts — articles of 1-15 paragraphs, posts of one — run
   through ``extract`` (entries/s, chars/s), then written with ``replace_mentions`` into a
   fresh SQLite database (entries/s), then extracted and written again (re-reading must not
   change the counters).
3. With ``--compare-full``: the same texts through the complete pipeline (tagger, parser,
   lemmatizer kept), to show what loading only the NER buys.

Run: ``python benchmarks/bench_entities.py [--entries 2000] [--compare-full] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from newsdesk.demo import SEED_DIR
from newsdesk.entities import FoundEntity, compose, load_extractor
from newsdesk.entities.evaluate import (
    Score,
    load_annotation,
    score_all,
    seed_articles,
    seed_posts,
)
from newsdesk.model import Entry
from newsdesk.settings import load_settings
from newsdesk.store import FeedState, open_store
from newsdesk.store.engine import write_transaction
from newsdesk.store.entities import replace_mentions
from newsdesk.store.schema import entities, entity_mentions

ROOT = Path(__file__).resolve().parent.parent
ANNOTATION = ROOT / "tests" / "data" / "entities" / "seed-annotation.json"
HOLDOUT = ROOT / "tests" / "data" / "entities" / "holdout.json"
EXPECTED = Path(SEED_DIR) / "expected.json"
NOW = datetime(2024, 2, 27, 12, tzinfo=UTC)


def corpus(size: int, seed: int = 7) -> list[tuple[str, str]]:
    """(title, text) pairs: 85% articles of 1-15 seed paragraphs, 15% posts."""
    rng = random.Random(seed)
    paragraphs = [p for _, text in seed_articles(EXPECTED).values() for p in text.split("\n\n")]
    posts = seed_posts(EXPECTED)
    docs = []
    for _ in range(size):
        if rng.random() < 0.15:
            docs.append(rng.choice(posts))
            continue
        body = rng.sample(paragraphs, rng.randint(1, 15))
        title = body[0].split(". ")[0][:120]
        docs.append((title, "\n\n".join(body)))
    return docs


def _report(label: str, score: Score) -> dict[str, Any]:
    print(label)
    for line in score.lines():
        print("  " + line)
    if score.issue_total:
        found = score.issue_total - len(score.issue_missed)
        print(f"  issue names found: {found}/{score.issue_total}")
    print(f"  missed:   {', '.join(score.missed) or '-'}")
    print(f"  spurious: {', '.join(score.spurious) or '-'}\n")
    kinds = ("person", "org", "place", None)
    return {
        (kind or "all"): {"precision": score.precision(kind), "recall": score.recall(kind)}
        for kind in kinds
    } | {"missed": score.missed, "spurious": score.spurious}


def quality() -> dict[str, Any]:
    started = time.perf_counter()
    extractor = load_extractor(load_settings(env={}))  # imports spaCy, loads the model
    print(f"spaCy import + model load: {time.perf_counter() - started:.2f} s\n")
    documents = load_annotation(ANNOTATION)
    articles = seed_articles(EXPECTED)
    found = extractor.extract([articles[d.position] for d in documents])
    seed = _report(
        "Seed articles (3) against the annotation:", score_all(zip(found, documents, strict=True))
    )
    documents = load_annotation(HOLDOUT)
    raw = json.loads(HOLDOUT.read_text(encoding="utf-8"))
    found = extractor.extract([(a["title"], a["text"]) for a in raw["articles"]])
    holdout = _report(
        f"Held-out texts ({len(documents)}) against their annotation:",
        score_all(zip(found, documents, strict=True)),
    )
    return {"seed": seed, "holdout": holdout}


def _entry(i: int, title: str, text: str) -> Entry:
    return Entry(
        key=f"e{i}",
        url=f"https://example.org/{i}",
        title=title,
        author=None,
        kind="article",
        published=NOW - timedelta(minutes=i),
        updated=None,
        content_html="",
        content_text=text,
        summary_html=None,
        content_hash=f"h{i}",
        tags=[],
        links=[],
        enclosures=[],
    )


def throughput(size: int) -> dict[str, Any]:
    docs = corpus(size)
    chars = sum(len(compose(t, x)) for t, x in docs)
    extractor = load_extractor(load_settings(env={}))
    started, cpu_started = time.perf_counter(), time.process_time()
    found: list[list[FoundEntity]] = []
    for i in range(0, len(docs), 100):  # the intel stage's batches
        found += extractor.extract(docs[i : i + 100])
    extract_seconds = time.perf_counter() - started
    extract_cpu = time.process_time() - cpu_started

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.db")
        feed = store.add_feed("https://example.org/feed")
        state = FeedState(last_fetched=NOW, last_status=200, title="Feed")
        ids = store.save_refresh(
            feed.id, state, [_entry(i, t, x) for i, (t, x) in enumerate(docs)], NOW
        ).new_ids
        published = [NOW - timedelta(minutes=i) for i in range(len(docs))]
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            for i in range(0, len(ids), 100):
                with write_transaction(store.engine) as conn:
                    for j in range(i, min(i + 100, len(ids))):
                        replace_mentions(conn, ids[j], published[j], found[j])
            timings.append(time.perf_counter() - started)
        with store.engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(entities)).scalar_one()
            mentions = conn.execute(select(func.count()).select_from(entity_mentions)).scalar_one()
            total = conn.execute(select(func.sum(entities.c.mention_count))).scalar_one()
            true_total = conn.execute(select(func.sum(entity_mentions.c.count))).scalar_one()
        store.close()

    per_doc = sum(len(f) for f in found) / len(found)
    result = {
        "entries": len(docs),
        "chars": chars,
        "extract_s": round(extract_seconds, 3),
        "extract_entries_per_s": round(len(docs) / extract_seconds, 1),
        "extract_chars_per_s": round(chars / extract_seconds),
        "extract_cpu_s": round(extract_cpu, 3),
        "extract_entries_per_cpu_s": round(len(docs) / extract_cpu, 1),
        "store_s": round(timings[0], 3),
        "store_entries_per_s": round(len(docs) / timings[0], 1),
        "restore_entries_per_s": round(len(docs) / timings[1], 1),
        "pipeline_entries_per_s": round(len(docs) / (extract_seconds + timings[0]), 1),
        "entities_per_entry": round(per_doc, 2),
        "distinct_entities": stored,
        "mention_rows": mentions,
        "counters_match": total == true_total,
    }
    print(f"\nThroughput on {len(docs)} synthetic entries ({chars:,} chars, SQLite):")
    print(
        f"  extract               {extract_seconds:8.2f} s  "
        f"{result['extract_entries_per_s']:8.1f} entries/s  "
        f"{result['extract_chars_per_s']:>9,} chars/s"
    )
    print(
        f"  extract, CPU time     {extract_cpu:8.2f} s  "
        f"{result['extract_entries_per_cpu_s']:8.1f} entries/s  "
        f"{round(chars / extract_cpu):>9,} chars/s  (less sensitive to a busy machine)"
    )
    stored_rate, restored_rate = result["store_entries_per_s"], result["restore_entries_per_s"]
    print(f"  replace_mentions      {timings[0]:8.2f} s  {stored_rate:8.1f} entries/s")
    print(f"  again (re-extracted)  {timings[1]:8.2f} s  {restored_rate:8.1f} entries/s")
    print(f"  extract + store                   {result['pipeline_entries_per_s']:8.1f} entries/s")
    print(
        f"  {per_doc:.1f} entities/entry, {stored} distinct, {mentions} mention rows, "
        f"counters match the rows: {total == true_total}"
    )
    return result


def compare_full(size: int) -> dict[str, Any]:
    import spacy

    texts = [compose(t, x) for t, x in corpus(size)]
    chars = sum(len(t) for t in texts)
    out = {}
    for label, exclude in (
        ("full pipeline", []),
        ("ner only", ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]),
    ):
        started = time.perf_counter()
        nlp = spacy.load(load_settings(env={}).entity_model, exclude=exclude)
        loaded = time.perf_counter() - started
        started, cpu_started = time.perf_counter(), time.process_time()
        ents = sum(len(doc.ents) for doc in nlp.pipe(texts, batch_size=32))
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        out[label] = {
            "load_s": round(loaded, 3),
            "chars_per_s": round(chars / seconds),
            "chars_per_cpu_s": round(chars / cpu),
        }
        print(
            f"  {label:14} load {loaded:5.2f} s  {len(texts) / seconds:7.1f} entries/s  "
            f"{chars / seconds:>9,.0f} chars/s  {chars / cpu:>9,.0f} chars/CPU-s  ({ents} spans)"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--compare-full", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "quality": quality(),
        "throughput": throughput(args.entries),
    }
    if args.compare_full:
        print(f"\nPipeline comparison ({min(args.entries, 300)} entries):")
        results["compare"] = compare_full(min(args.entries, 300))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

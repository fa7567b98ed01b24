"""Worker-side cost of a first refresh: parse + process of one fetched document.

``process.document.parse_document`` (``parse_feed`` then ``process_feed``) runs in the
refresh's worker processes, for every document that changed; on a first refresh it is most of
the CPU the refresh spends. This benchmark renders ``--docs`` documents of the synthetic feed farm
(``farm.py``: RSS, Atom and JSON Feed, ``--items`` items each, about 135 KiB) and parses them
all in this one process, ``--rounds`` times, timing CPU (``time.process_time``), not wall
clock: the figure means something on a busy machine too. Each round parses documents it has
not seen (another farm seed and port: other texts and URLs), so per-process caches (canonical
URLs) start cold, as in a worker.

Run: ``python benchmarks/bench_parse.py [--docs 200] [--items 30] [--rounds 3] [--profile]``.
Prints the CPU milliseconds per document of each round and their median.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import farm
from newsdesk.process.document import parse_document


def documents(count: int, items: int, seed: int) -> list[tuple[bytes, str, str]]:
    config = farm.FarmConfig(feeds=count, items=items, seed=seed)
    pool = farm.TextPool(config.seed)
    docs = []
    for index in range(count):
        feed = farm.make_feed(pool, config, index, 8000 + seed)
        body = farm.RENDERERS[feed.kind](feed).encode("utf-8")
        docs.append((body, feed.url, farm.CONTENT_TYPES[feed.kind]))
    return docs


def run(docs: list[tuple[bytes, str, str]], now: datetime) -> float:
    """CPU seconds to parse and process every document."""
    start = time.process_time()
    for body, url, content_type in docs:
        result = parse_document(body, url, content_type, now)
        if isinstance(result, str):
            raise SystemExit(f"{url}: {result}")
    return time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile the last round")
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    rounds = [documents(args.docs, args.items, seed) for seed in range(1, args.rounds + 1)]
    size = sum(len(body) for body, _, _ in rounds[0]) / len(rounds[0]) / 1024
    parse_document(*rounds[0][0], now)  # imports and first-use set-up, not measured
    figures = []
    for number, docs in enumerate(rounds, 1):
        profile = cProfile.Profile() if args.profile and number == len(rounds) else None
        if profile:
            profile.enable()
        cpu = run(docs, now)
        if profile:
            profile.disable()
        figures.append(1000 * cpu / len(docs))
        print(f"round {number}: {figures[-1]:.2f} ms CPU per document")
    print(
        f"{args.docs} documents of {args.items} items ({size:.0f} KiB on average): "
        f"median {statistics.median(figures):.2f} ms CPU per document"
    )
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

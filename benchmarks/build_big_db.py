"""Build a large Newsdesk SQLite database for the web benchmark: by default 1,000,000 entries
across 2,000 feeds in 40 categories (``--categories 1000`` for a long sidebar and categories
page), with a password for the reading room.

The schema comes from ``open_store`` (all migrations); rows go in with ``executemany`` in big
transactions, and the search index fills through the store's own FTS5 triggers, as in real
use. Words follow a Zipf-like distribution over a fixed vocabulary so searches hit realistic
numbers of entries. Deterministic (seeded).

Run: ``python benchmarks/build_big_db.py OUT.db [--entries 1000000] [--feeds 2000]
[--categories 40]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newsdesk.store import open_store

PASSWORD = "benchmark password"
CATEGORIES = 40
BATCH = 20_000
# Words the benchmark searches for; placed at known frequencies among the generated words.
SEARCH_WORDS = ("moscow", "talks")


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(3, 10))))
    return sorted(words)


def build(
    path: Path, n_entries: int, n_feeds: int, n_categories: int = CATEGORIES, seed: int = 7
) -> None:
    if path.exists():
        raise SystemExit(f"{path} exists; remove it first")
    started = time.perf_counter()
    store = open_store(f"sqlite:///{path}")
    store.users.set_password("admin", PASSWORD)
    store.close()
    rng = random.Random(seed)
    words = vocabulary(rng)
    # Zipf-like weights: word i has weight 1/(i+1).
    weights = [1.0 / (i + 1) for i in range(len(words))]
    cumulative: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO categories (id, title) VALUES (?, ?)",
        [(c + 1, f"Category {c + 1:02d}") for c in range(n_categories)],
    )
    db.executemany(
        "INSERT INTO feeds (id, url, title, site_url, category_id, error_count, paused, "
        "pending_count, created_at, last_status, last_fetched, next_check) "
        "VALUES (?, ?, ?, ?, ?, 0, 0, 0, ?, 200, ?, ?)",
        [
            (
                f + 1,
                f"https://site{f + 1}.example/feed.xml",
                f"Site number {f + 1}",
                f"https://site{f + 1}.example/",
                (f % n_categories) + 1,
                now,
                now,
                now + timedelta(minutes=30),
            )
            for f in range(n_feeds)
        ],
    )
    db.execute("COMMIT")
    span = 365 * 24 * 3600  # a year of entries
    done = 0
    while done < n_entries:
        rows = []
        for i in range(done, min(done + BATCH, n_entries)):
            title_words = rng.choices(words, cum_weights=cumulative, k=rng.randint(5, 10))
            body = rng.choices(words, cum_weights=cumulative, k=rng.randint(30, 60))
            if rng.random() < 0.01:
                body[rng.randrange(len(body))] = SEARCH_WORDS[0]
            if rng.random() < 0.02:
                body[rng.randrange(len(body))] = SEARCH_WORDS[1]
            text = " ".join(body).capitalize() + "."
            title = " ".join(title_words).capitalize()
            feed_id = rng.randint(1, n_feeds)
            published = now - timedelta(seconds=int(span * (i / n_entries)) + rng.randint(0, 60))
            kind = "post" if rng.random() < 0.2 else "article"
            url = f"https://site{feed_id}.example/{i}"
            rows.append(
                (
                    feed_id,
                    f"key-{i}",
                    url,
                    url,
                    None if kind == "post" else title,
                    f"Author {i % 500}",
                    kind,
                    published,
                    published,
                    f"<p>{text}</p>",
                    text,
                    f"h{i}",
                    "[]",
                    "[]",
                    "[]",
                    0,
                    1 if rng.random() < 0.5 else 0,
                    1 if rng.random() < 0.01 else 0,
                )
            )
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO entries (feed_id, key, url, url_canonical, title, author, kind, "
            "published, first_seen, content_html, content_text, content_hash, tags, links, "
            "enclosures, wants_fulltext, read, starred) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.execute("COMMIT")
        done += len(rows)
        rate = done / (time.perf_counter() - started)
        print(f"\r{done:>9,} entries  ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    seconds = time.perf_counter() - started
    size = path.stat().st_size
    print(
        json.dumps(
            {"entries": n_entries, "feeds": n_feeds, "seconds": round(seconds, 1), "bytes": size}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--feeds", type=int, default=2_000)
    parser.add_argument("--categories", type=int, default=CATEGORIES)
    args = parser.parse_args()
    build(args.out, args.entries, args.feeds, args.categories)


if __name__ == "__main__":
    main()

"""What rules cost at ingest (issue 16): ``newsdesk.rules.apply_new`` on a batch of new entries,
with no rule at all (one query) and with PEOPLE people holding RULES rules each (words, a field
filter, a phrase, a regular expression; actions read, star, tag, category, block), and one rule
applied later over every stored entry. Plus a 50,000-character title against ``title~"(a+)+$"``.

Run: ``python benchmarks/bench_rules.py [--db URL] [--entries 20000] [--new 2000]
[--people 10]`` (default: a SQLite file in a temporary folder).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from newsdesk.rules import apply_new, apply_rule
from newsdesk.store import open_store
from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import entries, feeds

WORDS = [
    "smirnov",
    "court",
    "chicago",
    "weather",
    "budget",
    "council",
    "election",
    "market",
    "energy",
    "storm",
    "football",
    "vaccine",
    "bridge",
    "harbour",
    "festival",
    "strike",
]
RULES = (
    ("smirnov OR chicago", "read"),
    ('title:"court"', "star"),
    ('"energy market"', "tag:energy"),
    ('title~"(?i)^storm"', "category:Weather"),
    ("football -festival", "block"),
)
FEEDS = 50


def _fill(store, total: int) -> list[int]:  # type: ignore[no-untyped-def]
    rng = random.Random(16)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    with write_transaction(store.engine) as conn:
        feed_ids = [
            int(
                conn.execute(
                    insert(feeds).values(
                        url=f"https://feeds.example/{i}.xml", title=f"Feed {i}", created_at=t0
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )
            for i in range(FEEDS)
        ]
        rows = []
        for n in range(total):
            title = " ".join(rng.choice(WORDS) for _ in range(6)).capitalize()
            text = " ".join(rng.choice(WORDS) for _ in range(60))
            when = t0 + timedelta(minutes=n)
            rows.append(
                {
                    "feed_id": feed_ids[n % FEEDS],
                    "key": f"k{n}",
                    "url": f"https://news.example/{n}",
                    "url_canonical": f"https://news.example/{n}",
                    "title": title,
                    "kind": "article",
                    "published": when,
                    "first_seen": when,
                    "content_html": f"<p>{text}</p>",
                    "content_text": text,
                    "content_hash": hashlib.sha256(f"{n}{text}".encode()).hexdigest(),
                    "tags": [],
                    "links": [],
                    "enclosures": [],
                }
            )
        ids: list[int] = []
        for start in range(0, len(rows), 1000):
            conn.execute(insert(entries), rows[start : start + 1000])
        ids = [int(i) for i in conn.exec_driver_sql("SELECT id FROM entries ORDER BY id").scalars()]
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db")
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--new", type=int, default=2_000)
    parser.add_argument("--people", type=int, default=10)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-rules-")
    url = args.db or f"sqlite:///{Path(folder) / 'rules.db'}"
    store = open_store(url)
    ids = _fill(store, args.entries)
    urls = [f.url for f in store.as_system().list_feeds()]
    people = []
    for p in range(args.people):
        user = store.users.add_user(f"person{p}", "a long enough pass phrase 16")
        view = store.as_person(user.id)
        view.add_feeds([(u, None, "News") for u in urls[p % 5 :: 2]])  # about half the feeds
        people.append(view)
    new = ids[-args.new :]
    system = store.as_system()

    started = time.perf_counter()
    report = apply_new(system.rules, new)
    print(f"no rule: {1000 * (time.perf_counter() - started):.1f} ms ({report.rules} rules)")

    for view in people:
        for query, action in RULES:
            view.rules.add(query, query, [action])
    started = time.perf_counter()
    report = apply_new(system.rules, new)
    took = time.perf_counter() - started
    print(
        f"{report.rules} rules ({args.people} people x {len(RULES)}) on {len(new)} new entries: "
        f"{1000 * took:.0f} ms, {report.entries_changed} entry changes"
    )
    rule = people[0].rules.add("later", "council budget", ["tag:council"])
    started = time.perf_counter()
    changed = apply_rule(system.rules, rule)
    print(
        f"one rule applied later over {len(ids)} stored entries: "
        f"{1000 * (time.perf_counter() - started):.0f} ms, {changed} changed"
    )
    with write_transaction(store.engine) as conn:
        conn.execute(
            entries.update().where(entries.c.id == ids[0]).values(title="a" * 50_000 + "!")
        )
    started = time.perf_counter()
    hits = people[0].matching_ids('title~"(a+)+$"')
    print(f'title~"(a+)+$" over every entry, one 50,000-character title: '
          f"{1000 * (time.perf_counter() - started):.0f} ms, {len(hits)} hits")  # fmt: skip
    store.close()


if __name__ == "__main__":
    main()

"""Build the teams benchmark database (issue 15): the web benchmark's 1,000,000 entries across
2,000 feeds (``build_big_db.py``, built first when missing), copied, then 50 people on it.

- Person 1 is the desk's admin (the database's first account), owning the 40 categories the
  big database was built with; people 2..50 are members with the same password, each with 8
  categories of the same 8 titles (titles repeat across people, as they do on a real desk).
- Each person follows 200 feeds, drawn with a bias toward the low feed ids (popular feeds have
  dozens of followers, the tail one or none): 10,000 subscriptions.
- Person 2 shares a category ("Wire services", 30 feeds) with everyone (read only); person 3
  shares "OSINT" (20 feeds) with people 4..13, who may manage it.
- Read state: people 2..46 read 30 % of the entries they see at random and star 1 %;
  people 47..50 are "inbox zero" readers, who have read everything but the last 3 days.

Deterministic (seeded). Run: ``python benchmarks/build_teams_db.py OUT.db [--base big.db]``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from array import array
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
PEOPLE = 50
FOLLOWS = 200
TITLES = ("World", "Business", "Tech", "Science", "Security", "Culture", "Sports", "Local")
INBOX_ZERO = range(47, PEOPLE + 1)  # people who read everything but the last days
READ_SHARE = 0.3
STAR_SHARE = 0.01
WIRE_FEEDS = 30
OSINT_FEEDS = 20


def _stamp(moment: datetime) -> str:
    """A UTC moment as SQLite's UTCDateTime stores it."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _people(db: sqlite3.Connection, now: str) -> None:
    admin_hash = db.execute("SELECT password_hash FROM users WHERE id = 1").fetchone()[0]
    db.executemany(
        "INSERT INTO users (id, username, password_hash, created_at, role, recovery_codes, "
        "preferences) VALUES (?, ?, ?, ?, 'member', '[]', '{}')",
        [(p, f"person{p:02d}", admin_hash, now) for p in range(2, PEOPLE + 1)],
    )
    db.execute("UPDATE categories SET user_id = 1")


def _follows(rng: random.Random, n_feeds: int) -> dict[int, set[int]]:
    """Each person's 200 feeds: feed ids drawn with density ~ 1/sqrt(id)."""
    chosen: dict[int, set[int]] = {}
    for person in range(1, PEOPLE + 1):
        feeds: set[int] = set()
        while len(feeds) < FOLLOWS:
            feeds.add(int(n_feeds * rng.random() ** 2) + 1)
        chosen[person] = feeds
    return chosen


def _subscriptions(db: sqlite3.Connection, follows: dict[int, set[int]], now: str) -> None:
    legacy = dict(db.execute("SELECT id, category_id FROM feeds").fetchall())
    next_category = int(db.execute("SELECT max(id) FROM categories").fetchone()[0]) + 1
    own: dict[tuple[int, str], int] = {}
    rows = []
    for person in range(2, PEOPLE + 1):
        for title in TITLES:
            own[(person, title)] = next_category
            next_category += 1
    db.executemany(
        "INSERT INTO categories (id, title, user_id) VALUES (?, ?, ?)",
        [(cid, title, person) for (person, title), cid in own.items()],
    )
    for person, feeds in follows.items():
        for feed in sorted(feeds):
            mine = own.get((person, TITLES[feed % len(TITLES)]))
            category = legacy[feed] if person == 1 else mine
            rows.append((person, feed, None, category, now))
    # The shared categories: their curators follow feeds of their own for them.
    wire = next_category
    osint = next_category + 1
    db.executemany(
        "INSERT INTO categories (id, title, user_id) VALUES (?, ?, ?)",
        [(wire, "Wire services", 2), (osint, "OSINT", 3)],
    )
    taken = {(r[0], r[1]) for r in rows}
    curated = ((2, wire, 1501, WIRE_FEEDS), (3, osint, 1601, OSINT_FEEDS))
    for curator, category, first, count in curated:
        for feed in range(first, first + count):
            if (curator, feed) not in taken:
                rows.append((curator, feed, f"Shared feed {feed}", category, now))
    db.executemany(
        "INSERT INTO subscriptions (user_id, feed_id, title, category_id, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        rows,
    )
    shares = [(wire, p, 0, now) for p in range(1, PEOPLE + 1) if p != 2]
    shares += [(osint, p, 1, now) for p in range(4, 14)]
    db.executemany(
        "INSERT INTO category_shares (category_id, user_id, can_manage, created_at) "
        "VALUES (?, ?, ?, ?)",
        shares,
    )


def _visible(db: sqlite3.Connection, person: int) -> list[int]:
    return [
        r[0]
        for r in db.execute(
            "SELECT feed_id FROM subscriptions WHERE user_id = ? UNION "
            "SELECT s.feed_id FROM subscriptions s JOIN category_shares c "
            "ON c.category_id = s.category_id WHERE c.user_id = ?",
            (person, person),
        )
    ]


def _states(db: sqlite3.Connection, rng: random.Random, now: datetime) -> int:
    by_feed: dict[int, array[int]] = {}
    recent: set[int] = set()
    cutoff = _stamp(now - timedelta(days=3))
    for entry_id, feed_id, published in db.execute("SELECT id, feed_id, published FROM entries"):
        by_feed.setdefault(feed_id, array("i")).append(entry_id)
        if published >= cutoff:
            recent.add(entry_id)
    stamp = _stamp(now)
    total = 0
    for person in range(1, PEOPLE + 1):
        rows = []
        for feed in _visible(db, person):
            for entry_id in by_feed.get(feed, ()):
                inbox_zero = person in INBOX_ZERO
                read = entry_id not in recent if inbox_zero else rng.random() < READ_SHARE
                starred = rng.random() < STAR_SHARE
                if read or starred:
                    rows.append(
                        (
                            person,
                            entry_id,
                            feed,
                            read,
                            starred,
                            stamp if read else None,
                            stamp if starred else None,
                            stamp,
                        )
                    )
        db.executemany(
            "INSERT INTO entry_states (user_id, entry_id, feed_id, read, starred, read_at, "
            "starred_at, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        total += len(rows)
    return total


def build(path: Path, base: Path, seed: int = 15) -> dict[str, int | float]:
    if path.exists():
        raise SystemExit(f"{path} exists; remove it first")
    started = time.perf_counter()
    if not base.exists():
        print(f"building {base} (a few minutes)…", file=sys.stderr)
        subprocess.run([sys.executable, str(HERE / "build_big_db.py"), str(base)], check=True)
    shutil.copyfile(base, path)
    rng = random.Random(seed)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")
    now = datetime.now(UTC).replace(tzinfo=None)
    n_feeds = int(db.execute("SELECT count(*) FROM feeds").fetchone()[0])
    db.execute("BEGIN")
    # A base that bench_web has timed already has its admin following every feed, with read
    # and starred states (``bench_web._followed``): the people's follows and states are drawn
    # anew here, the admin's included.
    db.execute("DELETE FROM entry_states")
    db.execute("DELETE FROM subscriptions")
    _people(db, _stamp(now))
    _subscriptions(db, _follows(rng, n_feeds), _stamp(now))
    db.execute("COMMIT")
    db.execute("BEGIN")
    states = _states(db, rng, now)
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    subscribed = int(db.execute("SELECT count(*) FROM subscriptions").fetchone()[0])
    followers = db.execute(
        "SELECT max(n), avg(n) FROM (SELECT count(*) AS n FROM subscriptions GROUP BY feed_id)"
    ).fetchone()
    db.close()
    return {
        "people": PEOPLE,
        "subscriptions": subscribed,
        "most_followers": int(followers[0]),
        "mean_followers": round(float(followers[1]), 1),
        "entry_states": states,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--base", type=Path, required=True, help="build_big_db.py's database")
    args = parser.parse_args()
    print(json.dumps(build(args.out, args.base)))


if __name__ == "__main__":
    main()

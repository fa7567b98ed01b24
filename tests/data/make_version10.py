"""Make the version-10 fixtures of tests/test_teams_migration.py with the code of version 10.

Run with the last single-user commit's code (e15c124), not this one's:

    git worktree add /tmp/v10 e15c124
    PYTHONPATH=/tmp/v10/src python tests/data/make_version10.py sqlite
    PYTHONPATH=/tmp/v10/src python tests/data/make_version10.py postgresql://postgres@HOST/scratch

The first writes tests/data/version10.sqlite.sql (``sqlite3`` iterdump); the second fills the
empty scratch database given and dumps it (``pg_dump --no-owner --no-privileges
--column-inserts``, without comments and psql meta-commands, so the test runs it with psycopg)
into tests/data/version10.pg.sql. Both record in tests/data/version10.json the secrets the tests
need (API keys are random).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newsdesk.model import Entry
from newsdesk.store import open_store
from newsdesk.store.protocols.alerts import NewAlert
from newsdesk.store.protocols.refresh import FeedState
from newsdesk.store.sql import SqlStore

HERE = Path(__file__).parent
PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-22"}
SERVER_KEY = bytes(range(32))  # the test hands the same key to user_by_fever_key
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

# url, custom title, category
FEEDS = [
    ("http://news.example/world.xml", "World desk", "World"),
    ("http://wire.example/feed", None, "World"),
    ("http://tech.example/atom", "Gadgets", "Tech"),
    ("http://blog.example/rss", None, None),  # the default category, General
]
WORDS = ["climate", "election", "harbour", "satellite", "orchard", "glacier"]


def _entry(feed: int, n: int) -> Entry:
    word = WORDS[(feed + n) % len(WORDS)]
    url = f"http://site{feed}.example/{n}"
    text = f"Story {feed}-{n} about the {word}, and a {WORDS[n % len(WORDS)]} too."
    return Entry(
        key=url,
        url=url,
        title=f"{word.title()} report {feed}-{n}",
        author="Reporter",
        kind="post" if feed == 3 else "article",
        published=NOW - timedelta(days=feed, hours=n),
        updated=None,
        content_html=f"<p>{text}</p>",
        content_text=text,
        summary_html=None,
        content_hash=f"{feed:02d}{n:02d}".ljust(64, "0"),
        tags=[word, "news"],
        links=[f"http://site{(feed + 1) % 4}.example/{n}"],
    )


def fill(store: SqlStore) -> dict[str, object]:
    for name, password in PASSWORDS.items():  # alice first
        store.users.set_password(name, password)
    feed_ids = [store.add_feed(u, title=t, category=c).id for u, t, c in FEEDS]
    entry_ids: list[int] = []
    for i, feed_id in enumerate(feed_ids):
        state = FeedState(last_fetched=NOW, last_status=200, title=f"Feed {i}")
        result = store.save_refresh(feed_id, state, [_entry(i, n) for n in range(3)], NOW)
        entry_ids.extend(result.new_ids)
    store.set_flags(entry_ids[0:5], read=True)
    store.set_flags([entry_ids[1], entry_ids[6], entry_ids[9]], starred=True)
    store.labels.add_label([entry_ids[0], entry_ids[4]], "Important")
    store.labels.add_label([entry_ids[4], entry_ids[10]], "Later")
    store.saved_searches.save_search("Climate", "climate", {"category": "World"})
    keys = {name: store.tokens.create_token(name)[1] for name in ("phone", "laptop")}
    watch = store.watchlists.create_watchlist(
        name="Glaciers",
        query="glacier",
        channels={"ntfy": {"url": "https://ntfy.example/newsdesk"}},
    )
    store.alerts.record_alerts([NewAlert(watch.id, entry_ids[2], "ntfy")], NOW)
    store.users.set_fever("alice", on=True, password=PASSWORDS["alice"], server_key=SERVER_KEY)
    return {"passwords": PASSWORDS, "server_key": SERVER_KEY.hex(), "api_keys": keys}


def _postgresql(url: str) -> tuple[dict[str, object], str]:
    store = open_store(url)
    secrets = fill(store)
    store.close()
    options = ["--no-owner", "--no-privileges", "--column-inserts"]
    dump = subprocess.run(
        ["pg_dump", *options, "-d", url], check=True, capture_output=True, text=True
    ).stdout
    lines = [
        line
        for line in dump.splitlines()
        if line and not line.startswith(("--", "\\restrict", "\\unrestrict"))
    ]
    return secrets, "\n".join(lines) + "\n"


def _sqlite() -> tuple[dict[str, object], str]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "v10.db"
        store = open_store(f"sqlite:///{db}")
        secrets = fill(store)
        store.close()
        conn = sqlite3.connect(db)
        # iterdump also writes the rows the FTS5 table reads from ``entries`` (its content
        # table), as INSERTs a fresh database refuses: its index is in its shadow tables.
        fts_rows = 'INSERT INTO "entries_fts" VALUES'
        dump = "\n".join(s for s in conn.iterdump() if not s.startswith(fts_rows)) + "\n"
        conn.close()
    return secrets, dump


def main(target: str) -> None:
    dialect = "sqlite" if target == "sqlite" else "postgresql"
    secrets, dump = _sqlite() if dialect == "sqlite" else _postgresql(target)
    (HERE / f"version10.{'pg' if dialect == 'postgresql' else 'sqlite'}.sql").write_text(dump)
    record = HERE / "version10.json"
    known = json.loads(record.read_text()) if record.exists() else {}
    known[dialect] = secrets
    record.write_text(json.dumps(known, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])

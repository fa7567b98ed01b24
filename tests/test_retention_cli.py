"""Retention from the command line (issue 16): the real `newsdesk` command, run as a process on
a SQLite file against a loopback feed: `newsdesk retention` (a person's default),
`newsdesk feeds FEED --keep-…` (their policy for one feed), `newsdesk cleanup [--dry-run]
[--json]`, and a refresh that does not bring the removed entries back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from routes_server import Answer, RoutesServer

# A dozen runs of the console script (about 1 s each).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def newsdesk(db: str, *args: str) -> Run:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
        ),
        "NEWSDESK_ALLOW_PRIVATE_NETWORKS": "1",
    }
    env.pop("NEWSDESK_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "newsdesk", *args, "--db", db],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def _feed(items: int) -> bytes:
    body = "".join(
        f"<item><guid>https://cli.example/{n}</guid><title>Item {n}</title>"
        f"<link>https://cli.example/{n}</link><description>Text {n}</description>"
        f"<pubDate>Mon, {10 + n} Aug 2026 10:00:00 GMT</pubDate></item>"
        for n in range(items)
    )
    return f"<rss version='2.0'><channel><title>CLI</title>{body}</channel></rss>".encode()


def test_retention_and_cleanup_from_the_command_line(tmp_path: Path, server: RoutesServer) -> None:
    db = f"sqlite:///{tmp_path / 'newsdesk.db'}"
    url = server.route("/feed.xml", Answer(_feed(5)))
    assert newsdesk(db, "add", url).code == 0
    assert newsdesk(db, "refresh", "--no-fulltext").code == 0
    feed = str(newsdesk(db, "feeds", "--json").json()[0]["id"])

    shown = newsdesk(db, "retention", "--keep-days", "30", "--keep-read-days", "7", "--json")
    assert shown.json() == {"default": {"keep_days": 30, "keep_read_days": 7}, "feeds": {}}
    changed = newsdesk(db, "feeds", feed, "--keep-days", "off", "--keep-last", "2")
    assert changed.code == 0, changed.err
    assert f"retention of feed {feed}: no day limit, the last 2" in changed.out
    assert "in effect: read entries 7 days, the last 2" in changed.out
    assert newsdesk(db, "retention", "--json").json()["feeds"] == {
        feed: {"keep_days": None, "keep_last": 2}
    }

    dry = newsdesk(db, "cleanup", "--dry-run", "--json").json()
    assert (dry["dry_run"], dry["removed"], dry["feeds"]) == (True, 3, {feed: 3})
    assert len(newsdesk(db, "entries", "--json").json()) == 5
    done = newsdesk(db, "cleanup")
    assert done.code == 0 and "removed 3 entries from 1 feeds" in done.out, done.out
    assert newsdesk(db, "refresh", "--no-fulltext").code == 0  # the same five items again
    titles = {e["title"] for e in newsdesk(db, "entries", "--json").json()}
    assert titles == {"Item 4", "Item 3"}

    again = newsdesk(db, "feeds", feed, "--retention-default")
    assert "your default (in effect: keep 30 days, read entries 7 days)" in again.out
    assert newsdesk(db, "retention", "--reset", "--json").json()["default"] == {}
    assert newsdesk(db, "cleanup", "--keep-days", "1", "--json").json()["removed"] == 0

    # clear errors
    bad = newsdesk(db, "retention", "--keep-days", "0")
    assert bad.code == 2 and "expected a positive whole number or off, not '0'" in bad.err
    unnamed = newsdesk(db, "feeds", "--keep-last", "3")
    assert unnamed.code == 1 and "name the feed" in unnamed.err
    assert newsdesk(db, "cleanup", "--keep-days", "off").code == 2

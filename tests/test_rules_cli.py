"""`newsdesk rule …` (issue 16) through the real console script, as a process, on SQLite and
PostgreSQL: add (--json gives the id), list, test (count and entries), apply (how many
changed), remove, with --user scoping each to its person and clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from newsdesk.store import EntryQuery, open_store
from routes_server import Answer, RoutesServer
from test_rules import STORIES, feed_xml

# The console script runs about twenty times (about 1 s each): in CI's slow suites.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "newsdesk"


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def newsdesk(db: str, *args: str, stdin: str = "") -> Run:
    """The `newsdesk` console script with ARGS… --db DB, in its own process."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
        ),
        "NEWSDESK_ALLOW_PRIVATE_NETWORKS": "1",  # the loopback feed server
        "NEWSDESK_ENTITIES": "0",
    }
    env.pop("NEWSDESK_DATABASE_URL", None)
    done = subprocess.run(
        [str(SCRIPT), *args, "--db", db],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def ok(db: str, *args: str, stdin: str = "") -> Run:
    run = newsdesk(db, *args, stdin=stdin)
    assert run.code == 0, run.err
    return run


def test_rules_from_the_command_line(store_url: str, server: RoutesServer) -> None:
    assert SCRIPT.exists()
    db = store_url
    url = server.route("/wire.rss", Answer(feed_xml(STORIES)))
    ok(db, "user", "add", "alice", "--role", "admin", stdin="alice's long passphrase")
    ok(db, "user", "add", "bob", stdin="bob's own long passphrase\n")
    for person in ("alice", "bob"):
        ok(db, "add", url, "--user", person)

    made = ok(
        db, "rule", "add", "--when", "smirnov", "--then", "star,tag:smirnov", "--name",
        "Smirnov", "--user", "alice", "--json",
    ).json()  # fmt: skip
    assert made["name"] == "Smirnov" and made["actions"] == ["star", "tag:smirnov"]
    rule_id = made["id"]
    assert [r["id"] for r in ok(db, "rule", "list", "--json", "--user", "alice").json()] == [
        rule_id
    ]
    assert ok(db, "rule", "list", "--json", "--user", "bob").json() == []
    assert (
        "Smirnov: when smirnov → star, tag:smirnov" in ok(db, "rule", "list", "--user", "alice").out
    )

    ok(db, "refresh")  # every feed: alice's rule runs on the new entries
    store = open_store(db)
    try:
        people = {u.username: u.id for u in store.users.list_users()}
        alice, bob = (store.as_person(people[n]) for n in ("alice", "bob"))
        assert [e.title for e in alice.list_entries(EntryQuery(starred=True))] == [STORIES[0][1]]
        assert bob.list_entries(EntryQuery(starred=True)) == []
    finally:
        store.close()
    assert ok(db, "rule", "list", "--json", "--user", "alice").json()[0]["matched"] == 1

    tried = ok(
        db, "rule", "test", "--when", "weather OR cup", "--limit", "1", "--json", "--user", "alice"
    ).json()
    assert tried["count"] == 2
    assert [e["title"] for e in tried["entries"]] == [STORIES[2][1]]
    assert (
        "2 stored entries match"
        in ok(db, "rule", "test", "--when", "weather OR cup", "--user", "alice").out
    )

    second = ok(
        db, "rule", "add", "--when", "weather", "--then", "read", "--user", "alice", "--json"
    ).json()
    assert ok(db, "rule", "apply", str(second["id"]), "--user", "alice").out == "1 entry changed\n"
    assert (
        ok(db, "rule", "apply", str(second["id"]), "--user", "alice").out == "0 entries changed\n"
    )

    # errors: clear, on stderr, and nothing stored
    bad = newsdesk(db, "rule", "add", "--when", 'title~"("', "--then", "block", "--user", "alice")
    assert bad.code != 0 and "title~" in bad.err and "Traceback" not in bad.err
    bad = newsdesk(db, "rule", "add", "--when", "x", "--then", "explode", "--user", "alice")
    assert bad.code != 0 and "unknown action 'explode'" in bad.err
    theirs = newsdesk(db, "rule", "remove", str(rule_id), "--user", "bob")
    assert theirs.code != 0 and f"no rule with id {rule_id}" in theirs.err
    theirs = newsdesk(db, "rule", "apply", str(rule_id), "--user", "bob")
    assert theirs.code != 0 and f"no rule with id {rule_id}" in theirs.err
    assert len(ok(db, "rule", "list", "--json", "--user", "alice").json()) == 2

    assert "removed rule" in ok(db, "rule", "remove", str(rule_id), "--user", "alice").out
    assert [r["id"] for r in ok(db, "rule", "list", "--json", "--user", "alice").json()] == [
        second["id"]
    ]

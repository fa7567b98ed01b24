"""Teams from the command line (issue 15): the real `newsdesk` command, run as a process on a
SQLite file. People (`user add/list/set-role/remove`, the last admin stays), ``--user`` scoping
(bob does not see alice's feeds, entries, search results or subscriptions), a refresh of one
person's feeds (each URL fetched once, whoever follows it), and export-all → import-all with
two people, each one's state kept."""

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
from routes_server import Answer, RoutesServer, rss

# Each test runs the console script a dozen times (about 1 s each): in CI's slow suites.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ALICE_PASSWORD = "alice's long passphrase"
BOB_PASSWORD = "bob's own long passphrase"


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'newsdesk.db'}"


def newsdesk(db: str, *args: str, stdin: str = "") -> Run:
    """`newsdesk ARGS… --db DB` in its own process (stdin not a terminal: passwords from it)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
        ),
        "NEWSDESK_ALLOW_PRIVATE_NETWORKS": "1",  # the loopback feed server
    }
    env.pop("NEWSDESK_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "newsdesk", *args, "--db", db],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def _people(db: str) -> None:
    """alice (admin) and bob (member); the new desk's passwordless admin removed."""
    assert newsdesk(db, "user", "add", "alice", "--role", "admin", stdin=ALICE_PASSWORD).code == 0
    assert newsdesk(db, "user", "add", "bob", stdin=BOB_PASSWORD + "\n").code == 0
    assert newsdesk(db, "user", "remove", "admin").code == 0


@pytest.fixture
def server() -> Any:
    server = RoutesServer()
    server.route("/alpha.xml", Answer(rss("Alpha", items=3, prefix="alpha")))
    server.route("/beta.xml", Answer(rss("Beta", items=2, prefix="beta")))
    yield server
    server.stop()


def test_people_are_added_listed_given_roles_and_removed(db: str) -> None:
    first = newsdesk(db, "user", "list", "--json").json()
    assert [(p["name"], p["role"]) for p in first] == [("admin", "admin")]  # no password yet
    added = newsdesk(db, "user", "add", "alice", "--role", "admin", stdin=ALICE_PASSWORD + "\n")
    assert added.code == 0, added.err
    assert newsdesk(db, "user", "add", "bob", stdin=BOB_PASSWORD + "\n").code == 0
    again = newsdesk(db, "user", "add", "bob", stdin=BOB_PASSWORD + "\n")
    assert again.code == 1 and "already a user named 'bob'" in again.err
    short = newsdesk(db, "user", "add", "carol", stdin="short\n")
    assert short.code == 1 and "at least 8 characters" in short.err
    people = {p["name"]: p for p in newsdesk(db, "user", "list", "--json").json()}
    assert {n: p["role"] for n, p in people.items()} == {
        "admin": "admin",
        "alice": "admin",
        "bob": "member",
    }
    assert people["bob"]["last_login"] is None and people["bob"]["created"]
    table = newsdesk(db, "user", "list").out
    assert "bob" in table and "member" in table and "never" in table
    store = open_store(db)
    try:
        assert store.users.verify_password("alice", ALICE_PASSWORD)
        assert store.users.verify_password("bob", BOB_PASSWORD)
    finally:
        store.close()

    assert newsdesk(db, "user", "set-role", "bob", "admin").code == 0
    assert newsdesk(db, "user", "remove", "admin").code == 0
    assert newsdesk(db, "user", "remove", "alice").code == 0
    assert [(p["name"], p["role"]) for p in newsdesk(db, "user", "list", "--json").json()] == [
        ("bob", "admin")
    ]
    last = newsdesk(db, "user", "remove", "bob")
    assert last.code == 1 and "at least one admin" in last.err
    demoted = newsdesk(db, "user", "set-role", "bob", "member")
    assert demoted.code == 1 and "at least one admin" in demoted.err
    bad_role = newsdesk(db, "user", "set-role", "bob", "owner")
    assert bad_role.code == 2  # argparse: not one of admin, member
    nobody = newsdesk(db, "user", "remove", "zoe")
    assert nobody.code == 1 and "newsdesk user list" in nobody.err
    # set-password without --username: the first admin (bob now)
    assert newsdesk(db, "user", "set-password", stdin="a new passphrase\n").out.strip() == (
        "password set for bob"
    )


def test_user_scopes_subscriptions_entries_and_search(db: str, server: RoutesServer) -> None:
    _people(db)
    alpha, beta = server.base + "/alpha.xml", server.base + "/beta.xml"
    assert newsdesk(db, "add", alpha, "--category", "World", "--user", "alice").code == 0
    assert newsdesk(db, "add", beta, "--title", "Bob's beta", "--user", "bob").code == 0
    newsdesk(db, "refresh", "--no-fulltext")

    def feeds(who: str) -> dict[str, Any]:
        return {f["url"]: f for f in newsdesk(db, "feeds", "--json", "--user", who).json()}

    assert list(feeds("alice")) == [alpha] and feeds("alice")[alpha]["category"] == "World"
    assert list(feeds("bob")) == [beta] and feeds("bob")[beta]["title"] == "Bob's beta"
    # without --user: the first admin's (alice's)
    assert [f["url"] for f in newsdesk(db, "feeds", "--json").json()] == [alpha]

    def titles(*args: str) -> set[str]:
        return {e["title"] for e in newsdesk(db, *args, "--json").json()}

    assert titles("entries", "--user", "alice") == {f"alpha {i} of Alpha" for i in range(3)}
    assert titles("entries", "--user", "bob") == {f"beta {i} of Beta" for i in range(2)}
    assert titles("search", "Alpha", "--user", "bob") == set()
    assert titles("search", "Alpha", "--user", "alice") == {f"alpha {i} of Alpha" for i in range(3)}
    assert "alpha" not in newsdesk(db, "digest", "--user", "bob").out

    # bob cannot reach alice's subscription; his OPML is his
    hidden = newsdesk(db, "remove", alpha, "--user", "bob")
    assert hidden.code == 1 and "no feed matches" in hidden.err
    changed = newsdesk(db, "feeds", alpha, "--title", "Mine", "--user", "bob")
    assert changed.code == 1
    assert feeds("alice")[alpha]["title"] == "Alpha"
    opml = newsdesk(db, "export", "--user", "bob").out
    assert beta in opml and alpha not in opml

    # an unknown person is a clear error naming `newsdesk user list`
    for args in (("feeds",), ("entries",), ("add", "--no-check", alpha), ("token", "list")):
        unknown = newsdesk(db, *args, "--user", "zoe")
        assert unknown.code == 1 and "newsdesk user list" in unknown.err, args

    # bob follows alpha too: his own title; alice's stays
    assert newsdesk(db, "add", alpha, "--title", "A for bob", "--user", "bob").code == 0
    assert feeds("bob")[alpha]["title"] == "A for bob" and feeds("alice")[alpha]["title"] == "Alpha"
    # alice leaves alpha: it stays (bob follows it), with its entries
    assert newsdesk(db, "remove", alpha, "--user", "alice").code == 0
    assert feeds("alice") == {}
    assert len(titles("entries", "--user", "bob")) == 5


def test_refresh_user_fetches_only_their_feeds_once(db: str, server: RoutesServer) -> None:
    _people(db)
    alpha, beta = server.base + "/alpha.xml", server.base + "/beta.xml"
    for who, url in (("alice", alpha), ("bob", beta), ("bob", alpha)):
        assert newsdesk(db, "add", "--no-check", url, "--user", who).code == 0
    assert server.hits == []

    done = newsdesk(db, "refresh", "--no-fulltext", "--user", "alice")
    assert done.code == 0, done.err
    assert [path for path, _ in server.hits] == ["/alpha.xml"]
    assert "1 feeds, 3 new entries" in done.out

    server.hits.clear()
    done = newsdesk(db, "refresh", "--no-fulltext", "--user", "bob")  # alpha and beta, once each
    assert sorted(path for path, _ in server.hits) == ["/alpha.xml", "/beta.xml"]

    server.hits.clear()
    everyone = newsdesk(db, "refresh", "--no-fulltext")  # without --user: every feed, once
    assert everyone.code == 0, everyone.err
    assert sorted(path for path, _ in server.hits) == ["/alpha.xml", "/beta.xml"]

    server.hits.clear()
    one = newsdesk(db, "refresh", "--no-fulltext", "--feed", beta)  # any feed, by the system
    assert one.code == 0 and [path for path, _ in server.hits] == ["/beta.xml"]
    hidden = newsdesk(db, "refresh", "--feed", beta, "--user", "alice")
    assert hidden.code == 1 and "no feed matches" in hidden.err


def _person_state(db: str, name: str) -> dict[str, Any]:
    """What one person has: their feeds, entries with read/starred, keys, in the CLI's JSON."""
    entries = newsdesk(db, "entries", "--json", "--limit", "100", "--user", name).json()
    return {
        "feeds": newsdesk(db, "feeds", "--json", "--user", name).json(),
        "entries": sorted((e["id"], e["read"], e["starred"]) for e in entries),
        "keys": [
            (k["name"], k["prefix"])
            for k in newsdesk(db, "token", "list", "--json", "--user", name).json()
        ],
    }


def test_export_all_and_import_all_keep_each_persons_state(
    db: str, server: RoutesServer, tmp_path: Path
) -> None:
    _people(db)
    alpha, beta = server.base + "/alpha.xml", server.base + "/beta.xml"
    newsdesk(db, "add", alpha, "--category", "World", "--user", "alice")
    newsdesk(db, "add", alpha, "--title", "Alpha for bob", "--category", "Mine", "--user", "bob")
    newsdesk(db, "add", beta, "--user", "bob")
    newsdesk(db, "refresh", "--no-fulltext")
    assert newsdesk(db, "token", "create", "bob's reader", "--user", "bob").code == 0
    store = open_store(db)
    try:
        alice = store.as_person(store.users.person("alice").id)
        bob = store.as_person(store.users.person("bob").id)
        ids = [e.id for e in bob.list_entries(EntryQuery(limit=100))]
        bob.set_flags(ids[:2], read=True)
        bob.set_flags(ids[1:3], starred=True)
        alice.set_flags([e.id for e in alice.list_entries(EntryQuery(limit=1))], read=True)
    finally:
        store.close()
    before = {name: _person_state(db, name) for name in ("alice", "bob")}
    assert before["alice"]["entries"] != before["bob"]["entries"]
    assert before["bob"]["keys"] and not before["alice"]["keys"]

    path = tmp_path / "all.jsonl"
    exported = newsdesk(db, "export-all", "--output", str(path))
    assert exported.code == 0, exported.err
    target = f"sqlite:///{tmp_path / 'target.db'}"
    imported = newsdesk(target, "import-all", str(path))
    assert imported.code == 0, imported.err

    assert (
        newsdesk(target, "user", "list", "--json").json()
        == newsdesk(db, "user", "list", "--json").json()
    )
    after = {name: _person_state(target, name) for name in ("alice", "bob")}
    assert after == before
    store = open_store(target)
    try:
        assert store.users.verify_password("bob", BOB_PASSWORD)
        assert store.users.verify_password("alice", ALICE_PASSWORD)
    finally:
        store.close()
    again = newsdesk(target, "import-all", str(path))  # the target has people now
    assert again.code == 1 and "not empty" in again.err

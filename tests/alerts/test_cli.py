"""`newsdesk watch …` and `newsdesk alerts …` run in-process: entities by name, feeds by URL,
secrets shown once and masked after, test deliveries, sending and listing alerts, and a clear
one-line error for every bad input."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from newsdesk.alerts import match_entries
from newsdesk.demo import SEED_FEEDS
from newsdesk.demo.server import SampleServer
from newsdesk.store.protocols.refresh import EntryQuery
from newsdesk.store.sql import SqlStore
from newsdesk.store.watchlists import MASK

from .conftest import Receiver, World, add_entity, add_entry, mention


def _now() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=1)


def test_watch_commands(
    cli: Any, store: SqlStore, store_url: str, world: World, receiver: Receiver
) -> None:
    db = ("--db", store_url)
    hook = receiver.url("/hook")
    result = cli(
        "watch", "add", "Smirnov case", "--entity", "alexander smirnov", "--entity", "FBI",
        "--feed", "https://wire.example/feed", "--category", "world", "--query", "informant",
        "--webhook", hook, "--secret", "s3cret", "--ntfy", receiver.url("/topic"),
        "--ntfy-token", "tk_1", "--ntfy-priority", "high", "--mode", "hourly", *db,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "Smirnov case" in result.out and "hourly" in result.out
    assert "s3cret" in result.out  # shown once, when made
    (w,) = store.watchlists.list_watchlists()
    assert w.entity_ids == (world.smirnov, world.fbi)
    assert (w.feed_ids, w.categories, w.query) == ((world.world_feed,), ("World",), "informant")
    assert w.channels["ntfy"] == {"url": receiver.url("/topic"), "token": "tk_1", "priority": 4}

    listed = cli("watch", "list", "--json", *db)
    assert listed.code == 0, listed.err
    (shown,) = listed.json()
    assert shown["channels"]["webhook"]["secret"] == MASK
    assert shown["channels"]["ntfy"]["token"] == MASK
    assert shown["alerts"]["pending"] == 0
    assert "Smirnov case" in cli("watch", "list", *db).out

    # A generated secret is printed; JSON output carries it too.
    made = cli("watch", "add", "harbour", "--query", "harbour", "--webhook", hook, "--json", *db)
    assert made.code == 0, made.err
    secret = made.json()["channels"]["webhook"]["secret"]
    assert len(secret) >= 24 and secret != MASK

    tested = cli("watch", "test", "harbour", *db)
    assert tested.code == 0, tested.err
    assert "webhook: delivered" in tested.out
    assert receiver.on("/hook")[-1].headers["X-Newsdesk-Event"] == "test"

    entry = add_entry(store, world.world_feed, "The harbour closes", first_seen=_now())
    assert match_entries(store.alerts, [entry]) == 1
    pending = cli("alerts", "list", "--json", *db)
    assert [(a["status"], a["entry_id"]) for a in pending.json()] == [("pending", entry)]
    sent = cli("alerts", "send", *db)
    assert sent.code == 0, sent.err
    assert "1 alert sent in 1 message" in sent.out
    assert json.loads(receiver.on("/hook")[-1].body)["entries"][0]["id"] == entry
    text = cli("alerts", "list", "--watch", "harbour", *db)
    assert "sent" in text.out and "The harbour closes" in text.out
    assert cli("alerts", "list", "--status", "failed", *db).out.strip() == "no alerts"
    assert cli("alerts", "send", "--json", *db).json()["sent"] == 0

    removed = cli("watch", "remove", "HARBOUR", *db)
    assert removed.code == 0, removed.err
    assert store.watchlists.get_watchlist("harbour") is None


def test_watch_test_reports_a_broken_channel(
    cli: Any, store: SqlStore, store_url: str, world: World, receiver: Receiver
) -> None:
    db = ("--db", store_url)
    add = cli("watch", "add", "w", "--query", "x", "--webhook", receiver.url("/hook"),
              "--ntfy", receiver.url("/gone", status=410), *db)  # fmt: skip
    assert add.code == 0, add.err
    result = cli("watch", "test", "w", *db)
    assert result.code == 1
    assert "webhook: delivered" in result.out and "ntfy: FAILED: HTTP 410" in result.out
    assert "test delivery failed on ntfy" in result.err


def test_bad_input(cli: Any, store: SqlStore, store_url: str, world: World) -> None:
    db = ("--db", store_url)
    add_entity(store, "place", "georgia", "Georgia")
    add_entity(store, "person", "georgia", "Georgia")
    hook = ("--webhook", "https://hooks.example/in")
    cases = [
        (["--query", "x"], "say where alerts go"),
        (["--query", "x", "--secret", "s"], "give --webhook URL too"),
        (["--query", "x", "--ntfy-token", "t", *hook], "need --ntfy URL"),
        (["--entity", "Weiss", *hook], "no entity named 'Weiss'"),
        (["--entity", "georg", *hook], "could be more than one entity"),
        (["--feed", "https://nowhere.example/feed", *hook], "no feed matches"),
        ([*hook], "needs something to watch"),
        (["--query", "x", "--webhook", "file:///etc/passwd"], "must be an http"),
        (["--query", "x", "--email", "nobody", *hook], "not an e-mail address"),
        (["--query", "x", "--ntfy", "http://n.example/t", "--ntfy-priority", "9"], "priority"),
    ]
    for args, message in cases:
        result = cli("watch", "add", "w", *args, *db)
        assert result.code == 1, (args, result.out)
        assert message in result.err, (args, result.err)
        assert "Traceback" not in result.err
    assert store.watchlists.list_watchlists() == []
    assert cli("watch", "add", "w", "--query", "x", "--mode", "weekly", *hook, *db).code == 2
    assert cli("watch", "add", "w", "--query", "x", *hook, *db).code == 0
    again = cli("watch", "add", "w", "--query", "y", *hook, *db)
    assert again.code == 1 and "already a watchlist named 'w'" in again.err
    for args in (["watch", "remove", "nope"], ["watch", "test", "nope"],
                 ["alerts", "list", "--watch", "nope"]):  # fmt: skip
        result = cli(*args, *db)
        assert result.code == 1 and "no watchlist 'nope'" in result.err
    assert cli("alerts", "list", "--limit", "0", *db).code == 1
    assert len(store.watchlists.list_watchlists()) == 1


def test_entity_mentions_drive_alerts_from_the_cli(
    cli: Any, store: SqlStore, store_url: str, world: World, receiver: Receiver
) -> None:
    db = ("--db", store_url)
    assert cli("watch", "add", "fbi", "--entity", str(world.fbi), "--ntfy",
               receiver.url("/topic"), *db).code == 0  # fmt: skip
    hit = add_entry(store, world.tech_feed, "Bureau news", "Agents said", first_seen=_now())
    miss = add_entry(store, world.tech_feed, "FBI in the title only", first_seen=_now())
    mention(store, hit, world.fbi)
    assert match_entries(store.alerts, [hit, miss]) == 1
    assert "1 alert sent" in cli("alerts", "send", *db).out
    (push,) = receiver.on("/topic")
    assert push.headers["Title"] == "fbi: Bureau news"


def test_seed_refresh_raises_alerts(
    cli: Any, sqlite_url: str, seed_server: SampleServer, receiver: Receiver
) -> None:
    """End to end on the seed sample: a watchlist made first, then a real refresh; each entry
    the search index finds for "Smirnov" alerts exactly once."""
    from sqlalchemy import select

    from newsdesk.store import open_store
    from newsdesk.store.schema import entries

    db = ("--db", sqlite_url)
    for path in SEED_FEEDS:
        assert cli("add", seed_server.base + path, "--no-check", *db).code == 0
    made = cli("watch", "add", "smirnov", "--query", "Smirnov", "--webhook",
               receiver.url("/hook"), "--json", *db)  # fmt: skip
    assert made.code == 0, made.err
    secret = made.json()["channels"]["webhook"]["secret"]
    assert cli("refresh", "--no-fulltext", *db).code == 0
    store = open_store(sqlite_url)
    try:
        with store.engine.connect() as conn:
            ids = list(conn.execute(select(entries.c.id)).scalars())
        found = {e.id for e in store.search("Smirnov", EntryQuery(limit=1000))}
        assert found and len(found) < len(ids)
        # The refresh's own intelligence stage may have matched (and sent) them already;
        # either way, matching again and sending again adds nothing twice.
        match_entries(store.alerts, ids)
        assert match_entries(store.alerts, ids) == 0
    finally:
        store.close()
    assert cli("alerts", "send", *db).code == 0
    assert cli("alerts", "send", *db).code == 0
    hooks = receiver.on("/hook")
    assert len(hooks) == len(found)
    assert {json.loads(h.body)["entries"][0]["id"] for h in hooks} == found
    for h in hooks:
        digest = hmac.new(secret.encode(), h.body, hashlib.sha256).hexdigest()
        assert h.headers["X-Newsdesk-Signature"] == f"sha256={digest}"

"""Delivering alerts to real servers on loopback: a webhook receiver checking the HMAC of the
exact body, an ntfy-style receiver, an SMTP server (aiosmtpd). At most once per entry and
channel, digests when their period has passed (``now`` injected), failures retried on the next
run until the attempts are used up, one broken channel never stopping the others, the SSRF
guard. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

from sqlalchemy import select

from newsdesk.alerts import deliver_due, match_entries, send_test
from newsdesk.alerts.deliver import INTERRUPTED
from newsdesk.store.schema import alerts, watchlists
from newsdesk.store.sql import SqlStore

from .conftest import T0, Inbox, Receiver, World, add_entry, free_port, make_settings, mention

SECRET = "correct horse battery staple"


def _statuses(store: SqlStore) -> dict[tuple[int, str], tuple[str, int]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(alerts.c.entry_id, alerts.c.channel, alerts.c.status, alerts.c.attempts)
        )
        return {(int(e), str(c)): (str(s), int(a)) for e, c, s, a in rows}


def _verify(body: bytes, signature: str) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def test_instant_on_every_channel_once(
    store: SqlStore, store_url: str, world: World, receiver: Receiver, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = make_settings(store_url, port)
    w = store.watchlists.create_watchlist(
        name="Smirnov case",
        entity_ids=[world.smirnov],
        channels={
            "webhook": {"url": receiver.url("/hook"), "secret": SECRET},
            "ntfy": {"url": receiver.url("/desk-topic"), "token": "tk_abc", "priority": 4},
            "email": {"to": ["editor@example.org"]},
        },
        now=T0,
    )
    e1 = add_entry(
        store,
        world.world_feed,
        "Informant Smirnov charged — “a lie”",
        "Prosecutors say Alexander Smirnov invented the story. " * 20,
        url="https://wire.example/smirnov?x=1&y=é",
    )
    mention(store, e1, world.smirnov)
    assert match_entries(store.alerts, [e1]) == 3
    report = deliver_due(store.alerts, settings, now=T0 + timedelta(minutes=10))
    assert (report.sent, report.messages, report.failed, report.retrying) == (3, 3, 0, 0)
    assert report.errors == []
    assert report.summary == "3 alerts sent in 3 messages"

    (hook,) = receiver.on("/hook")
    assert _verify(hook.body, hook.headers["X-Newsdesk-Signature"])
    assert hook.headers["X-Newsdesk-Event"] == "alert"
    assert hook.headers["X-Newsdesk-Timestamp"] == str(
        int((T0 + timedelta(minutes=10)).timestamp())
    )
    assert hook.headers["Content-Type"].startswith("application/json")
    payload = json.loads(hook.body)
    assert payload["event"] == "alert"
    assert payload["watchlist"] == {"id": w.id, "name": "Smirnov case", "mode": "instant"}
    (entry,) = payload["entries"]
    assert entry["id"] == e1 and entry["title"] == "Informant Smirnov charged — “a lie”"
    assert entry["url"] == "https://wire.example/smirnov?x=1&y=é"
    assert entry["feed"] == "Wire" and entry["story_id"] is None
    assert entry["published"].endswith("Z")
    assert entry["snippet"].startswith("Prosecutors say") and entry["snippet"].endswith("…")
    assert len(entry["snippet"]) <= 281
    # A body changed by one byte no longer verifies.
    assert not _verify(
        hook.body.replace(b"Smirnov", b"Smirnow", 1), hook.headers["X-Newsdesk-Signature"]
    )

    (push,) = receiver.on("/desk-topic")
    assert push.headers["Authorization"] == "Bearer tk_abc"
    assert push.headers["Priority"] == "4"
    assert push.headers["Tags"] == "newspaper"
    assert push.headers["Click"] == "https://wire.example/smirnov?x=1&y=%C3%A9"
    from email.header import decode_header, make_header

    assert str(make_header(decode_header(push.headers["Title"]))) == (
        "Smirnov case: Informant Smirnov charged — “a lie”"
    )
    text = push.body.decode()
    assert "Wire · " in text and "https://wire.example/smirnov" in text

    ((sender, recipients, message),) = inbox.messages
    assert (sender, recipients) == ("desk@example.org", ["editor@example.org"])
    assert message["Subject"] == "[Newsdesk] Smirnov case: Informant Smirnov charged — “a lie”"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert "Prosecutors say Alexander Smirnov" in plain.get_content()
    assert 'href="https://wire.example/smirnov?x=1&amp;y=é"' in html.get_content()

    assert set(_statuses(store).values()) == {("sent", 1)}
    # Matching and delivering again sends nothing more.
    assert match_entries(store.alerts, [e1]) == 0
    again = deliver_due(store.alerts, settings, now=T0 + timedelta(minutes=20))
    assert (again.sent, again.messages) == (0, 0)
    assert len(receiver.hits) == 2 and len(inbox.messages) == 1
    assert all(a.sent_at is not None for a in store.watchlists.list_alerts())


def test_failure_retry_and_one_broken_channel(
    store: SqlStore, store_url: str, world: World, receiver: Receiver
) -> None:
    settings = make_settings(store_url, alert_attempts=3)
    store.watchlists.create_watchlist(
        name="words",
        query="harbour",
        channels={
            "webhook": {"url": receiver.url("/hook", status=500), "secret": SECRET},
            "ntfy": {"url": receiver.url("/topic")},
            "email": {"to": ["x@example.org"]},  # settings name no SMTP server
        },
        now=T0,
    )
    e1 = add_entry(store, world.world_feed, "The harbour closes")
    match_entries(store.alerts, [e1])
    first = deliver_due(store.alerts, settings, now=T0 + timedelta(minutes=10))
    assert (first.sent, first.retrying, first.failed) == (1, 2, 0)
    assert any("HTTP 500" in e for e in first.errors)
    assert any("NEWSDESK_SMTP_HOST" in e for e in first.errors)
    assert _statuses(store) == {
        (e1, "ntfy"): ("sent", 1),
        (e1, "webhook"): ("pending", 1),
        (e1, "email"): ("pending", 1),
    }
    (failed_hook,) = store.watchlists.list_alerts(status="pending", limit=1)
    assert failed_hook.error

    receiver.routes["/hook"].status = 202  # the receiver is fixed
    second = deliver_due(store.alerts, settings, now=T0 + timedelta(minutes=11))
    assert (second.sent, second.retrying, second.failed) == (1, 1, 0)
    assert len(receiver.on("/hook")) == 2 and len(receiver.on("/topic")) == 1
    third = deliver_due(store.alerts, settings, now=T0 + timedelta(minutes=12))
    assert (third.sent, third.retrying, third.failed) == (0, 0, 1)
    assert _statuses(store) == {
        (e1, "ntfy"): ("sent", 1),
        (e1, "webhook"): ("sent", 2),
        (e1, "email"): ("failed", 3),
    }
    # A failed alert is never tried again.
    assert deliver_due(store.alerts, settings, now=T0 + timedelta(hours=1)).failed == 0
    assert _statuses(store)[(e1, "email")] == ("failed", 3)


def test_unreachable_and_guarded_addresses(store: SqlStore, store_url: str, world: World) -> None:
    store.watchlists.create_watchlist(
        name="closed",
        query="harbour",
        channels={"webhook": {"url": f"http://127.0.0.1:{free_port()}/hook"}},
        now=T0,
    )
    match_entries(store.alerts, [add_entry(store, world.world_feed, "harbour")])
    report = deliver_due(store.alerts, make_settings(store_url, alert_attempts=1))
    assert report.failed == 1 and "cannot connect to 127.0.0.1" in report.errors[0]

    # Without allow_private_networks, the SSRF guard refuses loopback before connecting.
    store.watchlists.create_watchlist(
        name="guarded",
        query="tide",
        channels={"ntfy": {"url": "http://127.0.0.1:9/topic"}},
        now=T0,
    )
    match_entries(store.alerts, [add_entry(store, world.world_feed, "tide")])
    guarded = make_settings(store_url, allow_private_networks=False, alert_attempts=1)
    report = deliver_due(store.alerts, guarded)
    assert report.failed == 1 and "not a public address" in report.errors[0]


def test_digest_when_the_period_has_passed(
    store: SqlStore, store_url: str, world: World, receiver: Receiver, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = make_settings(store_url, port)
    w = store.watchlists.create_watchlist(
        name="Daily wire",
        feed_ids=[world.world_feed],
        channels={
            "webhook": {"url": receiver.url("/hook"), "secret": SECRET},
            "ntfy": {"url": receiver.url("/topic")},
            "email": {"to": ["desk@example.org"]},
        },
        mode="daily",
        now=T0,
    )
    ids = [add_entry(store, world.world_feed, f"Story {i}") for i in range(12)]
    assert match_entries(store.alerts, ids) == 36
    early = deliver_due(store.alerts, settings, now=T0 + timedelta(hours=23))
    assert (early.sent, early.messages) == (0, 0) and receiver.hits == []

    due = deliver_due(store.alerts, settings, now=T0 + timedelta(hours=24))
    assert (due.sent, due.messages) == (36, 3)
    (hook,) = receiver.on("/hook")
    assert _verify(hook.body, hook.headers["X-Newsdesk-Signature"])
    assert hook.headers["X-Newsdesk-Event"] == "digest"
    payload = json.loads(hook.body)
    assert payload["event"] == "digest" and payload["watchlist"]["mode"] == "daily"
    assert sorted(e["id"] for e in payload["entries"]) == sorted(ids)
    (push,) = receiver.on("/topic")
    assert push.headers["Title"] == "Daily wire: 12 new entries"
    assert "Click" not in push.headers
    assert push.body.decode().count("• Story") == 10 and "… and 2 more" in push.body.decode()
    ((_, _, message),) = inbox.messages
    assert message["Subject"] == "[Newsdesk] Daily wire: 12 new entries"
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None
    lines = plain.get_content().splitlines()
    assert [line for line in lines if line.startswith("Story")] == [
        f"Story {i}" for i in range(11, -1, -1)
    ]
    stored = store.watchlists.get_watchlist(w.id)
    assert stored is not None and stored.last_digest_at == T0 + timedelta(hours=24)

    # The next entries wait for the next period.
    later = [add_entry(store, world.world_feed, "Late story", first_seen=T0 + timedelta(hours=25))]
    match_entries(store.alerts, later)
    assert deliver_due(store.alerts, settings, now=T0 + timedelta(hours=30)).messages == 0
    assert len(receiver.hits) == 2
    nxt = deliver_due(store.alerts, settings, now=T0 + timedelta(hours=48))
    assert (nxt.sent, nxt.messages) == (3, 3)
    assert [e["id"] for e in json.loads(receiver.on("/hook")[1].body)["entries"]] == later


def test_failed_digest_is_retried_before_the_next_period(
    store: SqlStore, store_url: str, world: World, receiver: Receiver
) -> None:
    settings = make_settings(store_url)
    store.watchlists.create_watchlist(
        name="Hourly",
        query="story",
        channels={"webhook": {"url": receiver.url("/hook", status=503)}},
        mode="hourly",
        now=T0,
    )
    match_entries(
        store.alerts, [add_entry(store, world.world_feed, f"story {i}") for i in range(3)]
    )
    failed = deliver_due(store.alerts, settings, now=T0 + timedelta(hours=1))
    assert (failed.retrying, failed.messages) == (3, 0)
    receiver.routes["/hook"].status = 200
    retried = deliver_due(store.alerts, settings, now=T0 + timedelta(hours=1, minutes=1))
    assert (retried.sent, retried.messages) == (3, 1)
    assert len(receiver.on("/hook")) == 2


def test_send_test(store: SqlStore, store_url: str, world: World, receiver: Receiver) -> None:
    w = store.watchlists.create_watchlist(
        name="Test me",
        query="x",
        channels={
            "webhook": {"url": receiver.url("/hook"), "secret": SECRET},
            "ntfy": {"url": receiver.url("/broken", status=404)},
        },
    )
    results = send_test(make_settings(store_url), w)
    assert results["webhook"] is None
    assert results["ntfy"] is not None and "HTTP 404" in results["ntfy"]
    (hook,) = receiver.on("/hook")
    assert hook.headers["X-Newsdesk-Event"] == "test"
    assert _verify(hook.body, hook.headers["X-Newsdesk-Signature"])
    assert json.loads(hook.body)["entries"] == []
    with store.engine.connect() as conn:
        assert conn.execute(select(alerts)).all() == []  # a test records nothing
        assert conn.execute(select(watchlists.c.last_digest_at)).scalar() is None


def test_stale_sending_rows_become_failed_never_resent(
    store: SqlStore, store_url: str, world: World, receiver: Receiver
) -> None:
    """A row left in "sending" (a run killed mid-send, see test_crash) is not sent again; once
    older than any send could take, it is marked failed."""
    from sqlalchemy import update

    from newsdesk.store.engine import write_transaction

    settings = make_settings(store_url)
    store.watchlists.create_watchlist(
        name="w", query="story", channels={"webhook": {"url": receiver.url("/h")}}
    )
    match_entries(
        store.alerts,
        [add_entry(store, world.world_feed, "story", first_seen=T0 + timedelta(days=400))],
    )
    with write_transaction(store.engine) as conn:
        conn.execute(update(alerts).values(status="sending", sent_at=T0 + timedelta(days=400)))
    soon = deliver_due(store.alerts, settings, now=T0 + timedelta(days=400, minutes=1))
    assert (soon.sent, soon.failed) == (0, 0)
    late = deliver_due(store.alerts, settings, now=T0 + timedelta(days=400, hours=1))
    assert (late.sent, late.failed) == (0, 1)
    (row,) = store.watchlists.list_alerts()
    assert (row.status, row.error) == ("failed", INTERRUPTED)
    assert receiver.hits == []

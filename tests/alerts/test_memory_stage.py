"""The alerts stage on ``MemoryAlerts`` (no database): what matches, what a delivery run sends,
retries, digests, orphans and stale claims. Webhooks go to a loopback receiver. Fast: the same
code as on SQLite and PostgreSQL (``test_delivery.py``), without the store."""

from __future__ import annotations

import json
from datetime import timedelta

from fakes.memory_alerts import MemoryAlerts
from newsdesk.alerts import deliver_due, match_entries
from newsdesk.alerts.deliver import INTERRUPTED, plan_claim
from newsdesk.settings import Settings, load_settings
from newsdesk.store.protocols.alerts import PendingAlert

from .conftest import T0, Receiver

LATER = T0 + timedelta(minutes=5)


def _settings(**overrides: object) -> Settings:
    values: dict[str, object] = {"allow_private_networks": True, "alert_timeout": 5.0}
    values.update(overrides)
    return load_settings(env={}, **values)


def test_matching_every_criterion_once() -> None:
    fake = MemoryAlerts()
    hook = {"webhook": {"url": "https://h.example/", "secret": "s"}}
    two = {**hook, "ntfy": {"url": "https://ntfy.example/t"}}
    words = fake.add_watchlist("words", query="harbour strike", channels=two, created_at=T0)
    people = fake.add_watchlist("people", entity_ids=[7], channels=hook, created_at=T0)
    tech = fake.add_watchlist(
        "tech", categories=["tech"], feed_ids=[2], channels=hook, created_at=T0
    )
    fake.add_watchlist("off", query="harbour", channels=hook, created_at=T0, enabled=False)
    hit = fake.add_entry("Harbour strike ends", first_seen=LATER, entity_ids=[7])
    half = fake.add_entry("Harbour reopens", first_seen=LATER)
    gadget = fake.add_entry("A phone", first_seen=LATER, feed_id=2, category="Tech")
    wrong_feed = fake.add_entry("A laptop", first_seen=LATER, feed_id=3, category="Tech")
    archive = fake.add_entry("Harbour strike of 1990", first_seen=T0 - timedelta(days=1))

    ids = [hit, half, gadget, wrong_feed, archive]
    assert match_entries(fake, ids, now=LATER) == 4  # words on two channels, people, tech
    assert sorted((a.watchlist_id, a.entry_id, a.channel) for a in fake.alerts.values()) == [
        (words.id, hit, "ntfy"),
        (words.id, hit, "webhook"),
        (people.id, hit, "webhook"),
        (tech.id, gadget, "webhook"),
    ]
    assert match_entries(fake, ids, now=LATER) == 0  # at most once
    assert match_entries(fake, [], now=LATER) == 0


def test_no_watchlist_no_work() -> None:
    fake = MemoryAlerts()
    entry = fake.add_entry("Anything", first_seen=LATER)
    assert match_entries(fake, [entry]) == 0
    assert deliver_due(fake, _settings(), now=LATER).as_dict()["messages"] == 0


def test_instant_delivery_then_retry_until_failed(receiver: Receiver) -> None:
    fake = MemoryAlerts()
    good = {"webhook": {"url": receiver.url("/ok"), "secret": "s"}}
    bad = {"webhook": {"url": receiver.url("/down", status=503), "secret": "s"}}
    fake.add_watchlist("good", query="tide", channels=good, created_at=T0)
    fake.add_watchlist("bad", query="tide", channels=bad, created_at=T0)
    entry = fake.add_entry("High tide tonight", first_seen=LATER)
    assert match_entries(fake, [entry], now=LATER) == 2
    settings = _settings(alert_attempts=2)

    first = deliver_due(fake, settings, now=LATER)
    assert (first.sent, first.messages, first.retrying, first.failed) == (1, 1, 1, 0)
    assert "HTTP 503" in first.errors[0]
    body = json.loads(receiver.on("/ok")[0].body)
    assert body["event"] == "alert"
    assert [e["title"] for e in body["entries"]] == ["High tide tonight"]
    second = deliver_due(fake, settings, now=LATER + timedelta(minutes=1))
    assert (second.sent, second.failed, second.retrying) == (0, 1, 0)
    assert sorted((a.status, a.attempts) for a in fake.alerts.values()) == [
        ("failed", 2),
        ("sent", 1),
    ]
    assert len(receiver.on("/ok")) == 1 and len(receiver.on("/down")) == 2
    assert deliver_due(fake, settings, now=LATER + timedelta(minutes=2)).messages == 0


def test_digest_waits_for_its_period(receiver: Receiver) -> None:
    fake = MemoryAlerts()
    hook = {"webhook": {"url": receiver.url("/digest"), "secret": "s"}}
    daily = fake.add_watchlist("daily", query="rain", channels=hook, created_at=T0, mode="daily")
    ids = [fake.add_entry(f"Rain {n}", first_seen=LATER) for n in range(3)]
    assert match_entries(fake, ids, now=LATER) == 3

    early = deliver_due(fake, _settings(), now=T0 + timedelta(hours=23))
    assert early.messages == 0 and not receiver.hits
    due = deliver_due(fake, _settings(), now=T0 + timedelta(hours=24))
    assert (due.sent, due.messages) == (3, 1)
    body = json.loads(receiver.on("/digest")[0].body)
    assert body["event"] == "digest" and len(body["entries"]) == 3
    assert fake.watchlists[daily.id].last_digest_at == T0 + timedelta(hours=24)


def test_orphans_and_stale_claims_fail() -> None:
    fake = MemoryAlerts()
    hook = {"webhook": {"url": "https://h.example/", "secret": "s"}}
    both = {**hook, "email": {"to": ["a@b.example"]}}
    w = fake.add_watchlist("w", query="quake", channels=both, created_at=T0, mode="hourly")
    entry = fake.add_entry("Quake", first_seen=LATER)
    assert match_entries(fake, [entry], now=LATER) == 2
    for alert in fake.alerts.values():  # a run killed mid-send left this one "sending"
        if alert.channel == "webhook":
            alert.status, alert.sent_at = "sending", LATER
    fake.change_watchlist(w.id, channels=hook)  # the e-mail channel was removed
    report = deliver_due(fake, _settings(), now=LATER + timedelta(days=1))
    assert (report.failed, report.sent, report.messages) == (2, 0, 0)
    errors = {a.channel: a.error for a in fake.alerts.values()}
    assert errors == {"webhook": INTERRUPTED, "email": "the watchlist no longer has this channel"}


def test_plan_claim_sends_retries_before_the_digest_is_due() -> None:
    fake = MemoryAlerts()
    hook = {"webhook": {"url": "https://h.example/", "secret": "s"}}
    w = fake.add_watchlist("w", query="x", channels=hook, created_at=T0, mode="hourly")
    pending = [
        PendingAlert(1, w.id, 10, "webhook", attempts=1),
        PendingAlert(2, w.id, 11, "webhook", attempts=0),
    ]
    soon = plan_claim({w.id: w}, pending, T0 + timedelta(minutes=10))
    assert (soon.send, soon.orphans, soon.digests) == ([1, 2], [], set())
    due = plan_claim({w.id: w}, pending, T0 + timedelta(hours=1))
    assert (due.send, due.digests) == ([1, 2], {w.id})

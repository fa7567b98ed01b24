"""At most once, under a crash and under two runs at once: a `deliver_due` process killed (SIGKILL)
after claiming its alerts and while the receiver holds the request never gets them sent again;
two runs started together send each alert once. On SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from newsdesk.alerts import DeliveryReport, deliver_due, match_entries
from newsdesk.store.sql import SqlStore

from .conftest import T0, Receiver, World, add_entry, make_settings

_DELIVER = """
import sys
from newsdesk.alerts import deliver_due
from newsdesk.settings import load_settings
from newsdesk.store import open_store

url = sys.argv[1]
store = open_store(url)
settings = load_settings(env={}, database_url=url, allow_private_networks=True, alert_timeout=60)
deliver_due(store.alerts, settings)
"""


def test_killed_mid_send_is_never_sent_twice(
    store: SqlStore, store_url: str, world: World, receiver: Receiver, tmp_path: Path
) -> None:
    store.watchlists.create_watchlist(
        name="w",
        query="harbour",
        channels={
            "webhook": {"url": receiver.url("/held")},
            "ntfy": {"url": receiver.url("/held-too")},
        },
        now=T0,
    )
    entry = add_entry(store, world.world_feed, "The harbour closes")
    assert match_entries(store.alerts, [entry]) == 2
    held = threading.Event()
    receiver.routes["/held"].hold = held
    receiver.routes["/held-too"].hold = held
    log = tmp_path / "deliver.log"
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-c", _DELIVER, store_url], stderr=err)
    try:
        # Wait until both requests are in the receiver's hands (their rows are claimed).
        deadline = 60
        while len(receiver.hits) < 2 and deadline > 0:
            receiver.arrived.wait(1)
            receiver.arrived.clear()
            deadline -= 1
            assert proc.poll() is None, log.read_text()
        assert len(receiver.hits) == 2, "the requests never arrived"
    finally:
        proc.kill()
        proc.wait()
    held.set()
    assert {a.status for a in store.watchlists.list_alerts()} == {"sending"}

    settings = make_settings(store_url)
    report = deliver_due(store.alerts, settings)
    assert (report.sent, report.messages) == (0, 0)
    assert len(receiver.hits) == 2
    # Much later the rows are marked failed (interrupted), still never sent again.
    late = deliver_due(store.alerts, settings, now=T0 + timedelta(days=3650))
    assert late.failed == 2 and late.sent == 0
    assert {a.status for a in store.watchlists.list_alerts()} == {"failed"}
    assert len(receiver.hits) == 2


def test_two_runs_at_once_send_each_alert_once(
    store: SqlStore, store_url: str, world: World, receiver: Receiver
) -> None:
    store.watchlists.create_watchlist(
        name="w",
        query="story",
        channels={"webhook": {"url": receiver.url("/hook")}},
        now=T0,
    )
    ids = [add_entry(store, world.world_feed, f"story {i}") for i in range(30)]
    assert match_entries(store.alerts, ids) == 30
    settings = make_settings(store_url)
    reports: list[DeliveryReport] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        reports.append(deliver_due(store.alerts, settings))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.sent for r in reports) == 30
    import json

    delivered = [json.loads(h.body)["entries"][0]["id"] for h in receiver.on("/hook")]
    assert sorted(delivered) == sorted(ids)

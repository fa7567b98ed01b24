"""Watchlists raise alerts: ``match_entries`` records which new entries match which watchlist
(one row per channel, at most once), ``deliver_due`` sends what is due by webhook, ntfy and
e-mail. The watchlists themselves are kept by ``newsdesk.store.watchlists``; the stage reaches
the store through ``newsdesk.store.protocols.alerts.AlertsStorage``."""

from __future__ import annotations

from newsdesk.alerts.deliver import (
    DeliveryReport,
    deliver_due,
    deliver_due_async,
    send_test,
    send_test_async,
)
from newsdesk.alerts.match import match_entries

__all__ = [
    "DeliveryReport",
    "deliver_due",
    "deliver_due_async",
    "match_entries",
    "send_test",
    "send_test_async",
]

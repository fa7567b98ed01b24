"""Watchlists raise alerts: ``match_entries`` records which new entries match which watchlist
(one row per channel, at most once), ``deliver_due`` sends what is due by webhook, ntfy and
e-mail. The watchlists themselves are kept by ``newsdesk.store.watchlists``.

The names are loaded on first use: the CLI imports ``newsdesk.alerts.cli`` on every command and
must not pay for aiohttp and the store then."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsdesk.alerts.deliver import (
        DeliveryReport,
        deliver_due,
        deliver_due_async,
        send_test,
        send_test_async,
    )
    from newsdesk.alerts.match import match_entries

_DELIVERY = {"DeliveryReport", "deliver_due", "deliver_due_async", "send_test", "send_test_async"}

__all__ = [
    "DeliveryReport",
    "deliver_due",
    "deliver_due_async",
    "match_entries",
    "send_test",
    "send_test_async",
]


def __getattr__(name: str) -> Any:
    if name == "match_entries":
        from newsdesk.alerts.match import match_entries

        return match_entries
    if name in _DELIVERY:
        from newsdesk.alerts import deliver

        return getattr(deliver, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

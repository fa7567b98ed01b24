"""Values as the database hands them back: SQLite returns naive (or string) datetimes where
PostgreSQL returns aware ones."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def aware_utc(value: Any) -> datetime | None:
    """A stored time as an aware UTC datetime (None for anything that is not a time)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return None

"""When to check a feed next: pure functions of the feed's history, the server's hints and the
settings. No I/O, no clock: ``now`` is always passed in (tests use a fake one)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from newsdesk.settings import Settings

_MAX_AGE = re.compile(r"(?:^|[,\s])(?:s-)?max-age\s*=\s*(\d+)", re.I)


@dataclass(frozen=True, slots=True)
class Hints:
    """What the server (and the feed document) said about refreshing."""

    ttl_minutes: int | None = None
    cache_control: str | None = None
    expires: str | None = None
    retry_after: str | None = None
    status: int | None = None


def _http_date(value: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - now).total_seconds()


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from now (delta-seconds or an HTTP date); None if unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    return _http_date(value, now)


def hinted_interval(hints: Hints, now: datetime) -> float | None:
    """The longest interval the server asks for, in seconds (None without hints)."""
    candidates: list[float] = []
    if hints.ttl_minutes:
        candidates.append(hints.ttl_minutes * 60.0)
    if hints.cache_control and (match := _MAX_AGE.search(hints.cache_control)):
        candidates.append(float(match.group(1)))
    elif hints.expires and (delta := _http_date(hints.expires, now)) is not None:
        candidates.append(delta)
    if hints.status in (429, 503) and (delay := retry_after_seconds(hints.retry_after, now)):
        candidates.append(delay)
    return max(candidates) if candidates else None


def activity_interval(entries_per_day: float | None, settings: Settings) -> float:
    """Busy feeds more often, quiet ones less: about one check per expected new entry."""
    if not entries_per_day or entries_per_day <= 0:
        return float(min(max(3600, settings.min_interval), settings.max_interval))
    return 86400.0 / entries_per_day


def clamp(seconds: float, settings: Settings) -> float:
    return min(max(seconds, float(settings.min_interval)), float(settings.max_interval))


def jitter(seconds: float, rng: random.Random | None = None, spread: float = 0.1) -> float:
    """Spread checks a little so feeds added together do not stay bunched."""
    r = rng or random
    return seconds * (1 + r.uniform(-spread, spread))


def error_backoff(error_count: int, settings: Settings, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter after ``error_count`` consecutive failures, capped."""
    base = settings.min_interval * (2 ** max(0, min(error_count - 1, 20)))
    return min(jitter(float(base), rng, 0.2), float(settings.max_error_backoff))


def next_check(
    now: datetime,
    settings: Settings,
    *,
    entries_per_day: float | None = None,
    hints: Hints | None = None,
    error_count: int = 0,
    interval_override: int | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """When to fetch a feed next, after a fetch at ``now``."""
    hinted = hinted_interval(hints, now) if hints else None
    if error_count > 0:
        seconds = error_backoff(error_count, settings, rng)
        if hinted is not None:
            seconds = max(seconds, min(hinted, float(settings.max_error_backoff)))
        return now + timedelta(seconds=max(seconds, float(settings.min_interval)))
    if interval_override:
        return now + timedelta(seconds=max(interval_override, settings.min_interval))
    seconds = activity_interval(entries_per_day, settings)
    if hinted is not None:
        seconds = max(seconds, hinted)
    return now + timedelta(seconds=clamp(jitter(seconds, rng), settings))


def entries_per_day(published: list[datetime], now: datetime, window_days: int = 30) -> float:
    """Observed frequency: entries published in the last ``window_days`` per day."""
    start = now - timedelta(days=window_days)
    recent = [p for p in published if start <= p <= now]
    if len(recent) < 2:
        return float(len(recent)) / window_days
    span_days = max((now - min(recent)).total_seconds() / 86400.0, 1.0)
    return len(recent) / span_days

"""When to check a feed next: pure functions of the feed's history, the server's hints and the
settings. No I/O, no clock: ``now`` is always passed in (tests use a fake one), and randomness
comes from an optional ``random.Random`` (tests pass a seeded one).

The rules, in order of precedence:

* a failing feed backs off exponentially (with jitter) up to ``max_error_backoff``; a
  ``Retry-After`` on 429/503 can only make the wait longer, never past that cap;
* a per-feed interval override (``feeds FEED --interval``) wins over everything else, but never
  goes below ``min_interval``;
* otherwise the interval follows the feed's observed activity (about one check per expected new
  entry), stretched — never shortened — by the server's hints (RSS ``<ttl>``,
  ``Cache-Control: max-age``, ``Expires``), jittered, and clamped to
  ``[min_interval, max_interval]``: a server asking for a check every second gets
  ``min_interval``, one asking for a check every year gets ``max_interval``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from newsdesk.settings import Settings

_MAX_AGE = re.compile(r"(?:^|[,\s])(?:s-)?max-age\s*=\s*\"?(\d{1,12})", re.I)
_NO_CACHE = re.compile(r"(?:^|[,\s])(?:no-cache|no-store)(?:$|[,\s=])", re.I)
# Hints past this are nonsense (or overflow bait); anything above max_interval is clamped anyway.
_ABSURD_SECONDS = 10 * 365 * 86400.0
# With no observation at all, a feed is checked hourly until its activity is known.
DEFAULT_INTERVAL = 3600.0
JITTER_SPREAD = 0.1
BACKOFF_JITTER_SPREAD = 0.2


@dataclass(frozen=True, slots=True)
class Hints:
    """What the server (and the feed document) said about refreshing: raw header values."""

    ttl_minutes: int | None = None
    cache_control: str | None = None
    expires: str | None = None
    retry_after: str | None = None
    status: int | None = None


def _http_date(value: str, now: datetime) -> float | None:
    """Seconds from ``now`` to an HTTP date; None when unreadable."""
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:  # older Pythons return None for garbage
        return None  # type: ignore[unreachable]
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - now).total_seconds()


def _sane(seconds: float | None) -> float | None:
    """A hint in seconds, or None when it says nothing usable (past, zero, absurd)."""
    if seconds is None or seconds != seconds or seconds <= 0:  # NaN-safe
        return None
    return min(seconds, _ABSURD_SECONDS)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from now (delta-seconds or an HTTP date); None if unreadable or
    already past. Absurdly large values are cut to ten years (callers cap them further)."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return _sane(float(value[:15]))
    return _sane(_http_date(value, now))


def max_age_seconds(cache_control: str | None) -> float | None:
    """``max-age`` (or ``s-maxage``) of a Cache-Control header; None without one or when the
    server forbids caching (no-cache, no-store: no hint about the interval)."""
    if not cache_control or _NO_CACHE.search(cache_control):
        return None
    match = _MAX_AGE.search(cache_control)
    return _sane(float(match.group(1))) if match else None


def hinted_interval(hints: Hints, now: datetime) -> float | None:
    """The longest interval the server asks for, in seconds (None without usable hints).
    ``Cache-Control: max-age`` wins over ``Expires`` (as in HTTP caching); ``Retry-After`` only
    counts on 429 and 503 answers."""
    candidates: list[float] = []
    if hints.ttl_minutes and hints.ttl_minutes > 0:
        candidates.append(min(hints.ttl_minutes * 60.0, _ABSURD_SECONDS))
    max_age = max_age_seconds(hints.cache_control)
    if max_age is not None:
        candidates.append(max_age)
    elif hints.expires and (delta := _sane(_http_date(hints.expires, now))) is not None:
        candidates.append(delta)
    if hints.status in (429, 503):
        delay = retry_after_seconds(hints.retry_after, now)
        if delay is not None:
            candidates.append(delay)
    return max(candidates) if candidates else None


def activity_interval(entries_per_day: float | None, settings: Settings) -> float:
    """Busy feeds more often, quiet ones less: about one check per expected new entry.
    Unknown activity (never fetched, no dated entries) → hourly; a feed with no entry in the
    observation window → ``max_interval``."""
    if entries_per_day is None:
        return clamp(DEFAULT_INTERVAL, settings)
    if entries_per_day <= 0:
        return float(settings.max_interval)
    return 86400.0 / entries_per_day


def clamp(seconds: float, settings: Settings) -> float:
    return min(max(seconds, float(settings.min_interval)), float(settings.max_interval))


def jitter(
    seconds: float, rng: random.Random | None = None, spread: float = JITTER_SPREAD
) -> float:
    """Spread checks a little (±``spread``) so feeds added together do not stay bunched."""
    r = rng or random
    return seconds * (1 + r.uniform(-spread, spread))


def error_backoff(error_count: int, settings: Settings, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter after ``error_count`` consecutive failures: about
    ``min_interval``, then twice that, four times … capped at ``max_error_backoff``."""
    base = settings.min_interval * (2 ** max(0, min(error_count - 1, 30)))
    cap = float(max(settings.max_error_backoff, settings.min_interval))
    seconds = min(jitter(float(base), rng, BACKOFF_JITTER_SPREAD), cap)
    return max(seconds, float(settings.min_interval))


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
    """When to fetch a feed next, after a fetch at ``now`` (see the module docstring)."""
    return now + timedelta(
        seconds=next_interval(
            now,
            settings,
            entries_per_day=entries_per_day,
            hints=hints,
            error_count=error_count,
            interval_override=interval_override,
            rng=rng,
        )
    )


def next_interval(
    now: datetime,
    settings: Settings,
    *,
    entries_per_day: float | None = None,
    hints: Hints | None = None,
    error_count: int = 0,
    interval_override: int | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds from ``now`` to the next check (``next_check`` as a number)."""
    hinted = hinted_interval(hints, now) if hints else None
    if error_count > 0:
        seconds = error_backoff(error_count, settings, rng)
        if hinted is not None:
            cap = float(max(settings.max_error_backoff, settings.min_interval))
            seconds = max(seconds, min(hinted, cap))
        return seconds
    if interval_override and interval_override > 0:
        return float(max(interval_override, settings.min_interval))
    seconds = activity_interval(entries_per_day, settings)
    if hinted is not None:
        seconds = max(seconds, hinted)
    return clamp(jitter(seconds, rng), settings)


def entries_per_day(published: list[datetime], now: datetime, window_days: int = 30) -> float:
    """Observed frequency: entries published in the last ``window_days``, per day. Entries
    dated in the future (clock skew) count as now."""
    start = now - timedelta(days=window_days)
    recent = [min(p, now) for p in published if p >= start]
    if len(recent) < 2:
        return float(len(recent)) / window_days
    span_days = max((now - min(recent)).total_seconds() / 86400.0, 1.0)
    return len(recent) / span_days


def describe_wait(seconds: float) -> str:
    """A short human reading of a wait: ``45 s``, ``12 min``, ``3 h 20 min``, ``2 d 4 h``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"

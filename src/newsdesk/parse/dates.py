"""Feed dates (RFC 822, ISO 8601 and the odd shapes found in the wild) to aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

_TWO_DIGIT_YEAR = re.compile(r"(\d{1,2} \w{3}) (\d{2}) (\d{1,2}:)")


def to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_date(raw: object) -> datetime | None:
    """Parse a date string; None when it cannot be read. Naive dates are taken as UTC. Dates come
    from strangers: every reader below may fail in its own way (absurd offsets overflow, guessers
    raise decimal errors), and any failure means "no date", never an error."""
    if isinstance(raw, datetime):
        return _safe_utc(raw)
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text:
        return None
    for read in (_iso, _rfc822, _guess):
        try:
            return to_utc(read(text))
        except Exception:
            continue
    return None


def _safe_utc(value: datetime) -> datetime | None:
    try:
        return to_utc(value)
    except (OverflowError, ValueError):
        return None


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _rfc822(text: str) -> datetime:
    return parsedate_to_datetime(_TWO_DIGIT_YEAR.sub(_four_digit_year, text))


def _guess(text: str) -> datetime:
    from dateutil import parser as dateutil_parser

    guessed: datetime = dateutil_parser.parse(text)
    return guessed


def _four_digit_year(match: re.Match[str]) -> str:
    year = int(match.group(2))
    year += 2000 if year < 70 else 1900
    return f"{match.group(1)} {year} {match.group(3)}"


def sane_date(value: datetime | None, now: datetime) -> datetime | None:
    """None for dates that cannot be an item's publication time: before 1970 or in the future
    (more than a day ahead, to allow for clocks and time zones)."""
    if value is None:
        return None
    if value.year < 1970 or value > now + timedelta(days=1):
        return None
    return value

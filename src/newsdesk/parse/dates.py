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
    """Parse a date string; None when it cannot be read. Naive dates are taken as UTC."""
    if isinstance(raw, datetime):
        return to_utc(raw)
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text:
        return None
    try:
        return to_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        pass
    try:
        return to_utc(parsedate_to_datetime(_TWO_DIGIT_YEAR.sub(_four_digit_year, text)))
    except (TypeError, ValueError, IndexError):
        pass
    try:
        from dateutil import parser as dateutil_parser

        return to_utc(dateutil_parser.parse(text))
    except (ValueError, OverflowError, TypeError):
        return None


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

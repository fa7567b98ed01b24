"""Explicit dates in a sentence, found with regular expressions (no model: this runs on every
article after a refresh).

Only dates a reader would take as dates are kept. A bare number is a year only in a dated
context ("in 2019", "since 2007", "early 2016", "2002: …"), never an amount, a paragraph
number, a form number ("FD-1023"), a hashtag or part of a URL. A day and month without a year
("on February 29", "since 7 October") take their year from the publication time when exactly one
year puts them shortly before (or just after) it. Month names alone, decades ("the 1990s"),
seasons without a year and relative dates ("last week") are not dates here.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from newsdesk.model import DAY, MONTH, YEAR

# Higher is more precise.
RANK = {YEAR: 0, MONTH: 1, DAY: 2}

# Years outside these bounds are not dates (amounts, codes) in news text.
MIN_YEAR = 1000
MAX_YEAR = 2199
# A bare year (no month next to it) must look like a modern year.
BARE_MIN_YEAR = 1800
BARE_MAX_YEAR = 2099
# A day and month without a year resolve to the one year that puts them between this many days
# before publication and this many after; the window is shorter than a year, so at most one
# year fits.
RESOLVE_PAST_DAYS = 325
RESOLVE_FUTURE_DAYS = 35

_MONTH_NUMBERS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
# Title case or capitals only: "may" and "march" in lower case are verbs.
_MONTH_NAMES = sorted(
    {form for name in _MONTH_NUMBERS for form in (name.capitalize(), name.upper())},
    key=len,
    reverse=True,
)
_MON = r"(?<![\w])(?P<mon>" + "|".join(_MONTH_NAMES) + r")(?![\w])\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
# "27-28", "27 and 28", "27 to 28": the first day stands for the range.
_DAY_RANGE = r"(?:\s*(?:[-–—]|to|and|&)\s*[0-3]?\d(?:st|nd|rd|th)?)?"
_YEAR = r"(?P<year>\d{4})(?!\d)"
_NOT_AFTER_NUMBER = r"(?<![\w$€£¥#@/.,:+-])"

_ISO = re.compile(_NOT_AFTER_NUMBER + r"(?P<year>\d{4})-(?P<mnum>\d{2})-(?P<day>\d{2})(?![\d-])")
_MDY = re.compile(_MON + r"\s*" + _DAY + _DAY_RANGE + r"(?:,\s*|\s+)" + _YEAR)
_DMY = re.compile(
    _NOT_AFTER_NUMBER + _DAY + _DAY_RANGE + r"\s+(?:of\s+)?" + _MON + r",?\s+" + _YEAR
)
# Numeric day/month/year, either order: kept only when a part over 12 says which is the day.
_NUMERIC = re.compile(
    _NOT_AFTER_NUMBER + r"(?P<a>\d{1,2})(?P<sep>[/.])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4})(?![\d/])"
)
_MY = re.compile(_MON + r",?\s+(?:of\s+)?" + _YEAR)
_MD = re.compile(_MON + r"\s*" + _DAY + r"(?![\d:])(?!\s*,?\s*\d)")
_DM = re.compile(_NOT_AFTER_NUMBER + _DAY + r"\s+(?:of\s+)?" + _MON)
# "-" may precede a bare year ("mid-2023"): the word before it decides (see _bare_year_ok).
_BARE = re.compile(r"(?<![\w$€£¥#@/.,:+])(?P<year>\d{4})(?![\d])")
# After a bare year, these make it something else: a decade, an amount, a time, a unit.
_NOT_A_YEAR_AFTER = re.compile(
    r"(?:s\b|’s\b|'s\b|\s*%|[.,]\d|\s*(?:percent|per\s+cent|GMT|UTC|[AP]M\b|[ap]\.m\.|hours?\b|"
    r"hrs?\b|km\b|kg\b|miles?\b|met(?:er|re)s?\b|feet\b|people\b|troops\b|dollars\b|euros\b|"
    r"votes\b|units\b))"
)
# "2019–2020", "1992 to 2006", "2016 or earlier": the first year stands for the span.
_YEAR_SPAN_AFTER = re.compile(
    r"(?:\s*(?:[-–—]|to|until|through|and)\s*\d{2,4}(?!\d))?"
    r"(?:\s+or\s+(?:earlier|later|before|after|so))?"
)
# Words after which a bare four-digit number is a year.
_YEAR_WORDS = frozenset(
    {
        "in",
        "since",
        "by",
        "from",
        "until",
        "till",
        "through",
        "throughout",
        "during",
        "before",
        "after",
        "around",
        "circa",
        "ca",
        "early",
        "late",
        "mid",
        "between",
        "year",
        "spring",
        "summer",
        "autumn",
        "fall",
        "winter",
    }
)
# Year words that also go with amounts ("rose by 2000 points"): after them the year must end
# the clause or be followed by a capital or a function word.
_AMOUNT_WORDS = frozenset({"by", "from", "between", "around", "circa", "ca"})
_FUNCTION_WORDS_TEXT = (
    "and or to until till through onward onwards the a an when as after before on in at for "
    "with without he she it they we i you there this that these those his her its their our "
    "was were is are had has have will would could should may might did do does been be not "
    "if while but so then because which who where"
)
_FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split())
_NEXT_WORD = re.compile(r"\s*([^\W\d_]+)?")
_DIGIT = re.compile(r"\d")
_WORD_BEFORE = re.compile(r"(\w+)\W{0,2}$")
_TWO_WORDS_BEFORE = re.compile(r"(\w+)\s+(than|of)\s*$")
_THEN = {
    "than": ("later", "earlier", "sooner"),
    "of": ("spring", "summer", "autumn", "fall", "winter"),
}
# Cheap tests that skip the patterns a sentence cannot match.
_MONTH_WORD = re.compile(r"(?<![\w])(?:" + "|".join(n[:3] for n in _MONTH_NAMES) + ")")
_NUMERIC_SEP = re.compile(r"\d[-/.]\d")
# One quick pass for what every date has (four digits or the start of a month's name), then the
# full month pattern only where a name may start ("Marwenel" is not March).
_DATE_HINT = re.compile(
    r"[0-9]{4}|J(?:an|un|ul|AN|UN|UL)|Feb|FEB|Ma[ry]|MA[RY]|A(?:pr|ug|PR|UG)|Sep|SEP|Oct|OCT"
    r"|Nov|NOV|Dec|DEC"
)
_MONTH_NAME = re.compile(_MON)
# A dated list item: "August 2023: …", "1992 to 2006: …", "By September 2023: …".
_LEAD_INTRO = re.compile(r"(?:(?:By|Since|From|Until|In|Early|Late|Mid|Circa)[\s-]+)?")
_LEAD_AFTER = re.compile(r"\s*(?::|\s[–—-]\s)")


@dataclass(frozen=True, slots=True)
class FoundDate:
    """A date found in a sentence: ISO date (first day of its period), precision, span."""

    date: str
    precision: str
    start: int
    end: int


def could_hold_date(text: str) -> bool:
    """False when ``text`` cannot contain a date: every form has a month word or four digits.
    Most paragraphs of most articles have neither, and skipping them is most of the speed."""
    hint = _DATE_HINT.search(text)
    if hint is None:
        return False
    return hint.group(0)[0].isdigit() or _MONTH_NAME.search(text, hint.start()) is not None


def _valid(year: int, month: int, day: int) -> str | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _month(match: re.Match[str]) -> int:
    return _MONTH_NUMBERS[match.group("mon").lower()]


def _resolve(month: int, day: int, published: datetime | None) -> str | None:
    """The year of a day and month from the publication date, when exactly one year fits."""
    if published is None:
        return None
    ref = published.date()
    for year in (ref.year - 1, ref.year, ref.year + 1):
        iso = _valid(year, month, day)
        if iso is None:
            continue
        delta = (date.fromisoformat(iso) - ref).days
        if -RESOLVE_PAST_DAYS <= delta <= RESOLVE_FUTURE_DAYS:
            return iso
    return None


def _amount_ends(text: str, end: int) -> bool:
    """Whether what follows ``end`` lets the number before it be a year."""
    nxt = _NEXT_WORD.match(text, end)
    word = nxt.group(1) if nxt else None
    return word is None or word[0].isupper() or word.lower() in _FUNCTION_WORDS


def _bare_year_ok(text: str, match: re.Match[str], lead_end: int) -> int | None:
    """End of the year's span when the number at ``match`` reads as a year, else None."""
    year = int(match.group("year"))
    if not BARE_MIN_YEAR <= year <= BARE_MAX_YEAR:
        return None
    end = match.end()
    if _NOT_A_YEAR_AFTER.match(text, end):
        return None
    span = _YEAR_SPAN_AFTER.match(text, end)
    span_end = span.end() if span else end
    if span_end > end and _NOT_A_YEAR_AFTER.match(text, span_end):
        return None  # "between 1800 and 2000 troops"
    if match.start() <= lead_end and _LEAD_AFTER.match(text, span_end):
        return span_end  # "2002: …", "1992 to 2006: …"
    before = text[max(0, match.start() - 40) : match.start()]
    word = _WORD_BEFORE.search(before)
    if word is None:
        return None
    if word.group(1).lower() in _YEAR_WORDS:
        if word.group(1).lower() in _AMOUNT_WORDS and not _amount_ends(text, span_end):
            return None  # "rose by 2000 points", "from 1900 jobs"
        return span_end
    two = _TWO_WORDS_BEFORE.search(before)
    if two and two.group(1).lower() in _THEN[two.group(2)]:
        return span_end  # "no later than 2016", "the spring of 2019"
    return None


def find_dates(text: str, published: datetime | None = None) -> list[FoundDate]:
    """Every date in ``text``, in order of position, without overlaps."""
    if not _DIGIT.search(text):
        return []  # every date has a number; most sentences have none
    starts: list[int] = []  # spans taken so far, sorted, never overlapping
    ends: list[int] = []
    found: list[FoundDate] = []

    def add(iso: str | None, precision: str, start: int, end: int) -> None:
        if iso is None:
            return
        at = bisect_right(starts, start)
        if (at and ends[at - 1] > start) or (at < len(starts) and starts[at] < end):
            return  # overlaps a date found by a more specific pattern
        starts.insert(at, start)
        ends.insert(at, end)
        found.append(FoundDate(iso, precision, start, end))

    # Most specific patterns first: a later match overlapping an earlier one is dropped.
    numeric = _NUMERIC_SEP.search(text) is not None
    months = _MONTH_WORD.search(text) is not None
    if numeric:
        for m in _ISO.finditer(text):
            add(_valid(int(m["year"]), int(m["mnum"]), int(m["day"])), DAY, m.start(), m.end())
    if months:
        for m in _MDY.finditer(text):
            add(_valid(int(m["year"]), _month(m), int(m["day"])), DAY, m.start(), m.end())
        for m in _DMY.finditer(text):
            add(_valid(int(m["year"]), _month(m), int(m["day"])), DAY, m.start(), m.end())
    if numeric:
        for m in _NUMERIC.finditer(text):
            for numbers in _numeric_orders(int(m["a"]), int(m["b"])):
                add(_valid(int(m["year"]), *numbers), DAY, m.start(), m.end())
    if months:
        for m in _MY.finditer(text):
            add(_valid(int(m["year"]), _month(m), 1), MONTH, m.start(), m.end())
        for m in _MD.finditer(text):
            add(_resolve(_month(m), int(m["day"]), published), DAY, m.start(), m.end())
        for m in _DM.finditer(text):
            add(_resolve(_month(m), int(m["day"]), published), DAY, m.start(), m.end())
    intro = _LEAD_INTRO.match(text)
    lead_end = intro.end() if intro else 0
    for m in _BARE.finditer(text):
        end = _bare_year_ok(text, m, lead_end)
        if end is not None:
            add(_valid(int(m["year"]), 1, 1), YEAR, m.start(), end)
    found.sort(key=lambda d: d.start)
    return found


def _numeric_orders(a: int, b: int) -> Iterator[tuple[int, int]]:
    """(month, day) readings of "a/b/yyyy" that are not ambiguous."""
    if a == b or (a > 12 >= b):
        yield (b, a)  # day first, or both the same
    elif b > 12 >= a:
        yield (a, b)  # month first (US)


def lead_date(text: str, dates: list[FoundDate]) -> FoundDate | None:
    """The date that opens a dated list item ("August 2023: …"), if ``text`` is one."""
    if not dates:
        return None
    first = dates[0]
    intro = _LEAD_INTRO.match(text)
    if first.start > (intro.end() if intro else 0):
        return None
    span = _YEAR_SPAN_AFTER.match(text, first.end)
    end = span.end() if span else first.end
    return first if _LEAD_AFTER.match(text, end) else None


def best_date(dates: list[FoundDate]) -> FoundDate | None:
    """The most precise date; the first one among equally precise dates."""
    best: FoundDate | None = None
    for found in dates:
        if best is None or RANK[found.precision] > RANK[best.precision]:
            best = found
    return best

"""extract_events on the cases that go wrong in naive date finders: numbers that are not years,
dates in URLs, ranges, decades, year-less days, abbreviations in sentences, lists; and a
hypothesis property (never raises; every date is a valid ISO date at its precision)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsdesk.timeline import MAX_EVENTS, Event, extract_events
from newsdesk.timeline.extract import MAX_EVENT_TEXT
from newsdesk.timeline.sentences import sentences

PUBLISHED = datetime(2024, 2, 27, 21, 25, tzinfo=UTC)
# Quick by default; NEWSDESK_FUZZ_EXAMPLES=5000 for a long run (as tests/fuzz does).
EXAMPLES = int(os.environ.get("NEWSDESK_FUZZ_EXAMPLES", "200"))


def _dates(text: str, published: datetime | None = PUBLISHED) -> list[tuple[str, str]]:
    return [(e.date, e.precision) for e in extract_events(text, published=published)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # explicit dates, every common way of writing them
        ("On 27 September 2023 the FBI interviewed him.", [("2023-09-27", "day")]),
        ("On the 27th of September 2023 he met them.", [("2023-09-27", "day")]),
        ("He was seen on Sept. 27, 2023 in Las Vegas.", [("2023-09-27", "day")]),
        ("He was seen on SEPTEMBER 27, 2023 in Las Vegas.", [("2023-09-27", "day")]),
        ("The filing is dated 2023-09-27 and was unsealed.", [("2023-09-27", "day")]),
        ("Updated 2023-09-27T10:15:00Z by the desk.", [("2023-09-27", "day")]),
        ("The talks ran September 27-28, 2023 in Doha.", [("2023-09-27", "day")]),
        ("The DW report is dated 02/26/2024.", [("2024-02-26", "day")]),
        ("The report is dated 26.02.2024.", [("2024-02-26", "day")]),
        ("In late October 2023, Russia invited Hamas.", [("2023-10-01", "month")]),
        ("In 2019, RO 5 told Smirnov about RO 6.", [("2019-01-01", "year")]),
        ("Hamas has run Gaza since 2007.", [("2007-01-01", "year")]),
        ("In mid-2023 the talks stalled.", [("2023-01-01", "year")]),
        ("It was early 2016 when he resigned.", [("2016-01-01", "year")]),
        ("He met them no later than 2016.", [("2016-01-01", "year")]),
        ("In the spring of 2019 they met.", [("2019-01-01", "year")]),
        ("In the year 2000 nothing happened.", [("2000-01-01", "year")]),
        ("By 2030 the plan ends.", [("2030-01-01", "year")]),
        ("From 2019 onwards he met them.", [("2019-01-01", "year")]),
        ("On October 14, 1066 the battle was fought.", [("1066-10-14", "day")]),
        # a range stands for its start, at the precision of its start
        ("Between 2019–2020 he lived abroad.", [("2019-01-01", "year")]),
        ("From 2019 to 2021 he lived abroad.", [("2019-01-01", "year")]),
        ("In 2019-20 he lived abroad.", [("2019-01-01", "year")]),
        ("From 29 February to 2 March, there will be talks.", [("2024-02-29", "day")]),
        # not dates
        ("Many migrated in the early 1990s.", []),
        ("They paid $2019 and 2,019 euros for 2019 units.", []),
        ("A condo bought for $1,425,000 with 99% certainty.", []),
        ("51. The Defendant met RO 5 at 20:15 on page 2023.", []),
        ("Weiss discussed pages 8-15 and the 2020 1023 and the FD-1023 form.", []),
        ("See https://example.org/2023/09/27/story and www.x.org/2021/01/02 now.", []),
        ("Write to desk2023@example.org or follow #Election2024 and @user2023.", []),
        ("He said it yesterday and again last week.", []),
        ("may 2023 be quiet; in May the talks began; March on.", []),
        ("Windows 2000 and Vision 2030 and the 2020 election.", []),
        ("By 1500 GMT the troops had left, 2000 people marched.", []),
        ("The report is dated 03/04/2024.", []),  # 3 April or 4 March: ambiguous
        ("The meeting on February 30, 2023 never happened.", []),
        ("The borders of 1967 are the basis.", []),
        ("Shares rose by 2000 points, from 1900 jobs.", []),
        ("Between 1800 and 2000 troops came.", []),
    ],
)
def test_dates(text: str, expected: list[tuple[str, str]]) -> None:
    assert _dates(text) == expected


def test_list_items_take_their_opening_date_and_keep_their_undated_sentences() -> None:
    text = (
        "August 2023: Smirnov met RI 2. At that point, the ties are not clear.\n"
        "2016 or earlier: Smirnov has direct communications with Shokin.\n"
        "1992 to 2006: Smirnov lives in Israel.\n"
        "2019: Smirnov first tells his handler about flipping RO 5 in 2002.\n"
        "By September 2023: Smirnov already claimed knowledge of the plan.\n"
        "• October 1, 2010 – Smirnov starts to serve as a source.\n"
        "February 2022: Smirnov provides the back story. When working in Country D in 2002, he "
        "helped flip two spies. Country D had caught RO 5 spying. In 2019, RO 5 described Russia."
    )
    got = [(e.date, e.precision, e.sentence) for e in extract_events(text)]
    assert got == [
        (
            "2023-08-01",
            "month",
            "August 2023: Smirnov met RI 2. At that point, the ties are not clear.",
        ),
        ("2016-01-01", "year", "2016 or earlier: Smirnov has direct communications with Shokin."),
        ("1992-01-01", "year", "1992 to 2006: Smirnov lives in Israel."),
        # the opening date wins over a more precise or later date in the same sentence
        (
            "2019-01-01",
            "year",
            "2019: Smirnov first tells his handler about flipping RO 5 in 2002.",
        ),
        (
            "2023-09-01",
            "month",
            "By September 2023: Smirnov already claimed knowledge of the plan.",
        ),
        ("2010-10-01", "day", "October 1, 2010 – Smirnov starts to serve as a source."),
        ("2022-02-01", "month", "February 2022: Smirnov provides the back story."),
        (
            "2002-01-01",
            "year",
            "When working in Country D in 2002, he helped flip two spies. "
            "Country D had caught RO 5 spying.",
        ),
        ("2019-01-01", "year", "In 2019, RO 5 described Russia."),
    ]


def test_outside_list_items_an_event_is_one_sentence() -> None:
    text = "In late October 2023, Russia invited Hamas. Such efforts led to results."
    assert [e.sentence for e in extract_events(text)] == [
        "In late October 2023, Russia invited Hamas."
    ]


def test_one_event_per_sentence_the_first_most_precise_date() -> None:
    text = "In 2019 he met X; on March 3, 2020 he met Y; on April 4, 2021 he met Z."
    assert _dates(text) == [("2020-03-03", "day")]
    assert _dates("In July 2023, when it was released, in 2022 or in August 2023.") == [
        ("2023-07-01", "month")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hamas released him on November 26.", "2023-11-26"),  # 93 days before
        ("The conference begins on February 29.", "2024-02-29"),  # 2 days after (leap year)
        ("Hostages held since 7 October.", "2023-10-07"),
        ("Talks on April 2 are planned.", "2024-04-02"),  # 35 days after: the limit
        ("Talks on April 5 are planned.", None),  # 38 days after, 328 days before: neither
        ("It happened on April 10.", "2023-04-10"),  # 323 days before
    ],
)
def test_a_day_without_year_takes_it_from_publication_when_one_year_fits(
    text: str, expected: str | None
) -> None:
    assert _dates(text) == ([(expected, "day")] if expected else [])
    assert _dates(text, published=None) == []  # no publication date: no guess
    naive = PUBLISHED.replace(tzinfo=None)
    assert _dates(text, published=naive) == _dates(text)


def test_sentences_survive_abbreviations_initials_and_list_numbers() -> None:
    paragraph = (
        "MR. WISE: Understood. Mr. Smirnov met Dr. Ramani on Sept. 27 in the U.S. capital. "
        "J. Smith saw it. He met RO 2. Then he left! Is Smirnov 1. the agent, 2. Neither? "
        "“Quoted,” he said. (Aside.) No. 5 is next."
    )
    assert sentences(paragraph) == [
        "MR. WISE: Understood.",
        "Mr. Smirnov met Dr. Ramani on Sept. 27 in the U.S. capital.",
        "J. Smith saw it.",
        "He met RO 2.",
        "Then he left!",
        "Is Smirnov 1. the agent, 2. Neither?",
        "“Quoted,” he said.",
        "(Aside.)",
        "No. 5 is next.",
    ]


def test_identical_events_are_kept_once_and_positions_count_from_zero() -> None:
    text = "In 2019 they met.\n\nIn 2019 they met.\n\nIN 2019 THEY MET.\n\nIn 2020 they left."
    events = extract_events(text)
    assert [(e.position, e.date, e.sentence) for e in events] == [
        (0, "2019-01-01", "In 2019 they met."),
        (1, "2020-01-01", "In 2020 they left."),
    ]


def test_caps_bound_the_output() -> None:
    many = "\n".join(f"In {1900 + i % 200} item {i} happened." for i in range(2 * MAX_EVENTS))
    assert len(extract_events(many)) == MAX_EVENTS
    long_item = "August 2023: " + " ".join(f"Sentence {i} tells more." for i in range(400))
    (event,) = extract_events(long_item)
    assert len(event.sentence) <= MAX_EVENT_TEXT
    huge = "In 2019 " + "x" * 50_000 + "."
    (event,) = extract_events(huge)
    assert len(event.sentence) <= MAX_EVENT_TEXT and event.sentence.endswith("…")


def test_empty_and_odd_input() -> None:
    assert extract_events("") == []
    assert extract_events("\n\n \t\n") == []
    assert extract_events("x" * 300_000) == []
    assert extract_events("in 2019 " * 40_000)[0].date == "2019-01-01"
    with pytest.raises(ValueError, match="precision"):
        Event("2024-01-01", "week", "x", 0)


# -- properties ------------------------------------------------------------------------------

_FRAGMENTS = st.sampled_from(
    [
        "In 2019,",
        "since 2007",
        "September 27, 2023",
        "27 September 2023",
        "Sept. 27",
        "on February 29",
        "31 February",
        "February 30, 2023",
        "2023-02-31",
        "99/99/9999",
        "12/13/2024",
        "0000-00-00",
        "9999",
        "in 0000",
        "in 2100",
        "May 0, 2020",
        "December 2023:",
        "2019–2020:",
        "mid-",
        "$1,425,000",
        "RO 5.",
        "51.",
        "https://x.org/2023/09/27",
        "Mr.",
        "U.S.",
        "\n",
        "\n\n",
        ". ",
        ": ",
        "…",
        "“",
    ]
)
_TEXT = st.lists(st.one_of(_FRAGMENTS, st.text(max_size=30)), max_size=40).map(" ".join)
_PUBLISHED = st.one_of(
    st.none(),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    ),
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT, published=_PUBLISHED)
def test_property_never_raises_and_dates_are_valid(text: str, published: datetime | None) -> None:
    events = extract_events(text, published=published)
    assert len(events) <= MAX_EVENTS
    seen = set()
    for i, event in enumerate(events):
        assert event.position == i
        day = date.fromisoformat(event.date)
        assert day.isoformat() == event.date and len(event.date) == 10
        assert event.precision in ("day", "month", "year")
        if event.precision != "day":
            assert day.day == 1
        if event.precision == "year":
            assert day.month == 1
        assert event.sentence.strip() and len(event.sentence) <= MAX_EVENT_TEXT
        assert (event.date, event.sentence.casefold()) not in seen
        seen.add((event.date, event.sentence.casefold()))


_MONTH_NAMES = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    day=st.dates(min_value=date(1000, 1, 1), max_value=date(2199, 12, 31)),
    style=st.sampled_from(["mdy", "dmy", "iso", "my"]),
)
def test_property_written_dates_are_read_back(day: date, style: str) -> None:
    month = _MONTH_NAMES[day.month - 1]
    written = {
        "mdy": f"{month} {day.day}, {day.year}",
        "dmy": f"{day.day} {month} {day.year}",
        "iso": day.isoformat(),
        "my": f"{month} {day.year}",
    }[style]
    want = (day.isoformat(), "day") if style != "my" else (day.replace(day=1).isoformat(), "month")
    assert _dates(f"Officials said that on {written} the talks ended.") == [want]

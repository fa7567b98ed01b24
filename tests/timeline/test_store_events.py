"""Stored events on SQLite and PostgreSQL: replace_events (replaces, links entities by surface
form, refuses bad input without touching what is stored), the story, entity and entry
timelines (order, syndicated copies told once), cascades, and the JSON and CSV exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, update

from newsdesk.demo import SEED_DIR
from newsdesk.errors import NewsdeskError
from newsdesk.model import Entry
from newsdesk.store import FeedState, open_store
from newsdesk.store.engine import write_transaction
from newsdesk.store.events import (
    TimelineEvent,
    replace_events,
)
from newsdesk.store.schema import entities, entries, event_entities, events, stories
from newsdesk.store.sql import SqlStore
from newsdesk.timeline import Event, extract_events
from newsdesk.timeline.export import CSV_HEADER, events_to_csv, events_to_json

NOW = datetime(2024, 2, 27, 22, 0, tzinfo=UTC)


def _entry(key: str, title: str, text: str, published: datetime) -> Entry:
    return Entry(
        key=key,
        url=f"https://news.example/{key}",
        title=title,
        author=None,
        kind="article",
        published=published,
        updated=None,
        content_html=f"<p>{text}</p>",
        content_text=text,
        summary_html=None,
        content_hash=f"h-{key}",
        tags=[],
        links=[],
        enclosures=[],
    )


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    s = open_store(store_url)
    yield s
    s.close()


def _feed_with(store: SqlStore, url: str, title: str, items: list[Entry]) -> list[int]:
    feed = store.add_feed(url)
    state = FeedState(last_fetched=NOW, last_status=200, title=title)
    return store.save_refresh(feed.id, state, items, NOW).new_ids


def _story(store: SqlStore, entry_ids: list[int]) -> int:
    with write_transaction(store.engine) as conn:
        story_id = int(
            conn.execute(
                insert(stories)
                .values(
                    title="A story",
                    lead_entry_id=entry_ids[0],
                    size=len(entry_ids),
                    sources=1,
                    first_published=NOW,
                    last_published=NOW,
                    created_at=NOW,
                    updated_at=NOW,
                )
                .returning(stories.c.id)
            ).scalar_one()
        )
        conn.execute(update(entries).where(entries.c.id.in_(entry_ids)).values(story_id=story_id))
    return story_id


def _entity(store: SqlStore, kind: str, key: str, name: str) -> int:
    with write_transaction(store.engine) as conn:
        return int(
            conn.execute(
                insert(entities)
                .values(kind=kind, key=key, name=name, aliases=[], mention_count=1, entry_count=1)
                .returning(entities.c.id)
            ).scalar_one()
        )


def _replace(store: SqlStore, entry_id: int, found: list[Event], surfaces: dict[str, int]) -> int:
    with write_transaction(store.engine) as conn:
        return replace_events(conn, entry_id, found, surfaces)


def _count(store: SqlStore, table: object) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_replace_links_entities_by_whole_word_case_kept(store: SqlStore) -> None:
    (entry_id,) = _feed_with(
        store, "https://a.example/feed", "Wire", [_entry("a", "Smirnov case", "text", NOW)]
    )
    smirnov = _entity(store, "person", "alexander smirnov", "Alexander Smirnov")
    fbi = _entity(store, "org", "fbi", "FBI")
    israel = _entity(store, "place", "israel", "Israel")
    found = [
        Event("2023-09-27", "day", "September 27, 2023: Smirnov’s FBI interview.", 0),
        Event("2002-01-01", "year", "2002: Smirnova and the fbi in Israeli hands.", 1),
        Event("2022-02-01", "month", "February 2022: Alexander Smirnov (Israel).", 2),
    ]
    surfaces = {
        "Alexander Smirnov": smirnov,
        "Smirnov": smirnov,
        "FBI": fbi,
        "Israel": israel,
        "": fbi,
        "Ghost": 999_999,
    }  # empty and unknown entities are ignored
    assert _replace(store, entry_id, found, surfaces) == 3
    stored = store.events.entry_events(entry_id)
    assert [(e.date, e.precision, e.position) for e in stored] == [
        ("2023-09-27", "day", 0),
        ("2002-01-01", "year", 1),
        ("2022-02-01", "month", 2),
    ]
    links = store.events.event_entity_ids([e.id for e in stored])
    assert links == {
        stored[0].id: sorted([smirnov, fbi]),
        stored[1].id: [],  # "Smirnova", "fbi", "Israeli" are other words
        stored[2].id: sorted([smirnov, israel]),
    }
    assert [e.date for e in store.events.entity_timeline(smirnov)] == ["2022-02-01", "2023-09-27"]
    assert [e.date for e in store.events.entity_timeline(israel)] == ["2022-02-01"]
    first = stored[0]
    assert (first.entry_id, first.entry_title, first.entry_url, first.feed_title) == (
        entry_id,
        "Smirnov case",
        "https://news.example/a",
        "Wire",
    )
    assert first.published == NOW and first.story_id is None


def test_replace_replaces_and_bad_input_keeps_what_is_stored(store: SqlStore) -> None:
    (entry_id,) = _feed_with(
        store, "https://a.example/feed", "Wire", [_entry("a", "T", "text", NOW)]
    )
    fbi = _entity(store, "org", "fbi", "FBI")
    first = [Event("2019-01-01", "year", f"In 2019 the FBI met {i}.", i) for i in range(3)]
    assert _replace(store, entry_id, first, {"FBI": fbi}) == 3
    assert _count(store, event_entities) == 3
    again = [Event("2020-01-01", "year", "In 2020 the FBI left.", 0)]
    assert _replace(store, entry_id, again, {"FBI": fbi}) == 1
    assert [e.sentence for e in store.events.entry_events(entry_id)] == ["In 2020 the FBI left."]
    assert _count(store, events) == 1 and _count(store, event_entities) == 1

    bad_events = [
        Event("2020-02-30", "day", "x", 0),
        Event("2020-2-3", "day", "x", 0),
        Event("2020-03-05", "month", "x", 0),
        Event("2020-03-01", "year", "x", 0),
        Event("not a date", "day", "x", 0),
        Event("2020-01-01", "year", "   ", 0),
    ]
    for bad in bad_events:
        with pytest.raises(NewsdeskError):
            _replace(store, entry_id, [*again, bad], {})
        assert [e.sentence for e in store.events.entry_events(entry_id)] == [again[0].sentence]
    with pytest.raises(NewsdeskError, match="no entry with id 424242"):
        _replace(store, 424242, again, {})
    assert _replace(store, entry_id, [], {}) == 0
    assert store.events.entry_events(entry_id) == [] and _count(store, event_entities) == 0


def test_story_timeline_orders_and_tells_syndicated_copies_once(store: SqlStore) -> None:
    early, late = NOW - timedelta(hours=5), NOW - timedelta(hours=1)
    wire = _feed_with(
        store,
        "https://wire.example/feed",
        "Wire",
        [
            _entry("w1", "Wire story", "text", late),
        ],
    )
    paper = _feed_with(
        store,
        "https://paper.example/feed",
        "Paper",
        [
            _entry("p1", "Paper copy", "text", early),
            _entry("p2", "Unrelated", "text", early),
        ],
    )
    story_id = _story(store, [wire[0], paper[0]])
    same = "In 2019 the talks began."
    _replace(
        store,
        wire[0],
        [
            Event("2023-10-01", "month", "October 2023: talks resumed.", 0),
            Event("2019-01-01", "year", same, 1),
        ],
        {},
    )
    _replace(
        store,
        paper[0],
        [
            Event("2019-01-01", "year", "In  2019 the talks BEGAN.", 0),  # the same, re-spaced
            Event("2023-10-01", "month", "October 2023: the paper's own account.", 1),
            Event("2023-10-07", "day", "On 7 October, the attack.", 2),
        ],
        {},
    )
    _replace(store, paper[1], [Event("2001-01-01", "year", "In 2001, elsewhere.", 0)], {})

    timeline = store.events.story_timeline(story_id)
    assert [(e.date, e.entry_id, e.sentence) for e in timeline] == [
        ("2019-01-01", paper[0], "In  2019 the talks BEGAN."),  # the earlier copy is kept
        ("2023-10-01", paper[0], "October 2023: the paper's own account."),
        ("2023-10-01", wire[0], "October 2023: talks resumed."),
        ("2023-10-07", paper[0], "On 7 October, the attack."),
    ]
    assert all(e.story_id == story_id for e in timeline)
    everything = store.events.story_timeline(story_id, distinct=False)
    assert [(e.date, e.entry_id) for e in everything] == [
        ("2019-01-01", paper[0]),
        ("2019-01-01", wire[0]),
        ("2023-10-01", paper[0]),
        ("2023-10-01", wire[0]),
        ("2023-10-07", paper[0]),
    ]
    assert len(store.events.story_timeline(story_id, distinct=False, limit=2)) == 2
    assert store.events.story_timeline(987654) == []
    assert store.events.entity_timeline(987654) == []
    assert store.events.entry_events(987654) == []

    # an entry's events go with it
    store.remove_feed(store.get_feed("https://paper.example/feed").id)
    assert [e.entry_id for e in store.events.story_timeline(story_id)] == [wire[0], wire[0]]
    assert _count(store, events) == 2


def test_the_seed_articles_through_the_store(store: SqlStore) -> None:
    """The seed's articles stored, their events extracted and stored, read back per entry and
    per story (the two Moscow-talks articles as one story), and linked to entities."""
    seed = [
        p for p in json.loads((SEED_DIR / "expected.json").read_text()) if p["kind"] == "article"
    ]
    items = [
        _entry(
            f"seed-{p['position']}",
            p["title"],
            "\n\n".join(p["required_paragraphs"]),
            datetime.fromisoformat(p["published"].replace("Z", "+00:00")),
        )
        for p in seed
    ]
    ids = _feed_with(store, "https://favorites.example/atom", "Favorites", items)
    hamas = _entity(store, "org", "hamas", "Hamas")
    smirnov = _entity(store, "person", "alexander smirnov", "Alexander Smirnov")
    expected = {}
    for entry_id, item in zip(ids, items, strict=True):
        found = extract_events(item.content_text, published=item.published)
        expected[entry_id] = found
        _replace(store, entry_id, found, {"Hamas": hamas, "Smirnov": smirnov})
    for entry_id, found in expected.items():
        assert [
            (e.date, e.precision, e.sentence, e.position)
            for e in store.events.entry_events(entry_id)
        ] == [(e.date, e.precision, e.sentence, e.position) for e in found]
    story_id = _story(store, ids[1:])
    timeline = store.events.story_timeline(story_id)
    assert [e.date for e in timeline] == sorted(e.date for e in timeline)
    assert len(timeline) == len(expected[ids[1]]) + len(expected[ids[2]])
    assert {e.entry_id for e in timeline} == set(ids[1:])
    hamas_dates = [e.date for e in store.events.entity_timeline(hamas)]
    assert "2007-01-01" in hamas_dates and "2023-11-26" in hamas_dates
    smirnov_events = store.events.entity_timeline(smirnov)
    assert {e.entry_id for e in smirnov_events} == {ids[0]}
    assert smirnov_events[0].date == "1992-01-01"


# -- exports ---------------------------------------------------------------------------------


def _event(sentence: str, title: str | None = "Title", **kw: object) -> TimelineEvent:
    values: dict[str, object] = dict(
        id=1,
        date="2023-09-27",
        precision="day",
        sentence=sentence,
        position=0,
        entry_id=7,
        entry_title=title,
        entry_url="https://news.example/a?x=1,2",
        feed_title='Wire, "the" feed',
        published=NOW,
        story_id=3,
    )
    values.update(kw)
    return TimelineEvent(**values)  # type: ignore[arg-type]


def test_json_export_round_trips() -> None:
    found = [
        _event('Smirnov, “quoted”, said "no".\nNew line.'),
        _event("x", title=None, published=None, story_id=None),
    ]
    data = json.loads(events_to_json(found))
    assert data == [e.as_dict() for e in found]
    assert data[0]["published"] == "2024-02-27T22:00:00Z" and data[1]["published"] is None
    assert events_to_json([]).strip() == "[]"


def test_csv_export_parses_back_and_quotes() -> None:
    tricky = 'Smirnov, “quoted”, said "no".\nA second line, too.'
    found = [_event(tricky), _event("plain", title=None, published=None)]
    text = events_to_csv(found)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == CSV_HEADER
    assert rows[1] == [
        "2023-09-27",
        "day",
        tricky,
        "7",
        "Title",
        "https://news.example/a?x=1,2",
        'Wire, "the" feed',
        "2024-02-27T22:00:00Z",
    ]
    assert rows[2][4] == "" and rows[2][7] == ""
    assert len(rows) == 3
    assert text.endswith("\r\n") and '""no""' in text  # RFC 4180 doubling
    assert next(csv.DictReader(io.StringIO(text, newline="")))["sentence"] == tricky
    assert events_to_csv([]) == ",".join(CSV_HEADER) + "\r\n"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_export_defuses_formulas(start: str) -> None:
    payload = f'{start}HYPERLINK("http://evil.example","click")'
    text = events_to_csv([_event(payload, title=payload, feed_title=payload)])
    row = list(csv.reader(io.StringIO(text, newline="")))[1]
    assert row[2] == row[4] == row[6] == "'" + payload
    assert row[0] == "2023-09-27"  # the values Newsdesk writes itself are left alone

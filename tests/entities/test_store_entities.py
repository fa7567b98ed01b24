"""Entities in the store, on SQLite and PostgreSQL: counters that stay right when an entry is
read again, co-mentions, mentions over time, lookups, stories, and the seed end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from newsdesk.demo import SEED_DIR
from newsdesk.entities import FoundEntity, load_extractor
from newsdesk.entities.evaluate import seed_articles
from newsdesk.errors import NewsdeskError
from newsdesk.model import Entry
from newsdesk.settings import load_settings
from newsdesk.store import FeedState, SqlStore, open_store
from newsdesk.store.engine import write_transaction
from newsdesk.store.entities import (
    replace_mentions,
)
from newsdesk.store.schema import entities, entity_mentions, entries, stories

NOW = datetime(2024, 2, 27, 12, 0, tzinfo=UTC)


def _entry(key: str, published: datetime) -> Entry:
    return Entry(
        key=key,
        url=f"https://example.org/{key}",
        title=f"Title {key}",
        author=None,
        kind="article",
        published=published,
        updated=None,
        content_html=f"<p>{key}</p>",
        content_text=key,
        summary_html=None,
        content_hash=f"h-{key}",
        tags=[],
        links=[],
        enclosures=[],
    )


def _store_with_entries(url: str, dates: list[datetime]) -> tuple[SqlStore, list[int]]:
    store = open_store(url)
    feed = store.add_feed("https://example.org/feed")
    state = FeedState(last_fetched=NOW, last_status=200, title="Feed")
    result = store.save_refresh(
        feed.id, state, [_entry(f"e{i}", d) for i, d in enumerate(dates)], NOW
    )
    return store, list(result.new_ids)


def person(key: str, name: str, count: int = 1, *surfaces: str) -> FoundEntity:
    return FoundEntity("person", key, name, surfaces or (name,), count, 0)


def place(key: str, name: str, count: int = 1) -> FoundEntity:
    return FoundEntity("place", key, name, (name,), count, 5)


def org(key: str, name: str, count: int = 1) -> FoundEntity:
    return FoundEntity("org", key, name, (name,), count, 9)


SMIRNOV = person("alexander smirnov", "Alexander Smirnov", 3, "Alexander Smirnov", "Smirnov")
RUSSIA = place("russia", "Russia", 2)
FBI = org("fbi", "FBI")
HAMAS = org("hamas", "Hamas", 4)


def _counters(store: SqlStore) -> dict[str, tuple[int, int]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(entities.c.key, entities.c.mention_count, entities.c.entry_count)
        )
        return {r.key: (r.mention_count, r.entry_count) for r in rows}


def _true_counters(store: SqlStore) -> dict[str, tuple[int, int]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(entities.c.key, func.sum(entity_mentions.c.count), func.count())
            .select_from(entities.join(entity_mentions))
            .group_by(entities.c.key)
        )
        return {r[0]: (int(r[1]), int(r[2])) for r in rows}


def test_counters_stay_right_when_entries_are_read_again(store_url: str) -> None:
    days = [NOW - timedelta(days=2), NOW - timedelta(days=1), NOW]
    store, (a, b, c) = _store_with_entries(store_url, days)
    with write_transaction(store.engine) as conn:
        surfaces = replace_mentions(conn, a, days[0], [SMIRNOV, RUSSIA, FBI])
        replace_mentions(conn, b, days[1], [SMIRNOV, RUSSIA])
        replace_mentions(conn, c, days[2], [RUSSIA, HAMAS])
    assert surfaces["Smirnov"] == surfaces["Alexander Smirnov"]
    assert set(surfaces) == {"Alexander Smirnov", "Smirnov", "Russia", "FBI"}
    assert _counters(store) == {
        "alexander smirnov": (6, 2),
        "russia": (6, 3),
        "fbi": (1, 1),
        "hamas": (4, 1),
    }
    smirnov = store.entities.find_entities("Alexander Smirnov")[0]
    assert (smirnov.first_seen, smirnov.last_seen) == (days[0], days[1])
    assert "Smirnov" in smirnov.aliases and smirnov.name == "Alexander Smirnov"

    # Entry b read again (its full text arrived): Smirnov gone, FBI new, Russia more often.
    with write_transaction(store.engine) as conn:
        replace_mentions(conn, b, days[1], [place("russia", "Russia", 5), FBI])
    # ... and again with the same result: nothing counted twice.
    with write_transaction(store.engine) as conn:
        replace_mentions(conn, b, days[1], [place("russia", "Russia", 5), FBI])
    assert _counters(store) == {
        "alexander smirnov": (3, 1),
        "russia": (9, 3),
        "fbi": (2, 2),
        "hamas": (4, 1),
    }
    assert _counters(store) == {k: v for k, v in _true_counters(store).items()}
    smirnov_now = store.entities.get_entity(smirnov.id)
    assert smirnov_now is not None and smirnov_now.last_seen == days[0]

    # An entry that no longer names anything: its entities keep their rows, at zero.
    with write_transaction(store.engine) as conn:
        assert replace_mentions(conn, c, days[2], []) == {}
    assert _counters(store)["hamas"] == (0, 0)
    hamas = store.entities.find_entities("hamas")[0]
    assert hamas.first_seen is None and hamas.last_seen is None
    assert [e.key for e in store.entities.list_entities()] == ["russia", "fbi", "alexander smirnov"]
    assert [e.key for e in store.entities.list_entities(kind="org")] == ["fbi"]
    with pytest.raises(NewsdeskError, match="unknown entity kind"):
        store.entities.list_entities(kind="animal")

    # A deleted entry takes its mentions with it (ON DELETE CASCADE).
    with write_transaction(store.engine) as conn:
        conn.execute(entries.delete().where(entries.c.id == a))
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(entity_mentions)).scalar() == 2


def test_a_rolled_back_write_leaves_no_trace(store_url: str) -> None:
    store, (a,) = _store_with_entries(store_url, [NOW])
    with pytest.raises(RuntimeError), write_transaction(store.engine) as conn:
        replace_mentions(conn, a, NOW, [SMIRNOV])
        raise RuntimeError("crash after extraction")
    assert _counters(store) == {}
    with (
        pytest.raises(NewsdeskError, match="unknown entity kind"),
        write_transaction(store.engine) as conn,
    ):
        replace_mentions(conn, a, NOW, [FoundEntity("animal", "cat", "Cat", ("Cat",), 1, 0)])


def test_a_surname_alone_joins_the_one_known_full_name(store_url: str) -> None:
    store, (a, b, c) = _store_with_entries(store_url, [NOW, NOW, NOW])
    with write_transaction(store.engine) as conn:
        replace_mentions(conn, a, NOW, [SMIRNOV, person("joe biden", "Joe Biden")])
        replace_mentions(conn, b, NOW, [person("hunter biden", "Hunter Biden")])
        surfaces = replace_mentions(
            conn, c, NOW, [person("smirnov", "Smirnov", 2), person("biden", "Biden")]
        )
    smirnov = store.entities.find_entities("Alexander Smirnov")[0]
    assert surfaces["Smirnov"] == smirnov.id
    assert (smirnov.mention_count, smirnov.entry_count) == (5, 2)
    # two Bidens known: "Biden" stays its own entity
    assert {e.key for e in store.entities.find_entities("biden")} == {
        "biden",
        "joe biden",
        "hunter biden",
    }
    assert store.entities.find_entities("Biden")[0].key == "biden"  # the exact match first


def test_find_entities(store_url: str) -> None:
    store, ids = _store_with_entries(store_url, [NOW] * 3)
    with write_transaction(store.engine) as conn:
        for entry_id in ids:
            replace_mentions(conn, entry_id, NOW, [place("united states", "United States")])
        replace_mentions(
            conn,
            ids[0],
            NOW,
            [
                FoundEntity("place", "united states", "United States", ("U.S.", "US"), 2, 0),
                place("united arab emirates", "United Arab Emirates"),
                org("us congress", "US Congress"),
                org("100% news_site", "100% News_Site"),
            ],
        )
    names = [e.name for e in store.entities.find_entities("united")]
    assert names[0] == "United States"  # most entries first among equals
    assert set(names) == {"United States", "United Arab Emirates"}
    assert store.entities.find_entities("U.S.")[0].name == "United States"  # an alias
    assert [e.name for e in store.entities.find_entities("us")][:1] == ["United States"]
    assert [e.name for e in store.entities.find_entities("100%")] == ["100% News_Site"]
    # LIKE wildcards in the query are literal characters
    assert [e.name for e in store.entities.find_entities("%")] == ["100% News_Site"]
    assert store.entities.find_entities("e_s") == []  # "_" is no wildcard
    assert [e.name for e in store.entities.find_entities("s_s")] == ["100% News_Site"]
    assert store.entities.find_entities("   ") == []
    assert store.entities.find_entities("nobody at all") == []
    assert len(store.entities.find_entities("u", limit=1)) == 1


def test_co_mentions_time_and_stories(store_url: str) -> None:
    dates = [
        datetime(2024, 1, 29, 10, tzinfo=UTC),  # Monday
        datetime(2024, 2, 3, 23, 30, tzinfo=UTC),  # Saturday, same week
        datetime(2024, 2, 5, 1, tzinfo=UTC),  # next Monday
        datetime(2024, 3, 1, 8, tzinfo=UTC),
    ]
    store, ids = _store_with_entries(store_url, dates)
    with write_transaction(store.engine) as conn:
        replace_mentions(conn, ids[0], dates[0], [HAMAS, RUSSIA, FBI])
        replace_mentions(conn, ids[1], dates[1], [HAMAS, RUSSIA])
        replace_mentions(conn, ids[2], dates[2], [HAMAS, RUSSIA, SMIRNOV])
        replace_mentions(conn, ids[3], dates[3], [SMIRNOV, FBI])
    hamas = store.entities.find_entities("Hamas")[0]
    russia = store.entities.find_entities("Russia")[0]
    fbi = store.entities.find_entities("FBI")[0]
    smirnov = store.entities.find_entities("Smirnov")[0]

    assert [(e.name, n) for e, n in store.entities.co_mentions(hamas.id)] == [
        ("Russia", 3),
        ("FBI", 1) if fbi.id < smirnov.id else ("Alexander Smirnov", 1),
        ("Alexander Smirnov", 1) if fbi.id < smirnov.id else ("FBI", 1),
    ]
    assert [n for _, n in store.entities.co_mentions(hamas.id, limit=1)] == [3]
    assert store.entities.co_mentions(999_999) == []

    nodes, edges = store.entities.co_mention_graph(hamas.id)
    assert nodes[0].id == hamas.id and {n.id for n in nodes} == {
        hamas.id,
        russia.id,
        fbi.id,
        smirnov.id,
    }
    weights = {(a, b): w for a, b, w in edges}
    pair = lambda x, y: (min(x, y), max(x, y))  # noqa: E731
    assert weights[pair(hamas.id, russia.id)] == 3
    assert weights[pair(russia.id, fbi.id)] == 1
    assert weights[pair(russia.id, smirnov.id)] == 1
    # FBI and Smirnov meet only in an entry without Hamas: not an edge of Hamas's graph
    assert pair(fbi.id, smirnov.id) not in weights
    assert store.entities.co_mention_graph(999_999) == ([], [])

    assert store.entities.mentions_over_time(hamas.id) == [
        ("2024-01-29", 1),
        ("2024-02-03", 1),
        ("2024-02-05", 1),
    ]
    assert store.entities.mentions_over_time(hamas.id, bucket="week") == [
        ("2024-01-29", 2),
        ("2024-02-05", 1),
    ]
    assert store.entities.mentions_over_time(fbi.id, bucket="month") == [
        ("2024-01-01", 1),
        ("2024-03-01", 1),
    ]
    with pytest.raises(NewsdeskError, match="unknown bucket"):
        store.entities.mentions_over_time(fbi.id, bucket="year")

    by_entry = store.entities.entities_for_entries([ids[0], ids[3], 999_999])
    assert [e.name for e in by_entry[ids[0]]] == ["Hamas", "Russia", "FBI"]  # by count
    assert [e.name for e in by_entry[ids[3]]] == ["Alexander Smirnov", "FBI"]
    assert by_entry[999_999] == []

    # Stories: entries 0-1 in an older story, 2-3 in a newer one.
    with write_transaction(store.engine) as conn:
        older, newer = (
            conn.execute(
                insert(stories)
                .values(
                    title=title,
                    size=2,
                    sources=1,
                    first_published=first,
                    last_published=last,
                    created_at=NOW,
                    updated_at=NOW,
                )
                .returning(stories.c.id)
            ).scalar_one()
            for title, first, last in (
                ("Older", dates[0], dates[1]),
                ("Newer", dates[2], dates[3]),
            )
        )
        for entry_id, story_id in zip(ids, (older, older, newer, newer), strict=True):
            conn.execute(update(entries).where(entries.c.id == entry_id).values(story_id=story_id))
    assert store.entities.entity_story_ids(hamas.id) == [newer, older]
    assert store.entities.entity_story_ids(fbi.id, limit=1) == [newer]
    assert store.entities.entity_story_ids(999_999) == []


def test_the_seed_articles_end_to_end(store_url: str) -> None:
    articles = seed_articles(Path(SEED_DIR) / "expected.json")
    dates = [NOW - timedelta(hours=len(articles) - i) for i in range(len(articles))]
    store, ids = _store_with_entries(store_url, dates)
    found = load_extractor(load_settings(env={})).extract(list(articles.values()))
    for _ in range(2):  # a second run changes nothing
        with write_transaction(store.engine) as conn:
            for entry_id, published, doc in zip(ids, dates, found, strict=True):
                surfaces = replace_mentions(conn, entry_id, published, doc)
                assert surfaces and all(isinstance(v, int) for v in surfaces.values())
    assert _counters(store) == _true_counters(store)
    top = store.entities.list_entities(limit=5)
    assert {e.name for e in top} >= {"Russia", "Israel", "Moscow"}
    assert all(e.entry_count == 3 for e in top[:3])
    bogdanov = store.entities.find_entities("Bogdanov")[0]
    assert (bogdanov.name, bogdanov.entry_count) == ("Mikhail Bogdanov", 2)
    hamas = store.entities.find_entities("hamas")[0]
    partners = {e.name for e, _ in store.entities.co_mentions(hamas.id, limit=50)}
    assert {"Fatah", "Mikhail Bogdanov", "Moscow"} <= partners
    assert "Alexander Smirnov" not in partners
    assert (
        store.entities.find_entities("Smirnov")[0].as_dict()["first_seen"] == "2024-02-27T09:00:00Z"
    )

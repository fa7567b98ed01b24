"""A person's river on SQLite may first walk the newest entries in publication order
(``EntryQueries._river_walk``, issue 15's benchmark): whichever way it is read, it is the same
page as the plain query's, for every view, state and offset, including when the window runs
out of matches."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

import newsdesk.store.sql_entries as sql_entries
from newsdesk.model import Entry
from newsdesk.store import EntryQuery, FeedState, open_store
from newsdesk.store.schema import categories, category_shares
from newsdesk.store.sql import SqlStore

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
PASSWORD = "a long enough pass phrase 15"


def _entry(key: str, published: datetime) -> Entry:
    return Entry(
        key=key,
        url=f"https://example.org/{key}",
        title=f"Title {key}",
        author="Ann",
        kind="article",
        published=published,
        updated=None,
        content_html="<p>Body</p>",
        content_text="Body",
        summary_html=None,
        content_hash=f"h-{key}",
        tags=[],
        links=[],
        enclosures=[],
    )


def _desk(url: str) -> tuple[SqlStore, list[int]]:
    """12 feeds; three people following overlapping sets, with categories, one shared; entries
    at random times (some at the same moment), a third read, a few starred."""
    rng = random.Random(15)
    store = open_store(url)
    people = [store.users.add_user(f"p{i}", PASSWORD).id for i in range(3)]
    owner = store.as_person(people[0])
    urls = [f"https://site{i}.example/feed.xml" for i in range(12)]
    owner.add_feeds([(u, None, "World" if i % 2 else "Tech") for i, u in enumerate(urls[:8])])
    store.as_person(people[1]).add_feeds([(u, None, "World") for u in urls[4:12]])
    store.as_person(people[2]).add_feeds([(u, None, "Tech") for u in urls[10:]])
    system = store.as_system()
    state = FeedState(last_fetched=NOW, last_status=200, title="Feed")
    for feed in system.list_feeds():
        batch = []
        for n in range(40):
            moment = NOW - timedelta(minutes=rng.choice([rng.randint(0, 5000), 7]))
            batch.append(_entry(f"{feed.id}-{n}", moment))
        system.save_refresh(feed.id, state, batch, NOW)
    with store.engine.begin() as conn:  # p0 shares their "Tech" with p2 (no store call yet)
        tech = conn.execute(
            select(categories.c.id).where(
                categories.c.user_id == people[0], categories.c.title == "Tech"
            )
        ).scalar_one()
        conn.execute(
            insert(category_shares).values(
                category_id=tech, user_id=people[2], can_manage=False, created_at=NOW
            )
        )
    for person in people:
        mine = store.as_person(person)
        ids = [e.id for e in mine.list_entries(EntryQuery(limit=1000))]
        mine.set_flags([i for i in ids if rng.random() < 0.33], read=True)
        mine.set_flags([i for i in ids if rng.random() < 0.05], starred=True)
    return store, people


QUERIES = [
    EntryQuery(),
    EntryQuery(read=False),
    EntryQuery(read=True),
    EntryQuery(category="World"),
    EntryQuery(category="Tech", read=False),
    EntryQuery(starred=True),
    EntryQuery(kind="article", read=False),
    EntryQuery(since=NOW - timedelta(days=2)),
]


@pytest.mark.parametrize("window", [1, 5, 60, 100_000])
def test_the_walk_gives_the_plain_querys_pages(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    store, people = _desk(sqlite_url)
    monkeypatch.setattr(sql_entries, "RIVER_WINDOW", window)
    for person in people:
        mine = store.as_person(person)
        for base in QUERIES:
            for limit, offset in ((31, 0), (10, 20), (50, 150), (5, 400)):
                query = EntryQuery(**{**vars_of(base), "limit": limit, "offset": offset})
                monkeypatch.setattr(sql_entries, "WALK_SHARE", 10**9)  # always walk first
                walked = [e.id for e in mine.list_entries(query)]
                monkeypatch.setattr(sql_entries, "WALK_SHARE", 0)  # never
                plain = [e.id for e in mine.list_entries(query)]
                assert walked == plain, (person, base, limit, offset)
    store.close()


def vars_of(query: EntryQuery) -> dict[str, object]:
    return {name: getattr(query, name) for name in EntryQuery.__dataclass_fields__}


def test_a_starred_view_is_read_from_the_persons_states(store_url: str) -> None:
    store, people = _desk(store_url)
    for person in people:
        mine = store.as_person(person)
        every = mine.list_entries(EntryQuery(limit=1000))
        starred = mine.list_entries(EntryQuery(starred=True, limit=1000))
        assert [e.id for e in starred] == [e.id for e in every if e.starred]
        assert starred and all(e.starred for e in starred)
    store.close()

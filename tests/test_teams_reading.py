"""Teams (issue 15), the reading side of the store, on SQLite and PostgreSQL: a feed followed by
two people is stored and fetched once; read, starred, labels, counts and saved searches are
each person's own; a shared category gives its feeds to the sharee with their own state; and a
person can neither see nor change the entries of a feed they do not see."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from members import article, member_views
from newsdesk.errors import NewsdeskError
from newsdesk.store import EntryQuery, FeedState, SqlStore, open_store
from newsdesk.store.schema import category_shares, entries, entry_states, feeds
from newsdesk.store.sync import SyncQuery

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Team:
    store: SqlStore
    a: SqlStore  # alice's view
    b: SqlStore  # bob's view


@pytest.fixture
def team(store_url: str) -> Iterator[Team]:
    store = open_store(store_url)
    a, b = member_views(store, ("alice", "bob"), NOW)
    yield Team(store, a, b)
    store.close()


def _fill(
    store: SqlStore, feed_id: int, name: str, count: int = 3, story: int | None = None
) -> list[int]:
    """``count`` entries in the feed, as a refresh stores them (once, whoever follows it)."""
    made = [
        article(name, i, NOW - timedelta(hours=i), f"{name} news {i}", f"{name} words {i}")
        for i in range(count)
    ]
    system = store.as_system()
    ids = system.save_refresh(feed_id, FeedState(last_fetched=NOW), made, NOW).new_ids
    if story is not None:
        with store.engine.begin() as conn:
            conn.execute(entries.update().where(entries.c.id.in_(ids)).values(story_id=story))
    return list(ids)


def _category_id(store: SqlStore, title: str) -> int:
    return next(cid for cid, name, _n in store.categories() if name == title)


def _share(team: Team, category_id: int, person: SqlStore) -> None:
    with team.store.engine.begin() as conn:
        conn.execute(
            insert(category_shares).values(
                category_id=category_id,
                user_id=person.person_id,
                can_manage=False,
                created_at=NOW,
            )
        )


def test_a_feed_two_people_follow_is_stored_once(team: Team) -> None:
    url = "https://example.org/shared.xml"
    fa = team.a.add_feed(url, title="Alice's name", category="News")
    fb = team.b.add_feed(url, category="Mine")
    assert fa.id == fb.id
    with team.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(feeds)).scalar() == 1
    ids = _fill(team.store, fa.id, "shared")
    with team.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(entries)).scalar() == 3
    for person in (team.a, team.b):
        assert sorted(e.id for e in person.list_entries(EntryQuery())) == sorted(ids)
    # each their own name and category for it
    assert team.a.get_feed(fa.id).display_title == "Alice's name"
    assert team.a.get_feed(fa.id).category == "News"
    assert team.b.get_feed(fb.id).category == "Mine"
    assert [f.id for f in team.a.reading.feeds_in_category("News")] == [fa.id]
    assert team.b.reading.feeds_in_category("News") == []
    assert dict(team.a.reading.feed_choices(10)) == {fa.id: "Alice's name"}


def test_read_starred_labels_and_counts_are_each_persons(team: Team) -> None:
    url = "https://example.org/shared.xml"
    feed = team.a.add_feed(url, category="News")
    team.b.add_feed(url, category="Mine")
    first, second, third = _fill(team.store, feed.id, "shared", story=None)
    assert team.a.set_flags([first], read=True) == 1
    assert team.a.set_flags([second], starred=True) == 1
    assert team.a.labels.add_label([first, second], "Later") == 2

    a_first = team.a.get_entry(first)
    b_first = team.b.get_entry(first)
    assert a_first.read and not b_first.read
    assert team.a.get_entry(second).starred and not team.b.get_entry(second).starred
    assert team.b.labels.labels_of([first, second]) == {}
    assert team.a.labels.labels_of([first]) == {first: ["Later"]}
    assert [c.name for c in team.a.labels.label_counts()] == ["Later"]
    assert team.b.labels.label_counts() == []
    assert team.b.sync.entry_ids(SyncQuery(label="Later")) == []
    assert sorted(team.a.sync.entry_ids(SyncQuery(label="Later"))) == sorted([first, second])

    a_counts, b_counts = team.a.sync.feed_counts()[feed.id], team.b.sync.feed_counts()[feed.id]
    assert (a_counts.unread, a_counts.read, a_counts.starred) == (2, 1, 1)
    assert (b_counts.unread, b_counts.read, b_counts.starred) == (3, 0, 0)
    assert team.a.reading.unread_by_category() == [(_category_id(team.a, "News"), "News", 2)]
    assert team.b.reading.unread_by_category() == [(_category_id(team.b, "Mine"), "Mine", 3)]
    assert team.a.count_entries(EntryQuery(read=False)) == 2
    assert team.b.count_entries(EntryQuery(read=False)) == 3
    assert team.b.sync.count_entries(SyncQuery(base=EntryQuery(starred=True))) == 0

    # a person's own changes are what their incremental sync sees
    before = NOW - timedelta(days=1)
    with team.store.engine.begin() as conn:  # everything so far changed long ago
        conn.execute(entries.update().values(changed_at=NOW - timedelta(days=30)))
        conn.execute(entry_states.update().values(changed_at=NOW - timedelta(days=30)))
    assert team.b.sync.mark_read(SyncQuery(base=EntryQuery(ids=[third]))) == 1
    assert team.b.sync.entry_ids(SyncQuery(changed_after=before)) == [third]
    assert team.a.sync.entry_ids(SyncQuery(changed_after=before)) == []

    # marking a whole view read is one person's
    assert team.b.reading.mark_view_read(EntryQuery(category="Mine")) == 2
    assert team.b.count_entries(EntryQuery(read=False)) == 0
    assert team.a.count_entries(EntryQuery(read=False)) == 2
    assert team.a.sync.mark_read(SyncQuery(base=EntryQuery(ids=[first])), read=False) == 1
    assert not team.a.get_entry(first).read and team.b.get_entry(first).read

    # renaming and removing a label: the person's own
    assert team.b.labels.add_label([first], "Later") == 1
    assert team.a.labels.rename("Later", "Soon")
    assert team.b.labels.labels_of([first]) == {first: ["Later"]}
    assert team.a.labels.remove("Soon") and team.a.labels.label_counts() == []
    assert [c.name for c in team.b.labels.label_counts()] == ["Later"]


def test_a_story_is_marked_for_one_person(team: Team) -> None:
    url = "https://example.org/shared.xml"
    feed = team.a.add_feed(url)
    team.b.add_feed(url)
    story_id = 1
    ids = _fill(team.store, feed.id, "story", story=story_id)
    assert team.a.reading.mark_story(story_id, True) == len(ids)
    assert team.a.reading.mark_story(story_id, True) == 0
    assert all(e.read for e in team.a.list_entries(EntryQuery(story_id=story_id)))
    assert not any(e.read for e in team.b.list_entries(EntryQuery(story_id=story_id)))
    assert team.a.reading.mark_story(story_id, False) == len(ids)


def test_a_shared_category_gives_its_feeds_with_the_sharees_own_state(team: Team) -> None:
    shared = team.a.add_feed("https://example.org/shared.xml", category="Desk")
    private = team.a.add_feed("https://example.org/private.xml", category="Private")
    shared_ids = _fill(team.store, shared.id, "shared")
    private_ids = _fill(team.store, private.id, "private", story=7)
    desk_id, private_cat = _category_id(team.a, "Desk"), _category_id(team.a, "Private")
    assert team.b.list_entries(EntryQuery()) == []
    _share(team, desk_id, team.b)

    # bob sees the shared category's feeds and entries, none of alice's private ones
    assert sorted(e.id for e in team.b.list_entries(EntryQuery())) == sorted(shared_ids)
    assert [f.id for f in team.b.list_feeds()] == [shared.id]
    assert team.b.reading.unread_by_category() == [(desk_id, "Desk", 3)]
    assert [f.id for f in team.b.reading.feeds_in_category("Desk")] == [shared.id]
    assert team.b.reading.feeds_in_category("Private") == []
    groups = {title: [f.id for f in found] for _c, title, found in team.b.reading.category_groups()}
    assert groups == {"Desk": [shared.id], "": []}
    assert set(team.b.sync.feed_counts()) == {shared.id}
    assert team.b.sync.count_entries(SyncQuery(category_id=desk_id)) == 3
    assert team.b.sync.count_entries(SyncQuery(category_id=private_cat)) == 0
    assert team.b.sync.max_entry_id() == max(shared_ids)

    # with their own read state
    assert team.b.set_flags(shared_ids[:1], read=True) == 1
    assert team.b.reading.unread_by_category() == [(desk_id, "Desk", 2)]
    assert dict((t, n) for _c, t, n in team.a.reading.unread_by_category()) == {
        "Desk": 3,
        "Private": 3,
    }

    # and no way to alice's private entries: not seen, marked, labelled nor renamed
    one = private_ids[0]
    assert team.b.sync.entries_by_ids(private_ids) == []
    with pytest.raises(NewsdeskError):
        team.b.get_entry(one)
    assert team.b.set_flags([one], read=True, starred=True) == 0
    assert team.b.labels.add_label([one], "Mine") == 0
    assert team.b.reading.mark_view_read(EntryQuery(feed_id=private.id)) == 0
    assert team.b.reading.mark_view_read(EntryQuery(category="Private")) == 0
    assert team.b.sync.mark_read(SyncQuery(base=EntryQuery(ids=private_ids))) == 0
    assert team.b.sync.mark_read(SyncQuery(category_id=private_cat)) == 0
    assert team.b.reading.mark_story(7, True) == 0
    assert not team.b.labels.rename("Private", "Mine") and not team.b.labels.remove("Private")
    for change in (
        lambda: team.b.editing.rename_category(private_cat, "Mine"),
        lambda: team.b.editing.remove_category(private_cat),
        lambda: team.b.editing.rename_category(desk_id, "Mine"),  # shared, not theirs
        lambda: team.b.editing.edit_entry(one, title="Mine"),
    ):
        with pytest.raises(NewsdeskError):
            change()
    assert team.a.count_entries(EntryQuery(read=False)) == 6
    assert team.a.labels.label_counts() == []
    assert _category_id(team.a, "Private") == private_cat
    assert team.a.get_entry(one).title == "private news 0"


def test_categories_are_each_persons(team: Team) -> None:
    a_id, _ = team.a.editing.create_category("Long reads")
    b_id, _ = team.b.editing.create_category("Long reads")  # the same name, another person
    assert a_id != b_id
    with pytest.raises(NewsdeskError):
        team.a.editing.create_category("Long reads")
    team.b.editing.rename_category(b_id, "Essays")
    assert [t for _i, t, _n in team.a.categories()] == ["Long reads"]
    assert [t for _i, t, _n in team.b.categories()] == ["Essays"]
    with pytest.raises(NewsdeskError):
        team.b.editing.remove_category(a_id)
    team.a.editing.remove_category(a_id)
    assert team.a.categories() == []


def test_saved_searches_are_each_persons(team: Team) -> None:
    mine = team.a.saved_searches.save_search("Russia", "Russia", {})
    assert team.b.saved_searches.list_saved_searches() == []
    assert team.b.saved_searches.get_saved_search(mine.id) is None
    assert not team.b.saved_searches.delete_saved_search(mine.id)
    theirs = team.b.saved_searches.save_search("Russia", "Russia sanctions", {})
    assert [s.id for s in team.a.saved_searches.list_saved_searches()] == [mine.id]
    assert [s.id for s in team.b.saved_searches.list_saved_searches()] == [theirs.id]
    assert team.a.saved_searches.delete_saved_search(mine.id)
    assert team.b.saved_searches.get_saved_search(theirs.id) is not None

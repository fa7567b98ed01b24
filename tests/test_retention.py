"""Retention (issue 16), on SQLite and PostgreSQL: policies per person and per feed, the shared
feed's rule (an entry goes only when every follower lets it go), starred entries and stories
holding one kept, everything hanging off a removed entry gone with it, tombstones that keep a
refetch from bringing entries back, the in-memory feed totals, SQLite's space given back."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Table, func, insert, select, text, update

from newsdesk.desk import Desk
from newsdesk.errors import FeedNotFoundError, NewsdeskError
from newsdesk.model import Entry
from newsdesk.settings import load_settings
from newsdesk.store import EntryQuery, open_store
from newsdesk.store.feed_totals import count_totals
from newsdesk.store.protocols.refresh import FeedState
from newsdesk.store.retention import Policy, RetentionError, check_policy
from newsdesk.store.schema import (
    alerts,
    entities,
    entity_mentions,
    entries,
    entry_filings,
    entry_intel,
    entry_labels,
    entry_links,
    entry_signatures,
    entry_states,
    entry_tags,
    event_entities,
    events,
    removed_entries,
    stories,
    story_keys,
    watchlists,
)
from newsdesk.store.sql import SqlStore
from routes_server import Answer, RoutesServer

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=40)
EVERY = EntryQuery(limit=1000)


def make_entry(feed: str, n: int, *, published: datetime | None = None, words: str = "") -> Entry:
    link = f"https://{feed}.example/{n}"
    body = f"Harbour {feed} report {n}. {words}"
    return Entry(
        key=link,
        url=link,
        title=f"{feed} story {n}",
        author="Reporter",
        kind="article",
        published=published or (NOW - timedelta(hours=n)),
        updated=None,
        content_html=f"<p>{body} <a href='https://ref.example/{n}'>ref</a></p>",
        content_text=body,
        summary_html=None,
        content_hash=hashlib.sha256(f"{feed}/{n}/{words}".encode()).hexdigest(),
        tags=["harbour", f"t{n % 3}"],
        links=[f"https://ref.example/{n}"],
    )


@dataclass
class Team:
    store: SqlStore
    alice: SqlStore  # the first admin
    bob: SqlStore
    alice_id: int
    bob_id: int

    def feed(self, name: str, *followers: SqlStore) -> int:
        """A feed followed by ``followers`` (the same URL: one feed)."""
        ids = {f.add_feed(f"https://{name}.example/feed").id for f in followers}
        assert len(ids) == 1
        return ids.pop()

    def fill(self, feed_id: int, name: str, ns: range, seen: datetime) -> list[int]:
        """Entries ``ns`` of the feed, first seen at ``seen`` (published an hour apart)."""
        result = self.store.as_system().save_refresh(
            feed_id,
            FeedState(last_fetched=seen, last_status=200),
            [make_entry(name, n) for n in ns],
            seen,
        )
        return result.new_ids

    def count(self, table: Table, where: object = None) -> int:
        query = select(func.count()).select_from(table)
        if where is not None:
            query = query.where(where)  # type: ignore[arg-type]
        with self.store.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def ids(self, feed_id: int) -> set[int]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(entries.c.id).where(entries.c.feed_id == feed_id))
            return {int(r[0]) for r in rows}


def make_team(store_url: str) -> Iterator[Team]:
    """alice (the desk's first admin) and bob (a member)."""
    store = open_store(store_url)
    admin = store.users.person()
    store.users.setup_owner("alice", "alice-password")
    bob = store.users.add_user("bob", "bob-password", role="member")
    yield Team(store, store.as_person(admin.id), store.as_person(bob.id), admin.id, bob.id)
    store.close()


@pytest.fixture
def team(store_url: str) -> Iterator[Team]:
    yield from make_team(store_url)


def test_policies_are_checked_and_merged() -> None:
    assert check_policy({"keep_days": 30, "keep_last": None}) == {
        "keep_days": 30,
        "keep_last": None,
    }
    for bad, words in (
        ({"keep_days": 0}, "keep_days must be a whole number of days from 1"),
        ({"keep_last": -3}, "keep_last must be a whole number of entries"),
        ({"keep_days": "30"}, "not '30'"),
        ({"keep_days": True}, "not True"),
        ({"keep_forever": 1}, "unknown retention setting 'keep_forever'"),
        ([1, 2], "a retention policy is an object"),
    ):
        with pytest.raises(RetentionError, match=words):
            check_policy(bad)
    # the feed's keys over the default's: a key present replaces, null lifts a limit
    assert Policy.of({"keep_days": 30}, {"keep_last": 50}) == Policy(30, None, 50)
    assert Policy.of({"keep_days": 30}, {"keep_days": None}) == Policy()
    assert not Policy().limits and Policy(keep_last=5).limits
    read_sooner = Policy(keep_days=30, keep_read_days=7)
    assert read_sooner.lets_go(10, read=True) and not read_sooner.lets_go(10, read=False)
    assert read_sooner.lets_go(31, read=False)
    # only a read limit: unread entries stay whatever their age
    assert not Policy(keep_read_days=7).lets_go(1000, read=False)
    # only a count: beyond it (the caller's part) anything goes
    assert Policy(keep_last=10).lets_go(0, read=False)


def test_a_person_sets_their_default_and_their_feeds(team: Team) -> None:
    feed = team.feed("news", team.alice, team.bob)
    team.alice.retention.set_default({"keep_days": 30})
    team.alice.retention.set_feed(feed, {"keep_last": 5})
    assert team.alice.retention.effective(feed) == Policy(keep_days=30, keep_last=5)
    assert team.alice.retention.feeds() == {feed: {"keep_last": 5}}
    # bob's are his own: alice's changes are not his
    assert team.bob.retention.default() == {} and team.bob.retention.feeds() == {}
    assert team.bob.retention.effective(feed) == Policy()
    other = team.feed("private", team.alice)
    with pytest.raises(FeedNotFoundError, match=f"you do not follow feed {other}"):
        team.bob.retention.set_feed(other, {"keep_days": 1})
    with pytest.raises(RetentionError):
        team.alice.retention.set_default({"keep_days": 0})
    team.alice.retention.set_feed(feed, None)
    assert team.alice.retention.feed(feed) == {}


def test_a_shared_feed_loses_an_entry_only_when_every_follower_lets_it_go(team: Team) -> None:
    feed = team.feed("shared", team.alice, team.bob)
    old = team.fill(feed, "shared", range(10, 16), OLD)  # first seen 40 days ago
    new = team.fill(feed, "shared", range(0, 4), NOW - timedelta(days=1))
    team.alice.retention.set_default({"keep_days": 30})
    # bob keeps everything (the default): nothing goes
    assert team.store.retention.apply(now=NOW).removed == 0
    team.bob.retention.set_default({"keep_days": 60})
    assert team.store.retention.apply(now=NOW).removed == 0  # 40 days: bob keeps them
    # bob lets the entries he read go after 10 days on this feed
    team.bob.retention.set_feed(feed, {"keep_read_days": 10})
    team.bob.set_flags(old[:2], read=True)
    dry = team.store.retention.apply(now=NOW, dry_run=True)
    assert (dry.dry_run, dry.removed, dry.feeds) == (True, 2, {feed: 2})
    assert team.ids(feed) == set(old) | set(new)  # a dry run removes nothing
    report = team.store.retention.apply(now=NOW)
    assert report.removed == 2 and report.feeds == {feed: 2}
    assert team.ids(feed) == set(old[2:]) | set(new)
    # --keep-days replaces everyone's keep_days for the run (bob's 60 too)
    report = team.store.retention.apply(now=NOW, keep_days=20)
    assert report.removed == 4 and team.ids(feed) == set(new)


def test_keep_last_counts_the_newest_and_stars_hold_their_stories(team: Team) -> None:
    feed = team.feed("busy", team.alice)
    ids = team.fill(feed, "busy", range(0, 10), OLD)  # n=0 newest … n=9 oldest
    other = team.feed("elsewhere", team.bob)
    (outside,) = team.fill(other, "elsewhere", range(0, 1), OLD)
    with team.store.engine.begin() as conn:
        made = []
        for lead in (ids[5], ids[7], ids[9]):
            made.append(
                conn.execute(
                    insert(stories)
                    .values(
                        title="s",
                        lead_entry_id=lead,
                        size=0,
                        sources=0,
                        first_published=OLD,
                        last_published=OLD,
                        created_at=OLD,
                        updated_at=OLD,
                    )
                    .returning(stories.c.id)
                ).scalar_one()
            )
        held, touched, emptied = made
        # held: an old entry and bob's starred entry of another feed; touched: one kept by
        # keep_last, one going; emptied: only entries that go
        for entry_id, story in (
            (ids[5], held),
            (outside, held),
            (ids[2], touched),
            (ids[7], touched),
            (ids[8], emptied),
            (ids[9], emptied),
        ):
            conn.execute(update(entries).where(entries.c.id == entry_id).values(story_id=story))
    team.bob.set_flags([outside], starred=True)  # bob does not even follow "busy"
    team.alice.set_flags([ids[6]], starred=True)
    team.alice.retention.set_default({"keep_last": 3})
    team.store.stories.repair_stories(NOW)  # sizes as clustering leaves them
    report = team.store.retention.apply(now=NOW)
    # beyond the newest 3: ids[3..9]; kept: 5 (its story holds a star), 6 (starred)
    assert team.ids(feed) == {ids[0], ids[1], ids[2], ids[5], ids[6]}
    assert (report.removed, report.kept_starred) == (5, 2)
    assert (report.stories_changed, report.stories_removed) == (2, 1)
    with team.store.engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(stories))}
    assert set(rows) == {held, touched}
    assert (rows[touched].size, rows[touched].lead_entry_id) == (1, ids[2])
    assert rows[held].size == 2


def _hang_everything_off(team: Team, ids: list[int]) -> None:
    """States, labels, filings, story keys, signatures, mentions, events, alerts, intel rows."""
    team.alice.set_flags(ids, read=True)
    team.alice.labels.add_label(list(ids), "keep-an-eye")
    with team.store.engine.begin() as conn:
        category = conn.execute(text("SELECT min(id) FROM categories")).scalar_one()
        person = conn.execute(
            insert(entities)
            .values(
                kind="person", key="ana", name="Ana", aliases=[], mention_count=0, entry_count=0
            )
            .returning(entities.c.id)
        ).scalar_one()
        watch = conn.execute(
            insert(watchlists)
            .values(
                user_id=team.alice_id,
                name="w",
                query="",
                entity_ids=[],
                categories=[],
                feed_ids=[],
                channels={},
                mode="instant",
                enabled=True,
                created_at=OLD,
            )
            .returning(watchlists.c.id)
        ).scalar_one()
        for n, entry_id in enumerate(ids):
            conn.execute(
                insert(entry_filings).values(
                    user_id=team.alice_id, entry_id=entry_id, category_id=category
                )
            )
            conn.execute(
                insert(story_keys).values(key=f"u:{entry_id}", entry_id=entry_id, published=OLD)
            )
            conn.execute(
                insert(entry_signatures).values(entry_id=entry_id, minhash=b"x", title_terms="t")
            )
            conn.execute(
                insert(entity_mentions).values(
                    entry_id=entry_id, entity_id=person, count=2, published=OLD + timedelta(n)
                )
            )
            conn.execute(
                insert(entry_intel).values(
                    entry_id=entry_id, content_hash="h", text_length=1, version=1, done_at=OLD
                )
            )
            event = conn.execute(
                insert(events)
                .values(
                    entry_id=entry_id, date="2026-01-01", precision="day", sentence="s", position=0
                )
                .returning(events.c.id)
            ).scalar_one()
            conn.execute(insert(event_entities).values(event_id=event, entity_id=person))
            conn.execute(
                insert(alerts).values(
                    watchlist_id=watch,
                    entry_id=entry_id,
                    channel="webhook",
                    status="sent",
                    created_at=OLD,
                )
            )
        conn.execute(
            update(entities).values(
                mention_count=2 * len(ids),
                entry_count=len(ids),
                first_seen=OLD,
                last_seen=OLD + timedelta(len(ids)),
            )
        )


def check_consistent(store: SqlStore) -> None:
    """No row points at an entry that is gone; tombstones are not entries; the search index,
    the entities' counters, the stories and the feed totals agree with the rows."""
    with store.engine.connect() as conn:
        for table in (
            entry_links,
            entry_tags,
            entry_states,
            entry_labels,
            entry_filings,
            story_keys,
            entry_signatures,
            entity_mentions,
            entry_intel,
            events,
            alerts,
        ):
            orphans = conn.execute(
                select(func.count())
                .select_from(table)
                .where(table.c.entry_id.not_in(select(entries.c.id)))
            ).scalar_one()
            assert orphans == 0, table.name
        assert (
            conn.execute(
                select(func.count())
                .select_from(event_entities)
                .where(event_entities.c.event_id.not_in(select(events.c.id)))
            ).scalar_one()
            == 0
        )
        back = conn.execute(
            select(func.count()).select_from(
                entries.join(
                    removed_entries,
                    (removed_entries.c.feed_id == entries.c.feed_id)
                    & (removed_entries.c.key == entries.c.key),
                )
            )
        ).scalar_one()
        assert back == 0  # no removed entry is stored again
        for row in conn.execute(select(entities)):
            mentions = conn.execute(
                select(
                    func.coalesce(func.sum(entity_mentions.c.count), 0),
                    func.count(),
                    func.min(entity_mentions.c.published),
                ).where(entity_mentions.c.entity_id == row.id)
            ).one()
            assert (row.mention_count, row.entry_count) == (mentions[0], mentions[1])
            assert row.first_seen == mentions[2]
        for row in conn.execute(select(stories)):
            members = (
                conn.execute(select(entries.c.id).where(entries.c.story_id == row.id))
                .scalars()
                .all()
            )
            assert row.size == len(members) > 0 and row.lead_entry_id in members
        if store.dialect == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            conn.exec_driver_sql(
                "INSERT INTO entries_fts(entries_fts, rank) VALUES ('integrity-check', 1)"
            )
            assert store.feed_totals.get(conn) == count_totals(conn)


def test_everything_hanging_off_a_removed_entry_goes_with_it(team: Team) -> None:
    feed = team.feed("deep", team.alice)
    going = team.fill(feed, "deep", range(5, 9), OLD)
    staying = team.fill(feed, "deep", range(0, 2), NOW)
    _hang_everything_off(team, going + staying)
    with team.store.engine.connect() as conn:
        before = team.store.feed_totals.get(conn) if team.store.dialect == "sqlite" else None
    assert before is None or before[feed][0] == 6
    assert len(team.alice.search("harbour", EVERY)) == 6
    team.alice.retention.set_default({"keep_days": 30})
    report = team.store.retention.apply(now=NOW, batch_size=3)
    assert (report.removed, report.batches) == (4, 2)
    assert team.ids(feed) == set(staying)
    assert {e.id for e in team.alice.search("harbour", EVERY)} == set(staying)
    assert team.count(removed_entries) == 4
    with team.store.engine.connect() as conn:
        tombs = set(conn.execute(select(removed_entries.c.key)).scalars())
        counters = conn.execute(select(entities.c.mention_count, entities.c.entry_count)).one()
    assert tombs == {f"https://deep.example/{n}" for n in range(5, 9)}
    assert tuple(counters) == (4, 2)
    check_consistent(team.store)  # the totals counted before the cleanup are counted again


def test_a_removed_entry_does_not_come_back_with_the_next_fetch(
    store_url: str, server: RoutesServer
) -> None:
    items = "".join(
        f"<item><guid>https://loop.example/{n}</guid><title>Loop {n}</title>"
        f"<link>https://loop.example/{n}</link><description>Story {n}</description>"
        f"<pubDate>Mon, 0{n + 1} Jun 2026 10:00:00 GMT</pubDate></item>"
        for n in range(4)
    )
    body = f"<rss version='2.0'><channel><title>Loop</title>{items}</channel></rss>"
    url = server.route("/feed.xml", Answer(body.encode()))
    settings = load_settings(env={}, database_url=store_url, allow_private_networks=True)
    desk = Desk(settings).for_name()
    try:
        feed = asyncio.run(desk.subscribe(url))
        asyncio.run(desk.refresh_async(fulltext=False))
        assert len(desk.entries(EVERY)) == 4
        desk.store.retention.set_feed(feed.id, {"keep_last": 1})
        assert desk.cleanup().removed == 3
        asyncio.run(desk.refresh_async(fulltext=False))  # the same four items, no cache hints
        (left,) = desk.entries(EVERY)
        assert left.title == "Loop 3"
        # a new item comes in as always
        fresh = "<item><guid>new</guid><title>New</title></item></channel>"
        edited = body.replace("Loop 3", "Loop 3b").replace("</channel>", fresh)
        server.route("/feed.xml", Answer(edited.encode()))
        asyncio.run(desk.refresh_async(fulltext=False))
        assert {e.title for e in desk.entries(EVERY)} == {"Loop 3b", "New"}
        check_consistent(desk.store)
    finally:
        desk.close()


def test_only_an_admin_cleans_up(team: Team, store_url: str) -> None:
    settings = load_settings(env={}, database_url=store_url)
    desk = Desk(settings, team.store)
    bob = team.store.users.person("bob")
    with pytest.raises(NewsdeskError, match="only an admin"):
        desk.as_person(bob).cleanup()
    assert desk.for_name("alice").cleanup(dry_run=True).removed == 0
    with pytest.raises(RetentionError):
        desk.cleanup(keep_days=0)


def _big_desk(url: str, entries_: int) -> SqlStore:
    store = open_store(url)
    feed = store.add_feed("https://big.example/feed")
    words = " ".join(f"word{k}" for k in range(2000))
    batch = [make_entry("big", n, words=words) for n in range(entries_)]
    store.as_system().save_refresh(
        feed.id, FeedState(last_fetched=OLD, last_status=200), batch, OLD
    )
    store.retention.set_default({"keep_days": 1})
    return store


def _size(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def test_sqlite_gives_space_back(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    store = _big_desk(f"sqlite:///{path}", 300)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 2  # incremental
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").all()
        before = _size(path)
        report = store.retention.apply(now=NOW)
        assert report.removed == 300 and report.space is not None
        assert report.space.mode == "incremental"
        assert _size(path) < before / 3, (before, _size(path))
    finally:
        store.close()


def test_an_older_sqlite_file_is_vacuumed_after_a_big_removal(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as raw:  # a table first: the file cannot vacuum incrementally
        raw.execute("CREATE TABLE made_by_an_older_version (x)")
    store = _big_desk(f"sqlite:///{path}", 200)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 0
        before = _size(path)
        report = store.retention.apply(now=NOW)
        assert report.space is not None and report.space.mode == "vacuum"
        assert _size(path) < before / 3
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 2  # from now on
        check_consistent(store)
    finally:
        store.close()


def test_the_daemon_applies_retention_every_interval(sqlite_url: str) -> None:
    from newsdesk.workers.cleanup import CleanupTimer
    from newsdesk.workers.daemon import scheduler_loop

    settings = load_settings(
        env={},
        database_url=sqlite_url,
        retention_interval=3600,
        scheduler_tick=0.05,
        stories=False,
        entities=False,
        timelines=False,
        alerts=False,
    )
    desk = Desk(settings)
    try:
        store = desk.store
        feed = store.add_feed("https://daemon.example/feed")
        store.update_feed(feed.id, paused=True)  # nothing to fetch: only retention runs
        seen = datetime.now(UTC) - timedelta(days=40)

        def fill(ns: range) -> None:
            batch = [make_entry("daemon", n) for n in ns]
            state = FeedState(last_fetched=seen, last_status=200)
            store.as_system().save_refresh(feed.id, state, batch, seen)

        fill(range(0, 3))
        store.retention.set_default({"keep_days": 30})
        clock = [0.0]
        timer = CleanupTimer(desk, settings, clock=lambda: clock[0])
        first = asyncio.run(timer.run_if_due())
        assert first is not None and first.removed == 3
        fill(range(3, 5))
        assert asyncio.run(timer.run_if_due()) is None  # not due yet
        clock[0] = 3600
        second = asyncio.run(timer.run_if_due())
        assert second is not None and second.removed == 2
        off = CleanupTimer(desk, settings.replace(retention_interval=0))
        assert asyncio.run(off.run_if_due()) is None

        # the scheduler loop of `newsdesk run` / `serve` runs it at start
        fill(range(5, 9))

        async def run_loop() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(scheduler_loop(desk, settings, stop))
            for _ in range(200):
                if not desk.store.list_entries(EVERY):
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await asyncio.wait_for(task, 60)

        asyncio.run(run_loop())
        assert store.list_entries(EVERY) == []
    finally:
        desk.close()


def test_distributed_mode_applies_retention_from_the_beat(sqlite_url: str) -> None:
    from newsdesk.workers import tasks
    from newsdesk.workers.app import CLEANUP, create_celery

    settings = load_settings(env={}, database_url=sqlite_url, retention_interval=600)
    schedule = create_celery(settings).conf.beat_schedule
    assert schedule["apply-retention"]["task"] == CLEANUP
    assert schedule["apply-retention"]["schedule"] == 600
    off = create_celery(settings.replace(retention_interval=0)).conf.beat_schedule
    assert "apply-retention" not in off
    store = open_store(sqlite_url)
    try:
        feed = store.add_feed("https://beat.example/feed")
        seen = datetime.now(UTC) - timedelta(days=10)
        batch = [make_entry("beat", n) for n in range(3)]
        state = FeedState(last_fetched=seen, last_status=200)
        store.as_system().save_refresh(feed.id, state, batch, seen)
        store.retention.set_default({"keep_days": 5})
        assert tasks.cleanup(store, settings).removed == 3
    finally:
        store.close()

"""Issue 15, "a refresh fetches each URL once whatever the number of followers": 50 people follow
overlapping sets of feeds on a loopback server; a refresh of everyone's feeds asks for each URL
exactly once, stores each feed's entries once, and each person sees the entries of the feeds
they follow (and only those)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from newsdesk.desk import Desk
from newsdesk.settings import Settings
from newsdesk.store import open_store
from newsdesk.store.protocols.refresh import EntryQuery
from routes_server import Answer, RoutesServer, rss

PEOPLE = 50
FEEDS = 40
FOLLOWS = 12  # each person follows 12 of the 40 feeds: about 15 followers a feed
ITEMS = 3
PASSWORD = "a long enough pass phrase 15"


def _followed(person: int) -> list[int]:
    """Overlapping windows over the feeds, plus feed 0, which everyone follows."""
    return sorted({0, *((person * 7 + k) % FEEDS for k in range(FOLLOWS - 1))})


@pytest.fixture
def desk(settings: Settings) -> Iterator[Desk]:
    desk = Desk(settings, open_store(settings.resolved_database_url))
    yield desk
    desk.close()


def _team(desk: Desk, server: RoutesServer) -> tuple[dict[int, str], dict[str, list[int]]]:
    """The feeds (index → URL) on the server and who follows which (name → indexes)."""
    urls = {
        i: server.route(f"/feed/{i}.rss", Answer(rss(f"Feed {i}", ITEMS, prefix=f"f{i}")))
        for i in range(FEEDS)
    }
    follows: dict[str, list[int]] = {}
    for person in range(PEOPLE):
        name = f"person{person:02d}"
        user = desk.store.users.add_user(name, PASSWORD)
        mine = desk.store.as_person(user.id)
        mine.add_feeds([(urls[i], None, f"Topic {i % 4}") for i in _followed(person)])
        follows[name] = _followed(person)
    return urls, follows


def _requests(server: RoutesServer) -> Counter[str]:
    return Counter(path for path, _headers in server.hits)


@pytest.mark.slow  # 50 people, 40 feeds: in CI's slow suites
async def test_a_refresh_fetches_each_url_once_however_many_follow_it(
    desk: Desk, server: RoutesServer
) -> None:
    urls, follows = _team(desk, server)
    followers = Counter(i for chosen in follows.values() for i in chosen)
    assert followers[0] == PEOPLE and len(followers) == FEEDS  # every feed, shared widely
    assert len(desk.store.as_system().list_feeds()) == FEEDS  # one feed row per URL

    await desk.refresh_async()  # everyone's feeds (the CLI's `refresh` without --user)

    assert _requests(server) == Counter({f"/feed/{i}.rss": 1 for i in range(FEEDS)})
    system = desk.store.as_system()
    assert system.count_entries(EntryQuery()) == FEEDS * ITEMS  # one set of entries
    for name, chosen in follows.items():
        person = desk.store.as_person(desk.store.users.person(name).id)
        seen = person.list_entries(EntryQuery(limit=1000))
        assert {e.feed_id for e in seen} == {
            f.id for f in system.list_feeds() if int(f.url.rsplit("/", 1)[1][:-4]) in chosen
        }
        assert len(seen) == len(chosen) * ITEMS
    assert set(urls) == set(range(FEEDS))


async def test_a_persons_refresh_fetches_their_feeds_once_each(
    desk: Desk, server: RoutesServer
) -> None:
    _urls, follows = _team(desk, server)
    name = "person05"

    await desk.for_name(name).refresh_async()

    assert _requests(server) == Counter({f"/feed/{i}.rss": 1 for i in follows[name]})


@pytest.mark.slow  # 50 people, 40 feeds: in CI's slow suites
async def test_every_person_refreshing_in_turn_adds_no_entries_twice(
    desk: Desk, server: RoutesServer
) -> None:
    _urls, follows = _team(desk, server)
    for name in follows:
        await desk.for_name(name).refresh_async()
    # Each person's refresh asked for their feeds once; a feed followed by 15 people was asked
    # for 15 times in all (15 refreshes), and its entries were stored once.
    followers = Counter(i for chosen in follows.values() for i in chosen)
    assert _requests(server) == Counter({f"/feed/{i}.rss": n for i, n in followers.items()})
    assert desk.store.as_system().count_entries(EntryQuery()) == FEEDS * ITEMS

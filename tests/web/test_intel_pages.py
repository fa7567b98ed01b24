"""The intelligence pages on a real SQLite file filled from the sample sources: one card per
story in the river (and no per-card queries), story and entity pages with their SVG charts,
timelines and their downloads, the entity search filter and feeds, watchlists, the entry
page's story/entities/events, and pages that stay useful when the tables are empty or entities
are off."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import httpx
import pytest
from sqlalchemy import delete, event, insert, select, update
from starlette.applications import Starlette

from newsdesk.demo import SEED_FEEDS, SOCIAL_FEEDS
from newsdesk.demo.server import SampleServer
from newsdesk.desk import Desk
from newsdesk.model import FoundEntity, StoredEntry
from newsdesk.settings import Settings, load_settings
from newsdesk.store import EntryQuery
from newsdesk.store.engine import write_transaction
from newsdesk.store.entities import replace_mentions
from newsdesk.store.events import replace_events
from newsdesk.store.schema import (
    alerts,
    entities,
    entity_mentions,
    entries,
    event_entities,
    events,
    stories,
    users,
)
from newsdesk.timeline import Event
from newsdesk.web import pages
from newsdesk.web.app import create_app
from newsdesk.web.guard import SESSION_COOKIE
from newsdesk.web.intel import svg
from newsdesk.web.pages import feed_key

from .session import Browser, csrf_of

SVG = "{http://www.w3.org/2000/svg}"


def _ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'id="entry-(\d+)"', html)]


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


@dataclass
class Intel:
    """What ``_seed`` wrote: a story of two articles and two posts from other feeds, a story
    of one, entities and dated events."""

    story: int
    single: int
    lead: StoredEntry
    other: StoredEntry
    posts: list[StoredEntry]
    loner: StoredEntry
    people: dict[str, int]


def _seed(desk: Desk) -> Intel:
    every = desk.entries(EntryQuery(limit=500))
    articles = [e for e in every if e.kind == "article" and e.title]
    lead, other = articles[0], articles[1]
    first = next(e for e in every if e.kind == "post")
    posts = [first, next(e for e in every if e.kind == "post" and e.feed_id != first.feed_id)]
    loner = next(e for e in every if e.id not in {lead.id, other.id, *(p.id for p in posts)})
    members = [lead, other, *posts]
    now = datetime.now(UTC)
    with desk.store.engine.begin() as conn:
        # Start from nothing clustered, whatever the refresh's own stage found.
        conn.execute(update(entries).values(story_id=None))
        for table in (event_entities, events, entity_mentions, entities, stories):
            conn.execute(delete(table))

        def story(title: str | None, lead_id: int, group: list[StoredEntry]) -> int:
            key = conn.execute(
                insert(stories).values(
                    title=title,
                    lead_entry_id=lead_id,
                    size=len(group),
                    sources=len({e.feed_id for e in group}),
                    first_published=min(e.published for e in group),
                    last_published=max(e.published for e in group),
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key
            assert key is not None
            ids = [e.id for e in group]
            conn.execute(update(entries).where(entries.c.id.in_(ids)).values(story_id=key[0]))
            return int(key[0])

        story_id = story(lead.title, lead.id, members)
        single = story(loner.title, loner.id, [loner])
    # Entities and events through the store's own writers, as the intelligence stage does.
    smirnov = FoundEntity("person", "alexander smirnov", "Alexander Smirnov",
                          ("Alexander Smirnov", "Smirnov"), 2, 0)  # fmt: skip
    fbi = FoundEntity("org", "fbi", "FBI", ("FBI",), 2, 10)
    russia = FoundEntity("place", "russia", "Russia", ("Russia",), 1, 20)
    weiss = FoundEntity("person", "david <weiss>", "David <Weiss>", ("David <Weiss>",), 1, 30)
    found = {
        lead.id: [smirnov, fbi, russia],
        other.id: [smirnov, fbi, weiss],
        posts[0].id: [smirnov],
    }
    told = {
        lead.id: [
            Event("2023-08-01", "month", "August 2023: Smirnov meets his handler.", 0),
            Event("2023-09-27", "day", "September 27, 2023: the FBI interviews him.", 1),
        ],
        other.id: [Event("2019-01-01", "year", "In 2019, RO 5 is said to have paid a bribe.", 0)],
    }
    people: dict[str, int] = {}
    with write_transaction(desk.store.engine) as conn:
        for entry in (lead, other, posts[0]):
            surfaces = replace_mentions(conn, entry.id, entry.published, found[entry.id])
            people.update({f.name: surfaces[f.name] for f in found[entry.id]})
            replace_events(conn, entry.id, told.get(entry.id, []), surfaces)
    return Intel(story_id, single, lead, other, posts, loner, people)


@asynccontextmanager
async def _browser(desk: Desk, settings: Settings) -> AsyncIterator[Browser]:
    """A logged-in client of an app made with other settings (the `user` fixture made the
    account)."""
    app = create_app(settings, desk=desk)
    account = desk.store.users.get_user()
    assert account is not None
    token = desk.store.users.create_session(account.id, timedelta(days=1))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        client.cookies.set(SESSION_COOKIE, token)
        page = await client.get("/stories")
        assert page.status_code == 200
        yield Browser(client, csrf_of(page.text))


@contextmanager
def _count_queries(desk: Desk) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = desk.store.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


# -- the river ----------------------------------------------------------------------------------


def _grouping(desk: Desk, settings: Settings) -> Any:
    """A client of an app that groups the river by story, whatever the suite's default."""
    return _browser(desk, replace(settings, story_river=True))


async def test_river_shows_one_card_per_story(
    user: Browser, desk: Desk, web_settings: Settings
) -> None:
    intel = _seed(desk)
    async with _grouping(desk, web_settings) as grouped:
        page = await grouped.get("/?show=all")
    assert page.status_code == 200
    shown = _ids(page.text)
    # The lead article stands for its story; the other members are folded into its card.
    assert shown.count(intel.lead.id) == 1
    for member in (intel.other, *intel.posts):
        assert member.id not in shown
    card = page.text.split(f'id="entry-{intel.lead.id}"')[1].split("</article>")[0]
    assert "story-card" in page.text.split(f'id="entry-{intel.lead.id}"')[0][-200:]
    more = len({intel.lead.feed_id, intel.other.feed_id, *(p.feed_id for p in intel.posts)}) - 1
    assert f"{more} more source" in card and f'href="/story/{intel.story}"' in card
    for post in intel.posts:
        assert _esc(post.feed_title or "") in card  # the other sources are named
    for post in intel.posts:
        assert f'href="/entry/{post.id}"' in card  # the posts that shared it
    # A story of one and entries nothing clustered render as they did.
    assert intel.loner.id in shown
    # The story's card sits where its newest member was; everything else keeps its order.
    every = [e.id for e in desk.entries(EntryQuery(limit=500))][: pages.PAGE_SIZE]
    members = {intel.lead.id, intel.other.id, *(p.id for p in intel.posts)}
    newest = next(i for i in every if i in members)
    expected = [
        intel.lead.id if i == newest else i for i in every if i not in members or i == newest
    ]
    assert shown == expected


async def test_river_groups_what_the_refresh_clustered(
    user: Browser, desk: Desk, web_settings: Settings
) -> None:
    found = [s for s in desk.store.stories.list_stories(min_size=2) if s.lead_entry_id is not None]
    assert found, "the sample sources make stories (the two tweets sharing an article)"
    async with _grouping(desk, web_settings) as grouped:
        page = await grouped.get("/?show=all")
    shown = _ids(page.text)
    every = {e.id: e for e in desk.entries(EntryQuery(limit=500))}
    for story in found:
        members = desk.store.stories.story_member_ids(story.id)
        assert len([m for m in members if m in shown]) == 1  # one card per story
        lead = every[story.lead_entry_id]  # type: ignore[index]
        if lead.kind != "article":
            continue
        card = page.text.split(f'id="entry-{lead.id}"')[1].split("</article>")[0]
        posts = [m for m in members if every[m].kind == "post"]
        assert posts and all(f'href="/entry/{p}"' in card for p in posts[:3])


async def test_story_cards_appear_once_while_scrolling(
    user: Browser, desk: Desk, web_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    intel = _seed(desk)
    monkeypatch.setattr(pages, "PAGE_SIZE", 3)
    seen: list[int] = []
    page, url = 1, "/?show=all"
    async with _grouping(desk, web_settings) as grouped:
        while url:
            headers = {"HX-Request": "true"} if page > 1 else {}
            response = await grouped.get(url, headers=headers)
            seen.extend(_ids(response.text))
            found = re.search(r'hx-get="([^"]+)"', response.text)
            url = found.group(1).replace("&amp;", "&") if found else ""
            page += 1
    assert seen.count(intel.lead.id) == 1
    assert len(seen) == len(set(seen))
    members = {intel.lead.id, intel.other.id, *(p.id for p in intel.posts)}
    every = {e.id for e in desk.entries(EntryQuery(limit=500))}
    assert set(seen) == (every - members) | {intel.lead.id}


async def test_grouping_costs_a_few_queries_not_one_per_card(
    user: Browser, desk: Desk, web_settings: Settings
) -> None:
    with desk.store.engine.begin() as conn:
        conn.execute(update(entries).values(story_id=None))
    async with _grouping(desk, web_settings) as client:
        with _count_queries(desk) as plain:
            await client.get("/?show=all")
        _seed(desk)
        with _count_queries(desk) as grouped:
            await client.get("/?show=all")
    # One query for the stories on the page, one for their members, one read of the lead and
    # posts not on the page (the store's entry read is four statements); a folded post no
    # longer looks up its shared articles, so the total can even drop.
    assert sum("FROM stories" in q for q in grouped) == 1
    assert sum("entries.story_id IN" in q for q in grouped) == 1
    assert len(grouped) <= len(plain) + 2 + 4
    assert not any("FROM stories" in q or "story_id IN" in q for q in plain)


async def test_a_feeds_river_keeps_its_own_entry_at_the_head(
    user: Browser, desk: Desk, web_settings: Settings
) -> None:
    intel = _seed(desk)
    post = intel.posts[1]
    async with _grouping(desk, web_settings) as grouped:
        page = await grouped.get(f"/feed/{post.feed_id}?show=all")
    shown = _ids(page.text)
    assert post.id in shown and intel.lead.id not in shown
    card = page.text.split(f'id="entry-{post.id}"')[1].split("</article>")[0]
    assert f'href="/story/{intel.story}"' in card


async def test_marking_a_story_card_marks_every_member(
    user: Browser, desk: Desk, web_settings: Settings
) -> None:
    intel = _seed(desk)
    members = {intel.lead.id, intel.other.id, *(p.id for p in intel.posts)}

    def unread() -> set[int]:
        return {e.id for e in desk.entries(EntryQuery(read=False, limit=500))}

    async with _grouping(desk, web_settings) as grouped:
        page = await grouped.get("/")
        card = page.text.split(f'id="entry-{intel.lead.id}"')[1].split("</article>")[0]
        assert f'name="story" value="{intel.story}"' in card
        before = unread()
        marked = await grouped.post(
            f"/entry/{intel.lead.id}/read",
            {"value": "1", "story": str(intel.story)},
            headers={"HX-Request": "true"},
        )
        assert marked.status_code == 200 and f'value="{intel.story}"' in marked.text
        assert unread() == before - members
        # The card does not come back in Unread through another member.
        assert not members & set(_ids((await grouped.get("/")).text))
        await grouped.post(
            f"/entry/{intel.lead.id}/read", {"value": "0", "story": str(intel.story)}
        )
        assert unread() == before
        wrong = await grouped.post(
            f"/entry/{intel.loner.id}/read", {"value": "1", "story": str(intel.story)}
        )
        assert wrong.status_code == 400 and unread() == before
    # An entry page's own toggle still marks that entry alone.
    await user.post(f"/entry/{intel.other.id}/read", {"value": "1"})
    assert unread() == before - {intel.other.id}


async def test_a_story_card_is_unread_while_any_member_is(
    user: Browser, desk: Desk, web_settings: Settings
) -> None:
    intel = _seed(desk)
    desk.store.set_flags([intel.lead.id], read=True)  # read on its own page, say

    def card_button(text: str) -> str:
        card = text.split(f'id="entry-{intel.lead.id}"')[1].split("</article>")[0]
        return card.split('class="act read-button"')[1].split("</button>")[0]

    async with _grouping(desk, web_settings) as grouped:
        page = await grouped.get("/?show=all")
        assert "Mark read" in card_button(page.text)  # the other members are still unread
        await grouped.post(
            f"/entry/{intel.lead.id}/read", {"value": "1", "story": str(intel.story)}
        )
        page = await grouped.get("/?show=all")
        assert "Mark unread" in card_button(page.text)


async def test_search_shows_a_story_once(user: Browser, desk: Desk) -> None:
    intel = _seed(desk)
    members = [intel.lead, intel.other, *intel.posts]
    word = "the"  # in nearly every entry: the story's members among them
    flat = await user.get(f"/search?q={word}&group=none")
    grouped = await user.get(f"/search?q={word}")
    listed = _ids(flat.text)
    matched = [m.id for m in members if m.id in listed]
    assert len(matched) >= 2, "the seeded story's members match the word"
    shown = _ids(grouped.text)
    assert len([m for m in matched if m in shown]) == 1
    head = next(m for m in matched if m in shown)
    assert head == min(matched, key=listed.index)  # the best match heads the card
    card = grouped.text.split(f'id="entry-{head}"')[1].split("</article>")[0]
    for other in matched:
        if other != head:
            assert f'href="/entry/{other}"' in card  # listed under the best match
    assert "&amp;group=none" in flat.text or 'value="none" selected' in flat.text


async def test_river_without_grouping(user: Browser, desk: Desk, web_settings: Settings) -> None:
    intel = _seed(desk)
    async with _browser(desk, replace(web_settings, story_river=False)) as flat:
        page = await flat.get("/?show=all")
    every = [e.id for e in desk.entries(EntryQuery(limit=500))]
    assert _ids(page.text) == every[: pages.PAGE_SIZE]
    assert "story-card" not in page.text and f'href="/story/{intel.story}"' not in page.text


# -- stories ----------------------------------------------------------------------------------


async def test_story_page_lists_members_timeline_and_entities(user: Browser, desk: Desk) -> None:
    intel = _seed(desk)
    page = await user.get(f"/story/{intel.story}")
    assert page.status_code == 200
    members = sorted((intel.lead, intel.other, *intel.posts), key=lambda e: (e.published, e.id))
    assert _ids(page.text) == [e.id for e in members]  # every member, oldest first
    assert "September 27, 2023: the FBI interviews him." in page.text
    assert "27 September 2023" in page.text and "August 2023" in page.text
    assert f'href="/entity/{intel.people["Alexander Smirnov"]}"' in page.text
    assert "David &lt;Weiss&gt;" in page.text and "David <Weiss>" not in page.text
    # Timeline events in date order: year 2019, then August, then September 2023.
    order = [page.text.index(s) for s in ("In 2019, RO 5", "August 2023: Smirnov", "September 27")]
    assert order == sorted(order)
    listing = await user.get("/stories")
    assert f'href="/story/{intel.story}"' in listing.text
    assert f'href="/story/{intel.single}"' not in listing.text  # stories of one are left out
    assert f'href="/story/{intel.single}"' in (await user.get("/stories?min_size=1")).text


async def test_story_timeline_downloads(user: Browser, desk: Desk) -> None:
    intel = _seed(desk)
    page = await user.get(f"/story/{intel.story}/timeline")
    assert page.status_code == 200 and "In 2019, RO 5" in page.text
    as_json = await user.get(f"/story/{intel.story}/timeline.json")
    assert as_json.status_code == 200
    assert as_json.headers["content-type"].startswith("application/json")
    assert "attachment" in as_json.headers["content-disposition"]
    items = json.loads(as_json.text)
    assert [i["date"] for i in items] == ["2019-01-01", "2023-08-01", "2023-09-27"]
    assert {i["entry_id"] for i in items} == {intel.lead.id, intel.other.id}
    as_csv = await user.get(f"/story/{intel.story}/timeline.csv")
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert rows[0] == [
        "date",
        "precision",
        "sentence",
        "entry_id",
        "entry_title",
        "entry_url",
        "feed_title",
        "published",
    ]
    assert [r[1] for r in rows[1:]] == ["year", "month", "day"]
    assert (await user.get(f"/story/{intel.story}/timeline.xml")).status_code == 404
    assert (await user.get("/story/999999")).status_code == 404
    assert (await user.get("/story/999999/timeline.json")).status_code == 404


# -- entities ---------------------------------------------------------------------------------


async def test_entity_page_chart_graph_stories_timeline(user: Browser, desk: Desk) -> None:
    intel = _seed(desk)
    smirnov = intel.people["Alexander Smirnov"]
    page = await user.get(f"/entity/{smirnov}")
    assert page.status_code == 200
    charts = re.findall(r"<svg class=\"chart [^\"]+\".*?</svg>", page.text, re.S)
    assert len(charts) == 2
    bars, graph = (ElementTree.fromstring(c) for c in charts)
    assert "Entries mentioning Alexander Smirnov" in (bars.findtext(f"{SVG}title") or "")
    assert "3 entries" in (bars.findtext(f"{SVG}desc") or "")
    heights = [float(r.get("height", 0)) for r in bars.iter(f"{SVG}rect")]
    assert heights and all(h > 0 for h in heights)
    labels = {t.text for t in bars.iter(f"{SVG}text")}
    assert "Entries" in labels  # the y axis is named
    # The graph: the entity and each co-mentioned entity a node linking to its page.
    links = {a.get("href") for a in graph.iter(f"{SVG}a")}
    assert links == {
        f"/entity/{intel.people[n]}"
        for n in ("Alexander Smirnov", "FBI", "Russia", "David <Weiss>")
    }
    widths = [float(e.get("stroke-width", 0)) for e in graph.iter(f"{SVG}line")]
    assert max(widths) > min(widths)  # FBI shares two entries with him, the others one
    # Its story, its timeline (only the event that names him), its latest entries.
    assert f'href="/story/{intel.story}"' in page.text
    assert "August 2023: Smirnov meets his handler." in page.text
    assert "the FBI interviews him" not in page.text
    assert set(_ids(page.text)) == {intel.lead.id, intel.other.id, intel.posts[0].id}
    # Any bucket may be asked for; a wrong one falls back to the default.
    for bucket in ("week", "month", "nonsense"):
        assert (await user.get(f"/entity/{smirnov}?bucket={bucket}")).status_code == 200
    timeline = await user.get(f"/entity/{smirnov}/timeline.json")
    assert [i["sentence"] for i in json.loads(timeline.text)] == [
        "August 2023: Smirnov meets his handler."
    ]
    assert (await user.get("/entity/999999")).status_code == 404


async def test_entities_index_kinds_and_find(user: Browser, desk: Desk) -> None:
    intel = _seed(desk)
    page = await user.get("/entities")
    assert page.status_code == 200
    for entity_id in intel.people.values():
        assert f'href="/entity/{entity_id}"' in page.text
    people = await user.get("/entities?kind=person")
    assert f'href="/entity/{intel.people["FBI"]}"' not in people.text
    assert f'href="/entity/{intel.people["Alexander Smirnov"]}"' in people.text
    found = await user.get("/entities?q=smirnov")
    assert f'href="/entity/{intel.people["Alexander Smirnov"]}"' in found.text
    assert f'href="/entity/{intel.people["Russia"]}"' not in found.text
    nothing = await user.get("/entities?q=nobody-at-all")
    assert "No entity matches" in nothing.text


async def test_search_by_entity_and_its_feeds(
    user: Browser, desk: Desk, anon: httpx.AsyncClient, app: Starlette
) -> None:
    intel = _seed(desk)
    fbi = intel.people["FBI"]
    alone = await user.get("/search?entity=FBI&group=none")
    assert alone.status_code == 200
    assert set(_ids(alone.text)) == {intel.lead.id, intel.other.id}
    # By default one story, one card: its other member listed in it.
    one = await user.get("/search?entity=FBI")
    assert len(_ids(one.text)) == 1 and f'href="/entry/{intel.other.id}"' in one.text
    by_id = await user.get(f"/search?entity={fbi}&group=none")
    assert set(_ids(by_id.text)) == {intel.lead.id, intel.other.id}
    both = await user.get(f"/search?q={quote(intel.other.title or '')}&entity=FBI")
    assert _ids(both.text) == [intel.other.id]  # words and the entity, both must hold
    unknown = await user.get("/search?q=Russia&entity=Nobody+Known")
    assert unknown.status_code == 400 and "no entity named" in unknown.text
    # Republished: Atom, RSS and JSON Feed, with the reader key for a feed reader.
    key = feed_key(app.state.ctx)
    feed = await anon.get(f"/syndicate/entity/{fbi}.json?key={key}")
    assert feed.status_code == 200
    titles = {i.get("title") for i in feed.json()["items"]}
    assert titles == {intel.lead.title, intel.other.title}
    assert (await anon.get(f"/syndicate/entity/{fbi}.atom?key={key}")).status_code == 200
    assert (await anon.get(f"/syndicate/entity/{fbi}.atom")).status_code == 401
    assert (await anon.get(f"/syndicate/entity/999999.rss?key={key}")).status_code == 404
    story_feed = await anon.get(f"/syndicate/story/{intel.story}.json?key={key}")
    assert len(story_feed.json()["items"]) == 4
    entity_page = await user.get(f"/entity/{fbi}")
    assert f"/syndicate/entity/{fbi}.atom?key=" in entity_page.text


# -- entry page, empty tables, entities off ---------------------------------------------------


async def test_entry_page_shows_story_entities_and_events(user: Browser, desk: Desk) -> None:
    intel = _seed(desk)
    page = await user.get(f"/entry/{intel.lead.id}")
    assert f'href="/story/{intel.story}"' in page.text
    for name in ("Alexander Smirnov", "FBI", "Russia"):
        assert f'href="/entity/{intel.people[name]}"' in page.text
    assert "27 September 2023" in page.text
    lonely = await user.get(f"/entry/{intel.loner.id}")
    assert f'href="/story/{intel.single}"' not in lonely.text  # a story of one is no story


async def test_pages_with_empty_tables(user: Browser, desk: Desk) -> None:
    with desk.store.engine.begin() as conn:
        conn.execute(update(entries).values(story_id=None))
        for table in (event_entities, events, entity_mentions, entities, stories):
            conn.execute(delete(table))
    assert (await user.get("/?show=all")).status_code == 200
    for url in ("/stories", "/entities", "/watchlists", "/search?entity=x"):
        response = await user.get(url)
        assert response.status_code in (200, 400), url
    assert "No stories yet" in (await user.get("/stories")).text
    assert "No entities yet" in (await user.get("/entities")).text
    assert "Nothing watched yet" in (await user.get("/watchlists")).text


@pytest.mark.parametrize(
    ("change", "words"),
    [({"entities": False}, "turned off"), ({"entity_model": "no_such_model"}, "not installed")],
)
async def test_entities_off_or_model_missing_explained(
    user: Browser, desk: Desk, web_settings: Settings, change: dict[str, Any], words: str
) -> None:
    intel = _seed(desk)
    async with _browser(desk, replace(web_settings, **change)) as other:
        index = await other.get("/entities")
        assert index.status_code == 200 and words in index.text
        # The pages still work on what is stored.
        assert (await other.get(f"/story/{intel.story}")).status_code == 200
        single = await other.get(f"/story/{intel.single}")
        assert words in single.text  # no entities there: the note says why


# -- watchlists -------------------------------------------------------------------------------


async def test_watchlists_create_list_alerts_delete(user: Browser, desk: Desk) -> None:
    intel = _seed(desk)
    category = desk.store.categories()[0][1]
    made = await user.post(
        "/watchlists",
        {
            "name": "Smirnov case",
            "query": "informant",
            "entities": "alexander smirnov, FBI",
            "category": category,
            "webhook": "https://hooks.example.org/in",
            "ntfy": "https://ntfy.example.org/desk",
            "mode": "hourly",
        },
    )
    assert made.status_code == 303, made.text
    [watch] = desk.store.watchlists.list_watchlists()
    assert watch.entity_ids == (intel.people["Alexander Smirnov"], intel.people["FBI"])
    assert watch.categories == (category,) and watch.mode == "hourly"
    assert set(watch.channels) == {"webhook", "ntfy"}
    with desk.store.engine.begin() as conn:
        conn.execute(
            insert(alerts).values(
                watchlist_id=watch.id,
                entry_id=intel.lead.id,
                channel="webhook",
                status="failed",
                attempts=5,
                error="HTTP 500 from the hook",
                created_at=datetime.now(UTC),
            )
        )
    page = await user.get("/watchlists")
    assert "Smirnov case" in page.text and "alexander smirnov" not in page.text
    assert f'href="/entity/{intel.people["FBI"]}"' in page.text
    assert "HTTP 500 from the hook" in page.text and f'href="/entry/{intel.lead.id}"' in page.text
    assert watch.channels["webhook"]["secret"] not in page.text  # secrets stay hidden
    # Bad input: a clear message, the form kept, nothing stored.
    for form, message in (
        ({"name": "No channel", "query": "x"}, "at least one channel"),
        ({"name": "Smirnov case", "query": "x", "email": "me@example.org"}, "already"),
        ({"name": "Who", "entities": "Nobody Known", "email": "me@example.org"}, "No entity"),
        ({"name": "Bad hook", "query": "x", "webhook": "ftp://x"}, "http"),
    ):
        response = await user.post("/watchlists", form)
        assert response.status_code == 400 and message in response.text, form
        assert f'value="{form["name"]}"' in response.text
    assert len(desk.store.watchlists.list_watchlists()) == 1
    # CSRF: a form without the token is refused.
    refused = await user.client.post("/watchlists", data={"name": "x", "query": "y"})
    assert refused.status_code == 403
    gone = await user.post(f"/watchlists/{watch.id}/delete")
    assert gone.status_code == 303 and not desk.store.watchlists.list_watchlists()
    assert (await user.post(f"/watchlists/{watch.id}/delete")).status_code == 404
    with desk.store.engine.connect() as conn:
        assert not conn.execute(select(alerts)).first()


async def test_watchlist_made_elsewhere_is_listed(user: Browser, desk: Desk) -> None:
    desk.store.watchlists.create_watchlist(
        name="Mail me", query="ukraine", channels={"email": {"to": ["a@b.org"]}}
    )
    page = await user.get("/watchlists")
    assert "Mail me" in page.text and "ukraine" in page.text


async def test_a_test_alert_is_sent_from_the_page(user: Browser, desk: Desk) -> None:
    from alerts.conftest import Receiver

    receiver = Receiver()
    try:
        hook = receiver.url("/hook")
        made = desk.store.watchlists.create_watchlist(
            name="Hooked",
            query="smirnov",
            channels={"webhook": {"url": hook}, "ntfy": {"url": receiver.url("/down", 500)}},
        )
        answer = await user.post(f"/watchlists/{made.id}/test")
        assert answer.status_code == 303
        page = await user.get(answer.headers["location"])
        # The webhook got a signed test; the broken ntfy topic is named with its error.
        [hit] = receiver.on("/hook")
        assert hit.headers["X-Newsdesk-Event"] == "test"
        assert hit.headers["X-Newsdesk-Signature"].startswith("sha256=")
        assert "Test for “Hooked” failed" in page.text and "ntfy" in page.text
        assert "500" in page.text
        assert (await user.post("/watchlists/999/test")).status_code == 404
    finally:
        receiver.stop()


# -- the SVG drawings on their own ------------------------------------------------------------


def test_bar_chart_fills_gaps_and_escapes() -> None:
    points = [("2024-03-01", 2), ("2024-03-04", 5)]
    series = svg.fill_buckets(points, "day")
    assert [c for _d, c in series] == [2, 0, 0, 5]
    drawn = ElementTree.fromstring(str(svg.bar_chart(points, bucket="day", subject="<b>&")))
    assert drawn.findtext(f"{SVG}title") == "Entries mentioning <b>&, by day"
    assert len(list(drawn.iter(f"{SVG}rect"))) == 2  # empty days have no bar
    weeks = svg.fill_buckets([("2024-03-06", 1), ("2024-03-20", 1)], "week")
    assert [d.isoformat() for d, _c in weeks] == ["2024-03-04", "2024-03-11", "2024-03-18"]
    months = svg.fill_buckets([("2023-11-15", 1), ("2024-01-02", 3)], "month")
    assert [(d.isoformat(), c) for d, c in months] == [
        ("2023-11-01", 1),
        ("2023-12-01", 0),
        ("2024-01-01", 3),
    ]
    assert "No entries mention" in str(svg.bar_chart([], bucket="day", subject="x"))


def test_graph_is_deterministic_and_linked() -> None:
    centre = svg.Node(1, "Alexander Smirnov", "person", "/entity/1")
    others = [svg.Node(i, f"E{i} <x>", "org", f"/entity/{i}") for i in range(2, 8)]
    edges = [(1, i, i) for i in range(2, 8)] + [(2, 3, 1)]
    first = str(svg.co_mention_svg(centre, others, edges))
    assert first == str(svg.co_mention_svg(centre, others, edges))
    drawn = ElementTree.fromstring(first)
    assert [a.get("href") for a in drawn.iter(f"{SVG}a")][-1] == "/entity/1"
    circles = {c.get("cx"): c for c in drawn.iter(f"{SVG}circle")}
    assert "280.0" in circles  # the entity in the centre of a 560-wide drawing
    assert "E2 &lt;x&gt;" in first


# -- both databases ---------------------------------------------------------------------------


async def test_intel_pages_on_each_database(
    store_url: str, samples: SampleServer, password_hash: str
) -> None:
    """Every page and download on SQLite and PostgreSQL (the queries are portable)."""
    settings = load_settings(
        env={},
        database_url=store_url,
        allow_private_networks=True,
        fulltext=False,
        entities=False,
        story_river=True,
    )
    desk = Desk(settings)
    try:
        for path in (*SEED_FEEDS, *SOCIAL_FEEDS):
            desk.store.add_feed(samples.base + path)
        await desk.refresh_async()
        intel = _seed(desk)
        with desk.store.engine.begin() as conn:
            conn.execute(
                update(users)  # the desk's first admin, who has no password yet
                .where(users.c.username == "admin")
                .values(password_hash=password_hash)
            )
        async with _browser(desk, settings) as client:
            river = await client.get("/?show=all")
            assert intel.lead.id in _ids(river.text) and intel.other.id not in _ids(river.text)
            smirnov = intel.people["Alexander Smirnov"]
            for url in (
                f"/story/{intel.story}",
                f"/story/{intel.story}/timeline",
                "/stories",
                "/entities?kind=person",
                "/entities?q=smir",
                f"/entity/{smirnov}",
                f"/entity/{smirnov}?bucket=week",
                f"/entity/{smirnov}?bucket=month",
                f"/entity/{smirnov}/timeline",
                f"/entry/{intel.lead.id}",
                "/search?entity=FBI",
                "/watchlists",
            ):
                response = await client.get(url)
                assert response.status_code == 200, url
            assert "<svg" in (await client.get(f"/entity/{smirnov}")).text
            items = (await client.get(f"/entity/{smirnov}/timeline.json")).json()
            assert [i["date"] for i in items] == ["2023-08-01"]
            found = await client.get("/search?entity=FBI&group=none")
            assert set(_ids(found.text)) == {intel.lead.id, intel.other.id}
    finally:
        desk.close()

"""Story clustering through the real store, on SQLite and PostgreSQL: a wire story, its
syndicated copy and the posts that share or quote it become one story; a look-alike story about
another place, and posts linking to a home page or a profile, do not join it. Incremental runs,
re-runs, changed texts, merges, the setting, and what the story rows say."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import Table, func, select, update

from newsdesk.errors import NewsdeskError
from newsdesk.settings import Settings
from newsdesk.store import schema
from newsdesk.store.engine import write_transaction
from newsdesk.store.sql import SqlStore
from newsdesk.stories import ClusterReport, cluster_entries
from newsdesk.stories.cluster import HOT_KEY
from newsdesk.stories.features import url_key

from .conftest import T0, StoreEntries, entry, story_ids, wire_text

IZMIR_TITLE = "Strong earthquake hits Izmir, damaging older buildings"
SENDAI_TEXT = (
    "Japan's meteorological agency said a magnitude 5.8 tremor was felt across Sendai on "
    "Tuesday evening, briefly halting bullet trains while engineers checked the tracks.\n\n"
    "No tsunami warning was issued. Nuclear plant operators reported no abnormalities, and the "
    "prefectural government said it had received no reports of serious injuries.\n\n"
    "Commuters waited on crowded platforms for about an hour before services resumed, and "
    "officials urged people to prepare for aftershocks over the coming week."
)
HERALD_HEAD = "Sign up for the Herald morning briefing, delivered every weekday.\n\n"
HERALD_FOOT = (
    "\n\nThis story was published from a wire agency feed without changes to the text. "
    "Copyright 2024 Herald Media Group. All rights reserved."
)


def _scenario(put: StoreEntries) -> dict[str, int]:
    ids = put(
        "wire",
        entry("izmir", title=IZMIR_TITLE, text=wire_text("Izmir", 61), minutes=0),
        entry(
            "sendai",
            title="Strong earthquake hits Sendai, halting bullet trains",
            text=SENDAI_TEXT,
            minutes=60,
        ),
    )
    ids |= put(
        "herald",
        entry(
            "copy",
            title=IZMIR_TITLE,
            text=HERALD_HEAD + wire_text("Izmir", 61) + HERALD_FOOT,
            url="https://herald.example/world/izmir-quake",
            minutes=30,
        ),
    )
    shared = "https://news.example/izmir"
    ids |= put(
        "social",
        entry(
            "shares",
            title=f"Terrible news from Turkey tonight {shared}",
            text=f"Terrible news from Turkey tonight {shared}",
            kind="post",
            links=(shared,),
            minutes=40,
        ),
        entry(
            "quotes",
            title=f"{IZMIR_TITLE} https://t.example/abc",
            text=f"{IZMIR_TITLE} https://t.example/abc",
            kind="post",
            minutes=50,
        ),
        entry(
            "home1",
            title="Good reads on the front page today https://news.example/",
            text="Good reads on the front page today https://news.example/",
            kind="post",
            links=("https://news.example/",),
            minutes=70,
        ),
        entry(
            "home2",
            title="Follow them for updates https://twitter.com/newsexample",
            text="Follow them for updates https://twitter.com/newsexample",
            kind="post",
            links=("https://news.example/", "https://twitter.com/newsexample"),
            minutes=80,
        ),
        entry(
            "profile",
            title="A great account to follow https://twitter.com/newsexample",
            text="A great account to follow https://twitter.com/newsexample",
            kind="post",
            links=("https://twitter.com/newsexample",),
            minutes=90,
        ),
    )
    return ids


def test_one_story_across_sources(
    story_store: SqlStore, story_settings: Settings, put: StoreEntries
) -> None:
    ids = _scenario(put)
    report = cluster_entries(story_store.intel, story_settings)
    assert report.entries == len(ids) == 8
    assert report.joined == 3
    assert report.new_stories == 5
    assert "8 entries clustered" in report.summary
    stories = story_ids(story_store, ids)
    assert None not in stories.values()
    izmir = stories["izmir"]
    assert izmir is not None
    assert stories["copy"] == stories["shares"] == stories["quotes"] == izmir
    others = {stories[k] for k in ("sendai", "home1", "home2", "profile")}
    assert len(others) == 4 and izmir not in others

    story = story_store.stories.get_story(izmir)
    assert story is not None
    assert story.size == 4
    assert story.sources == 3
    assert story.lead_entry_id in (ids["izmir"], ids["copy"])  # an article, not a post
    assert story.title == IZMIR_TITLE
    assert story.first_published == T0
    assert story.last_published == entry("x", minutes=50).published
    assert story_store.stories.story_member_ids(izmir) == [
        ids["izmir"],
        ids["copy"],
        ids["shares"],
        ids["quotes"],
    ]
    as_dict = story.as_dict()
    assert as_dict["first_published"] == "2024-02-27T08:00:00Z"
    assert as_dict["size"] == 4 and as_dict["id"] == izmir
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", as_dict["last_published"])

    listed = story_store.stories.list_stories()
    assert [s.id for s in listed] == [izmir]
    everything = story_store.stories.list_stories(min_size=1)
    assert len(everything) == 5
    assert [s.last_published for s in everything] == sorted(
        (s.last_published for s in everything), reverse=True
    )
    assert story_store.stories.list_stories(min_size=1, limit=2, offset=1) == everything[1:3]
    summaries = story_store.stories.story_summaries([izmir, stories["sendai"] or 0, 10**9])
    assert set(summaries) == {izmir, stories["sendai"]}
    assert summaries[izmir] == story
    assert story_store.stories.get_story(10**9) is None


def test_rerun_changes_nothing(
    story_store: SqlStore, story_settings: Settings, put: StoreEntries
) -> None:
    ids = _scenario(put)
    cluster_entries(story_store.intel, story_settings)
    before = story_ids(story_store, ids)
    rows_before = _count(story_store, schema.story_keys), _count(story_store, schema.stories)
    assert cluster_entries(story_store.intel, story_settings).entries == 0
    again = cluster_entries(story_store.intel, story_settings, list(ids.values()))
    assert (again.entries, again.joined, again.new_stories) == (8, 0, 0)
    assert story_ids(story_store, ids) == before
    assert (_count(story_store, schema.story_keys), _count(story_store, schema.stories)) == (
        rows_before
    )


def test_new_entries_join_existing_stories(
    story_store: SqlStore, story_settings: Settings, put: StoreEntries
) -> None:
    first = put(
        "social",
        entry(
            "early",
            title="Watch this space https://news.example/izmir",
            text="Watch this space https://news.example/izmir",
            kind="post",
            links=("https://news.example/izmir",),
            minutes=-5,
        ),
    )
    cluster_entries(story_store.intel, story_settings, list(first.values()))
    # the article a post shared arrives after the post: it joins the post's story
    later = put("wire", entry("izmir", title=IZMIR_TITLE, text=wire_text("Izmir", 61)))
    report = cluster_entries(story_store.intel, story_settings, list(later.values()))
    assert (report.entries, report.joined, report.new_stories) == (1, 1, 0)
    # and a copy published later still finds it, through its text alone
    copy = put(
        "herald",
        entry(
            "copy",
            title="Quake damages Izmir's old town",
            text=HERALD_HEAD + wire_text("Izmir", 61) + HERALD_FOOT,
            url="https://herald.example/izmir",
            minutes=300,
        ),
    )
    report = cluster_entries(story_store.intel, story_settings, list(copy.values()))
    assert report.joined == 1
    stories = story_ids(story_store, first | later | copy)
    assert len(set(stories.values())) == 1
    story = story_store.stories.get_story(stories["early"] or 0)
    assert story is not None and story.size == 3 and story.lead_entry_id == later["izmir"]
    assert story.title == IZMIR_TITLE


def test_small_stories_merge_when_an_entry_shows_they_are_one(
    story_store: SqlStore, story_settings: Settings, put: StoreEntries
) -> None:
    wire = put("wire", entry("izmir", title=IZMIR_TITLE, text=wire_text("Izmir", 61)))
    rewrite_url = "https://ledger.example/2024/izmir-quake"
    post = put(
        "social",
        entry(
            "early",
            title=f"Read this {rewrite_url}",
            text=f"Read this {rewrite_url}",
            kind="post",
            links=(rewrite_url,),
            minutes=20,
        ),
    )
    cluster_entries(story_store.intel, story_settings)
    before = story_ids(story_store, wire | post)
    assert before["izmir"] != before["early"]
    # the rewrite the post shared: its text matches the wire story, its URL the post
    rewrite = put(
        "ledger",
        entry(
            "rewrite",
            title="Izmir counts the damage after overnight quake",
            text=wire_text("Izmir", 61, "Our reporter in Izmir contributed to this story."),
            url=rewrite_url,
            minutes=30,
        ),
    )
    report = cluster_entries(story_store.intel, story_settings, list(rewrite.values()))
    assert report.joined == 1
    after = story_ids(story_store, wire | post | rewrite)
    assert len(set(after.values())) == 1
    merged_away = before["early"] if after["izmir"] == before["izmir"] else before["izmir"]
    assert story_store.stories.get_story(merged_away or 0) is None
    story = story_store.stories.get_story(after["izmir"] or 0)
    assert story is not None and story.size == 3


def test_a_changed_text_is_matched_again(
    story_store: SqlStore, story_settings: Settings, put: StoreEntries
) -> None:
    ids = put("wire", entry("izmir", title=IZMIR_TITLE, text=wire_text("Izmir", 61)))
    ids |= put(
        "herald",
        entry(
            "summary",
            title="Quake in western Turkey",
            text="Buildings were damaged.",
            url="https://herald.example/a",
            minutes=30,
        ),
    )
    cluster_entries(story_store.intel, story_settings)
    alone = story_ids(story_store, ids)
    assert alone["summary"] != alone["izmir"]
    # the full text arrives
    with write_transaction(story_store.engine) as conn:
        conn.execute(
            update(schema.entries)
            .where(schema.entries.c.id == ids["summary"])
            .values(content_text=HERALD_HEAD + wire_text("Izmir", 61) + HERALD_FOOT)
        )
    report = cluster_entries(story_store.intel, story_settings, list(ids.values()))
    assert (report.entries, report.joined, report.new_stories) == (2, 1, 0)
    joined = story_ids(story_store, ids)
    assert joined["summary"] == joined["izmir"]
    assert story_store.stories.get_story(alone["summary"] or 0) is None  # its old story is gone


def test_a_widely_shared_page_stays_one_bounded_story(
    story_store: SqlStore, story_settings: Settings, put: StoreEntries
) -> None:
    page = "https://news.example/izmir"
    posts = [
        entry(
            f"p{n}",
            title=f"Post number {n} about it {page}",
            text=f"Post number {n} about it {page}",
            kind="post",
            links=(page,),
            minutes=n,
        )
        for n in range(HOT_KEY + 15)
    ]
    ids = put("social", *posts)
    cluster_entries(story_store.intel, story_settings)
    assert len(set(story_ids(story_store, ids).values())) == 1
    with story_store.engine.connect() as conn:
        held = conn.execute(
            select(func.count()).where(schema.story_keys.c.key == url_key(page))
        ).scalar_one()
    assert held == HOT_KEY  # the key stops growing; the story still does
    story = story_store.stories.get_story(story_ids(story_store, ids)["p0"] or 0)
    assert story is not None and story.size == HOT_KEY + 15


def test_one_site_template_does_not_make_a_story(
    story_store: SqlStore, story_settings: Settings, put: StoreEntries
) -> None:
    footer = (
        "\n\nSubscribe to the Coast News newsletter for the best of local news, sport and "
        "weather, delivered free to your inbox every morning. Follow us on social media and "
        "download our app. Comments are closed on this article; read our community guidelines "
        "to find out more. Copyright Coast News Network, all rights reserved."
    )
    bodies = {
        "harbour": "Fishing crews said the new quay would end years of crowding, while a group "
        "of boat owners warned that mooring fees were likely to double within a year.",
        "bridge": "Engineers will close the old crossing for eight weeks next spring, and "
        "buses will run a longer route through the industrial estate while work goes on.",
        "library": "Readers packed the public gallery to defend the reading room, and "
        "councillors agreed to keep Saturday opening hours after a petition of 3,000 names.",
        "stadium": "The football club will pay for the new stand itself, the leader said, but "
        "neighbours still fear match-day parking chaos in the streets around the ground.",
        "market": "Stallholders welcomed the covered hall but asked for lower rents in the "
        "first year, saying that footfall had fallen sharply since the bypass opened.",
        "school": "Parents of pupils at the primary school cheered the decision to replace "
        "the temporary classrooms that have stood in the playground since the 1990s.",
    }
    stories = [
        entry(
            f"s{n}",
            title=f"Council approves plan for the {place} after long debate",
            text=body + footer,
            url=f"https://coast.example/local/{place}",
            minutes=n * 10,
        )
        for n, (place, body) in enumerate(bodies.items())
    ]
    ids = put("coast", *stories)
    report = cluster_entries(story_store.intel, story_settings)
    assert report.joined == 0
    assert len(set(story_ids(story_store, ids).values())) == len(bodies)


def test_a_chain_of_overlaps_does_not_make_one_giant_story(
    story_store: SqlStore, story_settings: Settings, put: StoreEntries
) -> None:
    """Each text overlaps the next by two thirds (Jaccard 0.67), so neighbours match, but the
    sixth shares nothing with the first: a story grows around its lead and stops drifting."""
    sentences = [
        " ".join(f"w{n}x{k}" for k in range(8)) + "." for n in range(40)
    ]  # distinct words: only the shared sentences make texts alike
    ids: dict[str, int] = {}
    for step in range(6):
        text = " ".join(sentences[4 * step : 4 * step + 20])
        ids |= put(
            f"outlet{step}",
            entry(f"c{step}", title=f"Part {step}", text=text, minutes=10 * step),
        )
    cluster_entries(story_store.intel, story_settings)
    stories = story_ids(story_store, ids)
    assert stories["c0"] == stories["c1"] == stories["c2"]  # near the lead, c0
    assert stories["c3"] != stories["c0"]  # near c2, far from c0: a story of its own
    assert stories["c3"] == stories["c4"] == stories["c5"]


def test_stories_follow_deleted_entries(
    story_store: SqlStore, story_settings: Settings, put: StoreEntries
) -> None:
    ids = _scenario(put)
    cluster_entries(story_store.intel, story_settings)
    stories = story_ids(story_store, ids)
    assert story_store.stories.repair_stories() == 0  # in step already
    story_store.remove_feed(story_store.get_feed("https://herald.example/feed.xml").id)
    with write_transaction(story_store.engine) as conn:
        conn.execute(schema.entries.delete().where(schema.entries.c.id == ids["sendai"]))
    assert story_store.stories.repair_stories() == 2
    izmir = story_store.stories.get_story(stories["izmir"] or 0)
    assert izmir is not None and izmir.size == 3 and izmir.sources == 2
    assert izmir.lead_entry_id == ids["izmir"]
    assert story_store.stories.get_story(stories["sendai"] or 0) is None


def test_setting_off_groups_nothing(
    story_store: SqlStore, story_settings: Settings, put: StoreEntries
) -> None:
    ids = _scenario(put)
    off = replace(story_settings, stories=False)
    assert cluster_entries(story_store.intel, off) == ClusterReport()
    assert cluster_entries(story_store.intel, off, list(ids.values())).entries == 0
    assert set(story_ids(story_store, ids).values()) == {None}


def test_bad_ids(story_store: SqlStore, story_settings: Settings, put: StoreEntries) -> None:
    with pytest.raises(NewsdeskError, match="not an entry id"):
        cluster_entries(story_store.intel, story_settings, ["seven"])  # type: ignore[list-item]
    with pytest.raises(NewsdeskError, match="not an entry id"):
        cluster_entries(story_store.intel, story_settings, [None])  # type: ignore[list-item]
    assert cluster_entries(story_store.intel, story_settings, [123456]).entries == 0
    assert cluster_entries(story_store.intel, story_settings, []).entries == 0


def _count(store: SqlStore, table: Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

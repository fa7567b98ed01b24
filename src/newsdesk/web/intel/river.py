"""One card per story in the river.

The river still fetches one page of entries as before; this module then folds the members of
each story of two or more on that page into one card (the story's lead article, "N more
sources", the posts that shared it). It costs at most three small indexed queries per page —
the stories by primary key, their members through ``ix_entries_story``, and the lead and posts
not already on the page by id — and none at all when no entry on the page has a story (as in
a database nothing has clustered yet)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from newsdesk.model import StoredEntry
from newsdesk.store import EntryQuery
from newsdesk.store.intel import StoryMember
from newsdesk.store.sql import SqlStore
from newsdesk.store.stories import StorySummary

MAX_MEMBER_ROWS = 2000
MAX_POSTS = 3
MAX_SOURCE_NAMES = 4


@dataclass(slots=True)
class StoryCard:
    """What a story's card shows besides its lead entry."""

    story: StorySummary
    posts: list[StoredEntry] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # other feeds' titles, a few
    read: bool = False  # every member is read: the card's button marks the whole story unread

    @property
    def more_sources(self) -> int:
        return max(self.story.sources - 1, 0)

    @property
    def more_entries(self) -> int:
        return max(self.story.size - 1, 0)


def _shown_earlier(
    store: SqlStore,
    view: EntryQuery,
    first: StoredEntry,
    page_ids: set[int],
    members: list[StoryMember],
    stories: set[int],
) -> set[int]:
    """Stories already drawn on an earlier page of this river: one of their members newer than
    this page's first entry is in the view (so it was on a page above)."""
    newer = [
        m.id
        for m in members
        if m.story_id in stories
        and m.id not in page_ids
        and (m.published, m.id) > (first.published, first.id)
    ]
    if not newer:
        return set()
    probe = replace(view, ids=newer, limit=len(newer), offset=0)
    seen = {e.id for e in store.list_entries(probe)}
    return {m.story_id for m in members if m.id in seen}


def _belongs(entry: StoredEntry, view: EntryQuery) -> bool:
    """Whether an entry fits the river's feed, category or tag (read and starred flags aside:
    a story's read lead still heads a card of new posts)."""
    if view.feed_id is not None and entry.feed_id != view.feed_id:
        return False
    if view.category is not None and entry.category != view.category:
        return False
    return view.tag is None or view.tag.casefold() in {t.casefold() for t in entry.tags}


def group_stories(
    store: SqlStore, page: list[StoredEntry], view: EntryQuery, *, first_page: bool
) -> tuple[list[StoredEntry], dict[int, StoryCard]]:
    """The page's entries with each story of two or more folded into its lead entry, in the
    place of the story's newest member on the page, and the cards by lead entry id.

    ``view`` is the river's query (filters only); it tells, for later pages, which stories an
    earlier page has already shown so a story never gets a second card while scrolling."""
    story_ids = list(dict.fromkeys(e.story_id for e in page if e.story_id is not None))
    if not story_ids:
        return page, {}
    found = store.stories.story_summaries(story_ids)
    summaries = {sid: s for sid, s in found.items() if s.size > 1}
    if not summaries:
        return page, {}
    members = store.intel.story_members(list(summaries), MAX_MEMBER_ROWS)
    page_by_id = {e.id: e for e in page}
    hidden: set[int] = set()
    if not first_page:
        hidden = _shown_earlier(store, view, page[0], set(page_by_id), members, set(summaries))
    wanted: dict[int, list[int]] = {}
    for sid, summary in summaries.items():
        if sid in hidden:
            continue
        post_ids = [m.id for m in members if m.story_id == sid and m.kind == "post"]
        lead_id = summary.lead_entry_id
        ids = [lead_id] if lead_id is not None else []
        wanted[sid] = ids + [p for p in post_ids if p != lead_id][:MAX_POSTS]
    missing = {i for ids in wanted.values() for i in ids if i not in page_by_id}
    known = dict(page_by_id)
    if missing:
        for entry in store.list_entries(EntryQuery(ids=sorted(missing), limit=len(missing))):
            known[entry.id] = entry
    out: list[StoredEntry] = []
    cards: dict[int, StoryCard] = {}
    done: set[int] = set()
    for entry in page:
        story_id = entry.story_id
        if story_id is None or story_id not in summaries:
            out.append(entry)
            continue
        if story_id in hidden or story_id in done:
            continue
        done.add(story_id)
        summary = summaries[story_id]
        ids = wanted[story_id]
        best = known.get(ids[0]) if ids and ids[0] == summary.lead_entry_id else None
        # A feed's or category's river keeps its own entry at the head of the card.
        head = best if best is not None and _belongs(best, view) else entry
        names = list(
            dict.fromkeys(
                m.feed_title
                for m in members
                if m.story_id == story_id and m.id != head.id and m.feed_title != head.feed_title
            )
        )
        folded = [known[i] for i in ids if i in known and i != head.id]
        cards[head.id] = StoryCard(
            story=summary,
            posts=[p for p in folded if p.kind == "post"],
            sources=names[:MAX_SOURCE_NAMES],
            read=all(m.read for m in members if m.story_id == story_id),
        )
        out.append(head)
    return out, cards

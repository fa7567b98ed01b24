"""Incremental story clustering. Each entry is compared only with the entries that share one of
its candidate keys (same page, a band of its text's MinHash, a band of its title's words), and
joins the story of the best match that verification accepts; an entry nothing matches starts a
story of its own. A story grows around its lead: an entry joining through another member must
not be far from the lead either. Stories merge only when an entry ties them together firmly and
one of them is small, so one loose link cannot chain unrelated stories into a giant one."""

from __future__ import annotations

import gc
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

import newsdesk.stories.features as ft
from newsdesk.errors import NewsdeskError
from newsdesk.settings import Settings
from newsdesk.store.protocols.intel import ClusterBatch, EntryRow, IntelStorage
from newsdesk.util import chunks

BATCH = 500  # entries per transaction
HOT_KEY = 12  # a key held by this many entries stops being stored or trusted, unless its
# entries are (nearly) all one story: boilerplate shingles, a site's headline template
HOT_KEY_STORIES = 2
MERGE_MAX = 5  # a story this small merges when an entry shows it is the same as another
MAX_CANDIDATES = 25  # candidates verified per entry, those sharing the most keys first
MODERATE = 0.6  # texts this share of the threshold alike join with corroboration:
CONTAINMENT = 0.95  # one text almost wholly inside the other (a trimmed rewrite, an extract)…
CONTAINMENT_MIN_SHINGLES = 60  # …when it is long enough for that to mean something
LEAD_TITLE = 0.6  # a post's title near the lead's this much (of the setting) may join
SAME_FEED_TEXT = 0.8  # two entries of one feed: texts this alike (more than its template)


@dataclass(frozen=True, slots=True)
class ClusterReport:
    """What one clustering run did."""

    entries: int = 0  # entries looked at
    joined: int = 0  # entries that joined a story with other members
    new_stories: int = 0
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        return (
            f"{self.entries} entries clustered: {self.joined} joined a story, "
            f"{self.new_stories} new stories in {self.seconds:.2f} s"
        )

    def __add__(self, other: ClusterReport) -> ClusterReport:
        return ClusterReport(
            self.entries + other.entries,
            self.joined + other.joined,
            self.new_stories + other.new_stories,
            self.seconds + other.seconds,
        )


@dataclass(slots=True)
class _Known:
    """An entry clustering can compare with: its features, published time and story."""

    minhash: bytes | None  # the signature's values, little-endian uint32
    shingles: int
    terms: frozenset[str]
    key_terms: frozenset[str]
    published: datetime
    story_id: int
    feed_id: int


@dataclass(slots=True)
class _Thresholds:
    text: float
    title: float
    window: timedelta


@dataclass(slots=True)
class _Match:
    score: float = 0.0
    by_url: bool = False
    strong: bool = False  # a shared page, or texts alike enough on their own
    textual: bool = False  # texts alike, with or without corroboration
    via: list[int] = field(default_factory=list)


def cluster_entries(
    store: IntelStorage, settings: Settings, entry_ids: Sequence[int] | None = None
) -> ClusterReport:
    """Give every entry of ``entry_ids`` (None: every entry not clustered yet) a story.

    Entries already clustered whose text and title did not change are left as they are, so a
    re-run changes nothing; one whose features changed is re-keyed, and re-matched when it is
    alone in its story."""
    if not settings.stories:
        return ClusterReport()
    started = time.perf_counter()
    limits = _Thresholds(
        text=settings.story_text_similarity,
        title=settings.story_title_similarity,
        window=timedelta(hours=settings.story_window_hours),
    )
    report = ClusterReport()
    if entry_ids is None:
        while True:
            with store.clustering() as batch:
                ids = batch.unclustered_ids(BATCH)
                done = _cluster_batch(batch, ids, limits) if ids else ClusterReport()
            if not done.entries:
                break
            report += done
    else:
        wanted = list(dict.fromkeys(_entry_id(i) for i in entry_ids))
        for chunk in chunks(wanted, BATCH):
            with store.clustering() as batch:
                report += _cluster_batch(batch, chunk, limits)
    return ClusterReport(
        report.entries, report.joined, report.new_stories, time.perf_counter() - started
    )


def _entry_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise NewsdeskError(f"not an entry id: {value!r}")
    try:
        return int(value)
    except ValueError:
        raise NewsdeskError(f"not an entry id: {value!r}") from None


def _cluster_batch(tx: ClusterBatch, ids: Sequence[int], limits: _Thresholds) -> ClusterReport:
    """One batch, with the cyclic garbage collector paused: a batch allocates many small
    objects and no cycles, and full collections triggered by them cost more than the work."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return _cluster_rows(tx, ids, limits)
    finally:
        if paused:
            gc.enable()


def _cluster_rows(tx: ClusterBatch, ids: Sequence[int], limits: _Thresholds) -> ClusterReport:
    rows = tx.load_entries(ids)
    seen = len(rows)
    if not rows:
        return ClusterReport()
    items = [ft.Item(r.kind, r.title, r.text, r.url_canonical, r.links) for r in rows]
    prints = [ft.fingerprint(item) for item in items]
    # Which entries need work: not clustered yet, or changed since they were.
    positions = [
        i
        for i, row in enumerate(rows)
        if row.story_id is None or ft.parse_terms(row.title_terms)[2] != prints[i]
    ]
    if not positions:
        return ClusterReport(entries=seen)
    rows = [rows[i] for i in positions]
    prints = [prints[i] for i in positions]
    computed = ft.compute([items[i] for i in positions])
    rekey = list(range(len(rows)))
    now = datetime.now(UTC)
    # Re-keyed entries alone in their story are matched again; the others stay where they are.
    clustered = {s for i in rekey if (s := rows[i].story_id) is not None}
    sizes = {s: size for s, (_lead, size) in tx.story_leads(clustered).items()}
    todo = [i for i in rekey if (s := rows[i].story_id) is None or sizes.get(s, 0) <= 1]
    state = _Batch(tx, rows, computed, prints, limits, now)
    matching = set(todo)
    for i in rekey:
        if i not in matching:
            state.settle(i, rows[i].story_id)
    joined = 0
    for i in todo:
        chosen = state.match(i)
        if chosen is not None:
            joined += 1
        state.settle(i, chosen)
    return ClusterReport(entries=seen, joined=joined, new_stories=state.write())


class _Batch:
    """One batch's matching: the candidates its keys found in the store, the entries it has
    settled so far (they are candidates for the later ones), and the stories it creates or
    merges."""

    def __init__(
        self,
        tx: ClusterBatch,
        rows: list[EntryRow],
        computed: list[ft.Features],
        prints: list[str],
        limits: _Thresholds,
        now: datetime,
    ) -> None:
        self.tx, self.rows, self.computed, self.prints = tx, rows, computed, prints
        rekey = self.rekey = list(range(len(rows)))
        self.limits, self.now = limits, now
        self.batch_ids = {rows[i].id for i in rekey}
        self.old_story = {rows[i].id: rows[i].story_id for i in rekey}
        hits: dict[str, list[int]] = defaultdict(list)
        for key, entry_id in tx.key_hits({k for i in rekey for k in computed[i].keys}):
            if entry_id not in self.batch_ids:
                hits[key].append(entry_id)
        facts = tx.entry_facts({e for es in hits.values() for e in es})
        self.stored = {key: len(entries) for key, entries in hits.items()}
        # A key many entries of many stories share says nothing (boilerplate, a template).
        self.hot = {
            key
            for key, entries in hits.items()
            if len(entries) >= HOT_KEY
            and len({facts[e].story_id for e in entries if e in facts}) > HOT_KEY_STORIES
        }
        # candidate entries per key: clustered ones, of keys that say something
        self.found = {
            key: [e for e in entries if e in facts and facts[e].story_id is not None]
            for key, entries in hits.items()
            if key not in self.hot
        }
        stories_found = tx.story_leads({s for f in facts.values() if (s := f.story_id) is not None})
        self.leads = {s: lead for s, (lead, _size) in stories_found.items()}
        self.sizes = {s: size for s, (_lead, size) in stories_found.items()}
        wanted = {e for entries in self.found.values() for e in entries}
        leads = {lead for lead in self.leads.values() if lead is not None} - set(facts)
        facts |= tx.entry_facts(leads)
        wanted |= leads
        self.known: dict[int, _Known] = {}
        for entry_id, (blob, terms) in tx.signatures(wanted).items():
            signature, shingles = ft.signature_values(blob)
            words, names, _print = ft.parse_terms(terms)
            fact = facts[entry_id]
            self.known[entry_id] = _Known(
                signature,
                shingles,
                frozenset(words),
                names,
                fact.published,
                fact.story_id or 0,
                fact.feed_id,
            )
        self.local: dict[str, list[int]] = defaultdict(list)  # key → settled batch entries
        self.alias: dict[int, int] = {}  # merged story → the story it went into
        self.assigned: dict[int, int] = {}  # entry id → story id (negative: to create)
        self.fresh = 0
        self.posts: set[int] = set()  # the batch's posts (a story led by one wants an article)

    def find(self, story: int) -> int:
        while story in self.alias:
            story = self.alias[story]
        return story

    def _features(self, i: int) -> _Known:
        f = self.computed[i]
        signature = None if f.minhash is None else f.minhash.astype("<u4").tobytes()
        terms = frozenset(f.title_terms)
        row = self.rows[i]
        return _Known(signature, f.shingles, terms, f.key_terms, row.published, 0, row.feed_id)

    def match(self, i: int) -> int | None:
        """The story entry ``i`` joins, or None."""
        me = self._features(i)
        feats = self.computed[i]
        shared: dict[int, int] = defaultdict(int)
        url_hits: set[int] = set()
        for key in feats.url_keys:
            url_hits.update(self.found.get(key, ()))
            url_hits.update(self.local.get(key, ()))
        for key in feats.keys:
            for other in self.found.get(key, ()):
                shared[other] += 1
            for other in self.local.get(key, ()):
                shared[other] += 1
        ranked = sorted(shared, key=lambda e: (-shared[e], e))[:MAX_CANDIDATES]
        candidates = [(other, them) for other in ranked if (them := self.known.get(other))]
        jaccards = _jaccards(me, [(o, t) for o, t in candidates if o not in url_hits])
        best: dict[int, _Match] = {}
        for other, them in candidates:
            jaccard = jaccards.get(other)
            score = 1.0 if other in url_hits else _similarity(me, them, self.limits, jaccard)
            if score > 0.0:
                match = best.setdefault(self.find(them.story_id), _Match())
                match.score = max(match.score, score)
                match.by_url = match.by_url or other in url_hits
                match.strong = match.strong or other in url_hits or score == jaccard
                match.textual = match.textual or (jaccard is not None and other not in url_hits)
                match.via.append(other)
        return self._choose(me, best)

    def _choose(self, me: _Known, best: dict[int, _Match]) -> int | None:
        """The story to join: a shared page first, then the closest match whose story's lead
        is not too far either (so a story grows around its lead, not along a chain). When the
        entry ties itself strongly to one story (a shared page, texts alike on their own) and
        through its text to another, and one of them is small, they are one story: the smaller
        merges into the larger. Large stories never merge: one link must not chain them."""
        accepted = [
            s
            for s, m in sorted(best.items(), key=lambda kv: (-kv[1].score, kv[0]))
            if m.by_url or self._near_lead(me, s, m)
        ]
        if not accepted:
            return None
        by_url = [s for s in accepted if best[s].by_url]
        size = self.sizes.get
        chosen = max(by_url, key=lambda s: (size(s, 0), -s)) if by_url else accepted[0]
        for other in accepted:
            if other == chosen or not best[chosen].strong:
                continue
            if not (best[other].strong or best[other].textual):
                continue
            if min(size(other, 0), size(chosen, 0)) <= MERGE_MAX:
                small, large = sorted((other, chosen), key=lambda s: (size(s, 0), -s))
                self.alias[small] = large
                self.sizes[large] = size(large, 0) + self.sizes.pop(small, 0)
                best[large] = best[chosen]
                chosen = large
        return chosen

    def _near_lead(self, me: _Known, story: int, match: _Match) -> bool:
        lead = self.leads.get(story)
        if lead is None or lead in match.via or lead not in self.known:
            return True
        return _loosely_similar(me, self.known[lead], self.limits)

    def settle(self, i: int, story: int | None) -> None:
        """Entry ``i`` belongs to ``story`` (None: a new story of its own)."""
        row = self.rows[i]
        old = self.old_story.get(row.id)
        if story is None:
            if old is not None:  # still alone: keeps its story
                story = old
            else:
                self.fresh += 1
                story = -self.fresh
        story = self.find(story)
        self.assigned[row.id] = story
        if old != story:
            self.sizes[story] = self.sizes.get(story, 0) + 1
        me = self._features(i)
        me.story_id = story
        self.known[row.id] = me
        for key in self.computed[i].keys:
            self.local[key].append(row.id)
        # a story begun in this batch is led, until it is written, by its first article
        lead = self.leads.get(story)
        if lead is None or (lead in self.posts and row.kind != "post"):
            self.leads[story] = row.id
        if row.kind == "post":
            self.posts.add(row.id)

    def write(self) -> int:
        """Store keys, signatures, stories and memberships; the number of stories created."""
        tx, rows, computed, now = self.tx, self.rows, self.computed, self.now
        final = {e: self.find(s) for e, s in self.assigned.items()}
        provisional = sorted({s for s in final.values() if s < 0}, reverse=True)
        created = tx.create_stories(len(provisional), now, now)
        real = dict(zip(provisional, created, strict=True))
        assignments = {e: real.get(s, s) for e, s in final.items()}
        merged = {s: real.get(t, t) for s in self.alias if s > 0 and (t := self.find(s))}
        tx.merge_stories(merged)
        stored = dict(self.stored)
        key_rows: list[tuple[str, int, datetime]] = []
        for i in self.rekey:
            row = rows[i]
            for key in computed[i].keys:
                if key in self.hot or stored.get(key, 0) >= HOT_KEY:
                    continue  # enough entries hold it already: stop growing it
                stored[key] = stored.get(key, 0) + 1
                key_rows.append((key, row.id, row.published))
        # only entries clustered before have keys to drop
        keyed = [rows[i].id for i in self.rekey if rows[i].title_terms is not None]
        tx.replace_keys(keyed, key_rows)
        tx.replace_signatures(
            [
                (rows[i].id, computed[i].signature_blob(), computed[i].stored_terms(self.prints[i]))
                for i in self.rekey
            ],
        )
        changed = {e: s for e, s in assignments.items() if self.old_story.get(e) != s}
        tx.assign_stories(changed)
        touched = set(changed.values()) | set(merged) | set(merged.values())
        touched |= {s for e in changed if (s := self.old_story.get(e)) is not None}
        tx.refresh_stories(touched, now)
        return len(created)


def _jaccards(me: _Known, others: Sequence[tuple[int, _Known]]) -> dict[int, float]:
    """Estimated Jaccard similarity of ``me``'s text with each of ``others`` (entry id,
    features) that has a signature, in one array operation."""
    if me.minhash is None:
        return {}
    signed = [(entry_id, o.minhash) for entry_id, o in others if o.minhash is not None]
    if not signed:
        return {}
    mine = np.frombuffer(me.minhash, dtype="<u4")
    theirs = np.frombuffer(b"".join(s for _id, s in signed), dtype="<u4").reshape(-1, len(mine))
    alike = (theirs == mine).mean(axis=1).tolist()
    return {entry_id: value for (entry_id, _s), value in zip(signed, alike, strict=True)}


def _similarity(me: _Known, them: _Known, limits: _Thresholds, jaccard: float | None) -> float:
    """How surely two entries tell one story, 0 when verification rejects the pair.

    Texts alike enough (Jaccard >= the setting) suffice; texts somewhat alike (MODERATE of
    it) need corroboration: alike titles, or one text almost wholly inside the other. Alike
    titles alone suffice when a text is too short to compare (a post quoting a headline),
    within the time window. Two entries of one feed are held to more: what they share is
    often the site's template (its footer, its headline formula), so only texts nearly the
    same, or the very same title when there is no text to compare, make them one story."""
    same_feed = me.feed_id == them.feed_id
    if jaccard is not None and jaccard >= (
        max(limits.text, SAME_FEED_TEXT) if same_feed else limits.text
    ):
        return jaccard
    titles = 0.0
    if abs(me.published - them.published) <= limits.window:
        titles = ft.title_similarity(me.terms, me.key_terms, them.terms, them.key_terms)
    if jaccard is None:
        enough = 1.0 if same_feed else limits.title
        return titles * 0.95 if titles >= enough else 0.0
    if same_feed or jaccard < limits.text * MODERATE:
        return 0.0
    if titles >= limits.title * MODERATE:
        return jaccard + 0.1
    if min(me.shingles, them.shingles) >= CONTAINMENT_MIN_SHINGLES:
        common = jaccard * (me.shingles + them.shingles) / (1.0 + jaccard)
        if common / min(me.shingles, them.shingles) >= CONTAINMENT:
            return jaccard + 0.1
    return 0.0


def _loosely_similar(me: _Known, lead: _Known, limits: _Thresholds) -> bool:
    """Whether an entry is near enough a story's lead to join the story through another
    member: texts somewhat alike, or alike titles; True when the two cannot be compared (a
    post without a headline's words)."""
    jaccard = _jaccards(me, [(0, lead)]).get(0)
    if jaccard is not None and jaccard >= limits.text * MODERATE:
        return True
    similar = ft.title_similarity(me.terms, me.key_terms, lead.terms, lead.key_terms)
    if similar >= (limits.title if jaccard is not None else limits.title * LEAD_TITLE):
        return True
    comparable = jaccard is not None or (
        len(me.terms - {ft.CUT}) >= ft.MIN_TITLE_TERMS
        and len(lead.terms - {ft.CUT}) >= ft.MIN_TITLE_TERMS
    )
    return not comparable

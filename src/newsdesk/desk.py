"""The operations a user asks for (subscribe, import, refresh, list, search, digest), shared by
the CLI, the web pages and the APIs. A ``Desk`` holds the settings and the store."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from newsdesk.errors import (
    AlreadySubscribedError,
    EntryNotFoundError,
    NewsdeskError,
    NotAFeedError,
    ParseError,
)
from newsdesk.model import Feed, FeedOptions, StoredEntry
from newsdesk.process.urls import canonical_url, is_web_url
from newsdesk.settings import Settings
from newsdesk.store import EntryQuery, SqlStore, open_store

# The fetch, parse and refresh stages, the digest and the store's parts are imported when a
# method needs them: a refresh never loads what it does not use.
if TYPE_CHECKING:
    from newsdesk.enrich import EnrichReport
    from newsdesk.publish.digest import Shared, StoryGroup
    from newsdesk.refresh import Progress, RefreshReport
    from newsdesk.store.entities import Entity
    from newsdesk.store.retention import RetentionReport
    from newsdesk.store.rules import Rule
    from newsdesk.store.sync import SyncQuery
    from newsdesk.store.users import Preferences, User

_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.I)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(slots=True)
class ImportReport:
    added: list[Feed]
    skipped: list[str]


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """``24h``, ``7d``, ``90m``, ``2w`` (a duration back from now) or an ISO date/time (UTC)."""
    now = now or datetime.now(UTC)
    try:
        if match := _DURATION.match(value):
            return now - timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:  # 99999999999d, or year 1 moved to UTC: before year 1 or after 9999
        raise NewsdeskError(f"{value[:40]!r} is too far back or ahead (years 1 to 9999)") from None
    except ValueError:
        raise NewsdeskError(
            f"cannot read {value[:40]!r} as a date or duration (try 24h, 7d, 2024-02-27 or "
            "2024-02-27T12:00:00Z)"
        ) from None


class Desk:
    """The service layer. ``desk.as_person(user)`` is the desk of one person (issue 15): its
    store sees what they follow or is shared with them, and their own state. A desk with no
    person (``desk.person is None``) is the system's: the pipeline, admin work."""

    def __init__(self, settings: Settings, store: SqlStore | None = None) -> None:
        self.settings = settings
        self.store = store or open_store(settings.resolved_database_url)
        self.store.default_category = settings.default_category
        self.person: User | None = None

    def as_person(self, person: User) -> Desk:
        """This desk for one person: same settings and database, their view of it."""
        desk = Desk(self.settings, self.store.as_person(person.id))
        desk.person = person
        return desk

    def for_name(self, name: str | None = None) -> Desk:
        """The desk of the person named (``--user NAME``), or of the first admin: a clear error
        when there is no such person."""
        return self.as_person(self.store.users.person(name))

    def close(self) -> None:
        self.store.close()

    def cleanup(
        self,
        *,
        keep_days: int | None = None,
        dry_run: bool = False,
        on_batch: Callable[[RetentionReport], None] | None = None,
    ) -> RetentionReport:
        """Apply everyone's retention to every feed (``store.retention``): the system's desk
        or an admin's. ``keep_days`` replaces everyone's ``keep_days`` for this run."""
        if self.person is not None and not self.person.is_admin:
            raise NewsdeskError("only an admin cleans up the desk")
        return self.store.retention.apply(
            keep_days=keep_days,
            dry_run=dry_run,
            batch_size=self.settings.retention_batch,
            on_batch=on_batch,
        )

    # -- subscriptions ------------------------------------------------------------------------

    async def find_feed_url(
        self, url: str, headers: dict[str, str] | None = None
    ) -> tuple[str, str | None]:
        """The feed at ``url``, or the first feed the page at ``url`` links to; ``headers``:
        the feed's own (``store.feed_options.request_headers``)."""
        from yarl import URL

        from newsdesk.fetch import HttpClient
        from newsdesk.fetch.guard import check_url, parse_networks
        from newsdesk.parse import discover_feeds, parse_feed

        if not is_web_url(url):
            raise NewsdeskError(f"{url!r} is not an http(s) URL")
        check_url(
            URL(url),
            allow_private=self.settings.allow_private_networks,
            allowed=parse_networks(self.settings.allowed_networks),
        )
        async with HttpClient(self.settings) as client:
            result = await client.fetch(url, headers=headers)
            if result.error:
                raise NewsdeskError(f"cannot fetch {url}: {result.error}")
            try:
                parsed = parse_feed(result.body, result.final_url, result.content_type)
                return result.final_url, parsed.title
            except NotAFeedError:
                candidates = discover_feeds(result.body, result.final_url)
            except ParseError as exc:
                raise NewsdeskError(f"{url} is not a feed: {exc}") from None
            for candidate, _title in candidates:
                found = await client.fetch(candidate, headers=headers)
                if found.error:
                    continue
                try:
                    parsed = parse_feed(found.body, found.final_url, found.content_type)
                except ParseError:
                    continue
                return found.final_url, parsed.title
        raise NewsdeskError(f"{url} is a web page that links to no feed Newsdesk can read")

    async def subscribe(
        self,
        url: str,
        *,
        title: str | None = None,
        category: str | None = None,
        check: bool = True,
        options: Mapping[str, Any] | None = None,
    ) -> Feed:
        """Subscribe to the feed at ``url``, or (with ``check``, the default) to the first feed
        the page at ``url`` links to; nothing is saved when no feed can be read there. Every face
        subscribes through here (CLI, pages, native, Miniflux and Google Reader APIs).

        Raises ``AlreadySubscribedError`` (its ``feed`` is the subscription) when ``url`` or the
        feed found there is subscribed already, checked before anything is fetched too; a
        ``NewsdeskError`` saying why when ``url`` is not http(s) or holds no feed. The returned
        feed's ``title`` is the one the feed gave while being found (until its first refresh
        stores it).

        ``options`` (issue 16, ``store.feed_options.CHANGE_NAMES``) are the feed's own, used
        from the first fetch on; with a secret (cookie, headers, credentials) the feed is the
        person's private copy of the URL."""
        from newsdesk.store import feed_options as fo

        if not is_web_url(url):
            raise NewsdeskError(f"{url!r} is not an http(s) URL")
        changes = fo.check_changes(options or {})
        await asyncio.to_thread(self._not_subscribed, url)
        feed_url, found_title = url, None
        if check:
            headers = fo.request_headers(*fo.merged(FeedOptions(), fo.NO_SECRETS, changes))
            feed_url, found_title = await self.find_feed_url(url, headers or None)
            if feed_url != url:
                await asyncio.to_thread(self._not_subscribed, feed_url)
        private = fo.holds_secret(changes)
        try:
            feed = await asyncio.to_thread(
                self.store.add_feed, feed_url, title=title, category=category, private=private
            )
        except AlreadySubscribedError as exc:  # subscribed at this very moment by another call
            known = await asyncio.to_thread(self.store.get_feed, feed_url)
            raise AlreadySubscribedError(str(exc), known) from None
        if changes:
            try:
                feed = await asyncio.to_thread(self.set_feed_options, feed.id, changes)
            except NewsdeskError:  # options this person may not set here: not subscribed
                await asyncio.to_thread(self.store.remove_feed, feed.id)
                raise
        feed.title = feed.title or found_title
        return feed

    def set_feed_options(self, feed_id: int, options: Mapping[str, Any]) -> Feed:
        """Change how a feed the person follows is fetched (``store.feed_options``): the feed
        as they now see it (another id when a secret made them a private copy)."""
        from newsdesk.store.feed_options import check_changes
        from newsdesk.store.server_key import server_key

        changes = check_changes(options)
        key = server_key(self.settings)
        return self.store.feed_options.change(feed_id, changes, server_key=key)

    def _not_subscribed(self, url: str) -> None:
        known = next((f for f in self.store.list_feeds() if f.url == url), None)
        if known is not None:
            raise AlreadySubscribedError(f"already subscribed to {url}", known)

    def import_opml(self, data: bytes) -> ImportReport:
        from newsdesk.parse import parse_opml

        outlines = parse_opml(data)
        existing = {f.url for f in self.store.list_feeds()}
        report = ImportReport(added=[], skipped=[])
        wanted: list[tuple[str, str | None, str | None]] = []
        for outline in outlines:
            if outline.url in existing or not is_web_url(outline.url):
                report.skipped.append(outline.url)
                continue
            wanted.append((outline.url, outline.title, outline.category))
            existing.add(outline.url)
        report.added = self.store.list_feeds(self.store.add_feeds(wanted))
        return report

    def export_opml(self) -> str:
        from newsdesk.parse import Outline, render_opml

        return render_opml(
            Outline(url=f.url, title=f.display_title, category=f.category, site_url=f.site_url)
            for f in self.store.list_feeds()
        )

    def resolve_feed(self, ref: str) -> Feed:
        return self.store.get_feed(ref)

    # -- refresh ------------------------------------------------------------------------------

    async def refresh_async(
        self,
        *,
        feed_ids: Sequence[int] | None = None,
        due_only: bool = False,
        fulltext: bool | None = None,
        progress: Progress | None = None,
    ) -> RefreshReport:
        """Refresh the feeds (all not paused, these, or the due ones), enrich what is new. A
        person's desk refreshes the feeds they see (each fetched once, whoever follows it)."""
        from newsdesk.refresh import refresh_feeds

        if self.person is not None:
            feed_ids = await asyncio.to_thread(self._person_feed_ids, feed_ids, due_only)
            due_only = False
        return await refresh_feeds(
            self.store.as_system(),
            self.settings,
            feed_ids=feed_ids,
            due_only=due_only,
            fulltext=fulltext,
            progress=progress,
        )

    def _person_feed_ids(self, wanted: Sequence[int] | None, due_only: bool) -> list[int]:
        now = datetime.now(UTC)
        seen = self.store.list_feeds(wanted)
        if wanted is not None:
            return [f.id for f in seen]
        return [
            f.id
            for f in seen
            if not f.paused and (not due_only or f.next_check is None or f.next_check <= now)
        ]

    # -- re-extraction --------------------------------------------------------------------------

    async def refetch_async(self, entry_ids: Sequence[int]) -> RefetchReport:
        """Extract these entries again, now: an article's page and the pages a post shares are
        fetched anew (not read from the ``pages`` cache, which is updated), a post's short links
        expanded. Unknown ids raise ``EntryNotFoundError`` naming them, before any fetch."""
        from newsdesk.enrich import refetch_entries
        from newsdesk.fetch import HttpClient

        wanted = list(dict.fromkeys(entry_ids))
        if not wanted:
            raise EntryNotFoundError("name at least one entry id")
        found = await asyncio.to_thread(self._entries_in_order, wanted)
        feeds = await asyncio.to_thread(self.store.list_feeds, {e.feed_id for e in found})
        async with HttpClient(self.settings) as client:
            report = await refetch_entries(
                self.store,
                client,
                self.settings,
                [e for e in found if extractable(e)],
                executor=None,
                now=datetime.now(UTC),
                options={f.id: f.options for f in feeds},  # each feed's extraction rule
            )
        return RefetchReport(await asyncio.to_thread(self._entries_in_order, wanted), report)

    def _entries_in_order(self, ids: list[int]) -> list[StoredEntry]:
        found = {e.id: e for e in self.store.list_entries(EntryQuery(ids=ids, limit=len(ids)))}
        missing = [i for i in ids if i not in found]
        if missing:
            names = ", ".join(map(str, missing))
            raise EntryNotFoundError(
                f"no entry with id {names}" if len(missing) == 1 else f"no entries with ids {names}"
            )
        return [found[i] for i in ids]

    # -- reading ------------------------------------------------------------------------------

    def entries(self, query: EntryQuery) -> list[StoredEntry]:
        return self.store.list_entries(query)

    def search(self, text: str, query: EntryQuery) -> list[StoredEntry]:
        return self.store.search(text, query)

    def index_queued_search(self) -> int:
        """Index the entries a first import left queued for the search index (the background
        job does it otherwise); how many. For a command that searches once, from a terminal:
        a page never waits for this."""
        return self.store.index_queued_search()

    def queued_search_count(self) -> int:
        """Entries stored but not yet in the search index (a first import's, until the
        background job indexes them)."""
        return self.store.queued_search_count()

    def count_search(self, text: str, query: EntryQuery) -> int:
        """How many entries of ``query``'s filters ``search(text, query)`` would find in all."""
        return self.store.count_matching(text, within=query)

    def shared_articles(self, entry: StoredEntry) -> list[Shared]:
        """What a post points to: related entries first, else the pages fetched for its links."""
        from newsdesk.publish.digest import Shared

        if entry.kind != "post":
            return []
        found: list[Shared] = []
        seen: set[str] = set()
        if entry.related:
            for other in self.store.list_entries(EntryQuery(ids=entry.related, limit=20)):
                if other.kind == "article" and other.url:
                    found.append(Shared(other.title or other.url, other.url))
                    seen.add(canonical_url(other.url))
        pages = self.store.get_pages([u for u in entry.links if u not in seen])
        for url in entry.links:
            page = pages.get(url)
            if page and not page.error and page.title and url not in seen:
                found.append(Shared(page.title, page.final_url or url))
                seen.add(url)
        return found

    def digest(
        self,
        *,
        since: datetime | None = None,
        category: str | None = None,
        fmt: str = "text",
        limit: int = 500,
        group_stories: bool = False,
    ) -> str:
        """The digest; with ``group_stories`` a story's members come under its lead, once."""
        from newsdesk.publish.digest import render_digest

        entries = self.store.list_entries(EntryQuery(since=since, category=category, limit=limit))
        groups = self.story_groups(entries, lead_first=True) if group_stories else None
        return render_digest(entries, fmt, self.shared_articles, groups)

    # -- stories: one card, one mark, one group for all of a story's entries --------------------

    def story_groups(self, entries: Sequence[StoredEntry], *, lead_first: bool) -> list[StoryGroup]:
        """``entries`` with each story's members folded into one group, where its first member
        stood; headed by the story's lead when ``lead_first`` (a digest) and the lead is there,
        else by that first member (a search's best match)."""
        from newsdesk.publish.digest import group_by_story

        leads: dict[int, int | None] = {}
        if lead_first:
            ids = {e.story_id for e in entries if e.story_id is not None}
            leads = {i: s.lead_entry_id for i, s in self.store.stories.story_summaries(ids).items()}
        return group_by_story(entries, leads)

    def mark(
        self, ids: Sequence[int], *, read: bool | None = None, starred: bool | None = None
    ) -> int:
        """Mark entries read or unread, starred or not; how many changed."""
        return self.store.set_flags(ids, read=read, starred=starred)

    # -- reading habits (issue 16): the person's preferences -------------------------------------

    def open_entry(self, entry_id: int) -> StoredEntry:
        """An entry as its page opens it: marked read when the person's ``mark_read_on_open``
        is on (the default). Raises ``NewsdeskError`` for an entry the person does not see."""
        entry = self.store.get_entry(entry_id)
        if self.marks_on_open(entry):
            self.mark([entry.id], read=True)
            entry.read = True
        return entry

    def marks_on_open(self, entry: StoredEntry) -> bool:
        """Whether opening ``entry`` marks it read: it is unread, and the person keeps
        ``mark_read_on_open`` on (the default)."""
        return not entry.read and (self.person is None or self.person.preferences.mark_read_on_open)

    def set_preferences(self, changes: Mapping[str, object]) -> Preferences:
        """Change some of the person's reading habits (``store.users.Preferences`` names them;
        an unknown name or a value not a bool is a ``NewsdeskError``); the preferences now."""
        if self.person is None:
            raise NewsdeskError("preferences are a person's: choose one (--user NAME)")
        found = self.store.users.set_preferences(self.person.id, changes)
        self.person = replace(self.person, preferences=found)
        return found

    def resolve_entity(self, ref: str) -> Entity:
        """The one reading of an entity reference every face uses: an id; else an exact name,
        key or alias (ignoring case; the most mentioned of several); else a single fuzzy match.
        Raises ``EntityNotFoundError`` or ``AmbiguousEntityError`` (naming up to five)."""
        return self.store.entities.resolve(ref)

    def mark_story(self, story_id: int, read: bool) -> int:
        """Mark every entry of a story read or unread; how many changed."""
        return self.store.reading.mark_story(story_id, read)

    def feed_dicts(self) -> list[dict[str, Any]]:
        return [f.as_dict() for f in self.store.list_feeds()]

    def mark_view_read(self, query: EntryQuery, older_than: datetime | None = None) -> int:
        """Mark read every unread entry of a view (the entries ``query`` filters to), only those
        published before ``older_than`` when given: the pages' "mark all read"; how many
        changed."""
        return self.store.reading.mark_view_read(query, older_than)

    def mark_matching(self, query: SyncQuery, read: bool = True) -> int:
        """Mark every entry ``query`` matches read (or unread): a feed, a category, everything
        before a date; how many changed."""
        return self.store.sync.mark_read(query, read)

    # -- rules (issue 16): when an entry matches a query, do actions ---------------------------

    def rules(self) -> list[Rule]:
        """The person's rules, in the order they apply."""
        return self.store.rules.list()

    def rule(self, rule_id: int) -> Rule:
        return self.store.rules.get(rule_id)

    def add_rule(
        self,
        query: str,
        actions: str | Sequence[str],
        name: str | None = None,
        *,
        enabled: bool = True,
    ) -> Rule:
        """A new rule of the person's, after their others. ``actions``: comma-separated text
        (``star,tag:smirnov``) or a list; ``name`` defaults to the query. A query that does
        not parse, an unknown action or watchlist is a ``NewsdeskError``."""
        from newsdesk.rules import parse_actions

        return self.store.rules.add(
            name if name and name.strip() else query[:200],
            query,
            parse_actions(actions),
            enabled=enabled,
        )

    def update_rule(
        self,
        rule_id: int,
        *,
        name: str | None = None,
        query: str | None = None,
        actions: str | Sequence[str] | None = None,
        enabled: bool | None = None,
    ) -> Rule:
        """Change what is given (None: keep), checked as when added."""
        from newsdesk.rules import parse_actions

        parsed = None if actions is None else parse_actions(actions)
        return self.store.rules.update(
            rule_id, name=name, query=query, actions=parsed, enabled=enabled
        )

    def remove_rule(self, rule_id: int, *, unblock: bool = False) -> int:
        """Delete one of the person's rules; with ``unblock``, show again the entries it
        blocked (how many)."""
        return self.store.rules.remove(rule_id, unblock=unblock)

    def unblock_rule(self, rule_id: int) -> int:
        """Show again the entries one of the person's rules blocked; how many."""
        return self.store.rules.unblock(rule_id)

    def reorder_rules(self, ids: Sequence[int]) -> list[Rule]:
        """The person's rules in the order of ``ids`` (the others after them, as they were)."""
        return self.store.rules.reorder(ids)

    def test_rule(self, query: str, limit: int = 20) -> tuple[int, list[StoredEntry]]:
        """How many stored entries the person sees ``query`` would take, and the first
        ``limit`` of them, newest first (nothing is changed)."""
        from newsdesk.query import parse
        from newsdesk.store.rules import check_query

        self.store.require_person()
        parsed = parse(check_query(query))
        count = self.store.count_matching(parsed)
        ids = self.store.matching_ids(parsed, limit=limit) if count and limit > 0 else []
        return count, self._entries_in_order(ids) if ids else []

    def apply_rule(self, rule_id: int) -> int:
        """Apply one of the person's rules to the stored entries they see (enabled or not);
        how many entries changed."""
        from newsdesk.rules import apply_rule

        return apply_rule(self.store.rules, self.store.rules.get(rule_id))


# -- re-extraction: what Desk.refetch reports ------------------------------------------------


@dataclass(slots=True)
class RefetchReport:
    """What ``Desk.refetch`` did: the entries as they are now, and the pages read."""

    entries: list[StoredEntry]
    enrich: EnrichReport

    @property
    def failed(self) -> list[StoredEntry]:
        return [e for e in self.entries if e.fulltext_status == "failed"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "pages_fetched": self.enrich.pages_fetched,
            "links_expanded": self.enrich.links_expanded,
            "fulltext_done": self.enrich.fulltext_done,
            "fulltext_failed": self.enrich.fulltext_failed,
            "entries": [
                {
                    "id": e.id,
                    "kind": e.kind,
                    "url": e.url,
                    "extractable": extractable(e),
                    "fulltext_status": e.fulltext_status,
                    "fulltext_error": e.fulltext_error,
                    "links": list(e.links),
                }
                for e in self.entries
            ],
        }


def extractable(entry: StoredEntry) -> bool:
    """Whether re-extraction has anything to read: an article's page, or pages a post shares."""
    if entry.kind == "post":
        return any(is_web_url(u) for u in entry.links)
    return is_web_url(entry.url)

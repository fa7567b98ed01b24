"""``SqlStore``: the core (``CoreStore``: feeds, entries, search, the refresh writer, on
SQLAlchemy Core for SQLite and PostgreSQL) and the domain parts attached in ``__init__``
(``store.users``, ``store.labels`` …), each a class of its own module over the same engine,
made (and its module imported) on first use: a refresh never loads the parts it does not need.

Deduplication is the database's job: ``unique (feed_id, key)`` on entries. Each refresh of a feed
is one transaction: its fetch state, new and changed entries, their links and tags, and (through
triggers or a generated column) the search index.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Self

from newsdesk.store.core import DEFAULT_CATEGORY, CoreStore
from newsdesk.store.sql_entries import RANK_WINDOW

if TYPE_CHECKING:
    from newsdesk.store.alerts import AlertStore
    from newsdesk.store.editing import EditingStore
    from newsdesk.store.entities import EntityStore
    from newsdesk.store.events import EventStore
    from newsdesk.store.feed_options import FeedOptionStore
    from newsdesk.store.icons import IconStore
    from newsdesk.store.intel import IntelStore
    from newsdesk.store.labels import LabelStore
    from newsdesk.store.leases import LeaseStore
    from newsdesk.store.portable import PortableStore
    from newsdesk.store.reading import ReadingStore
    from newsdesk.store.retention import RetentionStore
    from newsdesk.store.rules import RuleStore
    from newsdesk.store.saved_searches import SavedSearchStore
    from newsdesk.store.sharing import SharingStore
    from newsdesk.store.stories import StoryStore
    from newsdesk.store.sync import SyncStore
    from newsdesk.store.throttle import ThrottleStore
    from newsdesk.store.tokens import TokenStore
    from newsdesk.store.two_factor import TwoFactorStore
    from newsdesk.store.users import UserStore
    from newsdesk.store.watchlists import WatchlistStore

__all__ = ["DEFAULT_CATEGORY", "RANK_WINDOW", "SqlStore", "open_store"]


class SqlStore(CoreStore):
    """The store every face and stage is handed: the core (``CoreStore``) and one part per
    domain, each a class of its own module over the same engine (one property each,
    alphabetical).

    ``store.as_person(id)`` is the same store as one person sees it (issue 15): every
    person-facing query of the core and of the parts is limited to what that person follows
    or is shared with them, and reads and writes their own state. The faces hold one for the
    person asking; the pipeline stages hold the store itself (no person: every feed)."""

    def _scoped(self, person: int | None) -> Self:
        """Same engine, the parts made afresh for the new view (cheap)."""
        scoped = super()._scoped(person)
        for name, attribute in vars(SqlStore).items():
            if isinstance(attribute, cached_property):
                scoped.__dict__.pop(name, None)
        return scoped

    @cached_property
    def alerts(self) -> AlertStore:
        from newsdesk.store.alerts import AlertStore

        return AlertStore(self.engine)

    @cached_property
    def editing(self) -> EditingStore:
        from newsdesk.store.editing import EditingStore

        return EditingStore(self)

    @cached_property
    def entities(self) -> EntityStore:
        from newsdesk.store.entities import EntityStore

        return EntityStore(self.engine, self.person_id)

    @cached_property
    def events(self) -> EventStore:
        from newsdesk.store.events import EventStore

        return EventStore(self.engine, self.person_id)

    @cached_property
    def feed_options(self) -> FeedOptionStore:
        from newsdesk.store.feed_options import FeedOptionStore

        return FeedOptionStore(self)

    @cached_property
    def icons(self) -> IconStore:
        from newsdesk.store.icons import IconStore

        return IconStore(self.engine)

    @cached_property
    def intel(self) -> IntelStore:
        from newsdesk.store.intel import IntelStore

        return IntelStore(self.engine, self.person_id, rules=self.as_system().rules)

    @cached_property
    def labels(self) -> LabelStore:
        from newsdesk.store.labels import LabelStore

        return LabelStore(self)

    @cached_property
    def leases(self) -> LeaseStore:
        from newsdesk.store.leases import LeaseStore

        return LeaseStore(self.engine)

    @cached_property
    def portable(self) -> PortableStore:
        from newsdesk.store.portable import PortableStore

        return PortableStore(self.engine)

    @cached_property
    def reading(self) -> ReadingStore:
        from newsdesk.store.reading import ReadingStore

        return ReadingStore(self)

    @cached_property
    def rules(self) -> RuleStore:
        from newsdesk.store.rules import RuleStore

        return RuleStore(self)

    @cached_property
    def retention(self) -> RetentionStore:
        from newsdesk.store.retention import RetentionStore

        return RetentionStore(self.engine, self.person_id)

    @cached_property
    def saved_searches(self) -> SavedSearchStore:
        from newsdesk.store.saved_searches import SavedSearchStore

        return SavedSearchStore(self.engine, self.person_id)

    @cached_property
    def sharing(self) -> SharingStore:
        from newsdesk.store.sharing import SharingStore

        return SharingStore(self.engine, self.person_id)

    @cached_property
    def stories(self) -> StoryStore:
        from newsdesk.store.stories import StoryStore

        return StoryStore(self)

    @cached_property
    def sync(self) -> SyncStore:
        from newsdesk.store.sync import SyncStore

        return SyncStore(self)

    @cached_property
    def throttle(self) -> ThrottleStore:
        from newsdesk.store.throttle import ThrottleStore

        return ThrottleStore(self.engine)

    @cached_property
    def tokens(self) -> TokenStore:
        from newsdesk.store.tokens import TokenStore

        return TokenStore(self.engine, self.person_id)

    @cached_property
    def two_factor(self) -> TwoFactorStore:
        from newsdesk.store.two_factor import TwoFactorStore

        return TwoFactorStore(self.engine)

    @cached_property
    def users(self) -> UserStore:
        from newsdesk.store.users import UserStore

        return UserStore(self.engine)

    @cached_property
    def watchlists(self) -> WatchlistStore:
        from newsdesk.store.watchlists import WatchlistStore

        return WatchlistStore(self.engine, self.person_id)


def open_store(url: str) -> SqlStore:
    """Open (creating and migrating as needed) the database at ``url``."""
    return SqlStore(url)

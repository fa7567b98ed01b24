"""``SqlStore``: the core (``CoreStore``: feeds, entries, search, the refresh writer, on
SQLAlchemy Core for SQLite and PostgreSQL) and the domain parts attached in ``__init__``
(``store.users``, ``store.labels`` …), each a class of its own module over the same engine.

Deduplication is the database's job: ``unique (feed_id, key)`` on entries. Each refresh of a feed
is one transaction: its fetch state, new and changed entries, their links and tags, and (through
triggers or a generated column) the search index.
"""

from __future__ import annotations

from newsdesk.store.alerts import AlertStore
from newsdesk.store.core import DEFAULT_CATEGORY, CoreStore
from newsdesk.store.editing import EditingStore
from newsdesk.store.entities import EntityStore
from newsdesk.store.events import EventStore
from newsdesk.store.icons import IconStore
from newsdesk.store.intel import IntelStore
from newsdesk.store.labels import LabelStore
from newsdesk.store.leases import LeaseStore
from newsdesk.store.portable import PortableStore
from newsdesk.store.reading import ReadingStore
from newsdesk.store.saved_searches import SavedSearchStore
from newsdesk.store.sql_entries import RANK_WINDOW
from newsdesk.store.stories import StoryStore
from newsdesk.store.sync import SyncStore
from newsdesk.store.throttle import ThrottleStore
from newsdesk.store.tokens import TokenStore
from newsdesk.store.users import UserStore
from newsdesk.store.watchlists import WatchlistStore

__all__ = ["DEFAULT_CATEGORY", "RANK_WINDOW", "SqlStore", "open_store"]


class SqlStore(CoreStore):
    """The store every face and stage is handed: the core (``CoreStore``) and one part per
    domain, each a class of its own module over the same engine."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        # parts (one line each, ``self.NAME = NameStore(self.engine)``, alphabetical by NAME)
        self.alerts = AlertStore(self.engine)
        self.editing = EditingStore(self)
        self.entities = EntityStore(self.engine)
        self.events = EventStore(self.engine)
        self.icons = IconStore(self.engine)
        self.intel = IntelStore(self.engine)
        self.labels = LabelStore(self)
        self.leases = LeaseStore(self.engine)
        self.portable = PortableStore(self.engine)
        self.reading = ReadingStore(self)
        self.saved_searches = SavedSearchStore(self.engine)
        self.stories = StoryStore(self.engine)
        self.sync = SyncStore(self)
        self.throttle = ThrottleStore(self.engine)
        self.tokens = TokenStore(self.engine)
        self.users = UserStore(self.engine)
        self.watchlists = WatchlistStore(self.engine)


def open_store(url: str) -> SqlStore:
    """Open (creating and migrating as needed) the database at ``url``."""
    return SqlStore(url)

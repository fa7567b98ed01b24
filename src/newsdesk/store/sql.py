"""``SqlStore``: the Storage protocol on SQLAlchemy Core, for SQLite and PostgreSQL.

The class is put together from pieces, one module each: feeds and categories (``sql_feeds``),
entry reads and search (``sql_entries``), the refresh writer (``sql_refresh``) and what
enrichment stores (``sql_enrichment``). The other domains are parts attached in ``__init__``
(``store.users``, ``store.labels`` …), each a class of its own module over the same engine.

Deduplication is the database's job: ``unique (feed_id, key)`` on entries. Each refresh of a feed
is one transaction: its fetch state, new and changed entries, their links and tags, and (through
triggers or a generated column) the search index.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from newsdesk.errors import StoreError
from newsdesk.store.alerts import AlertStore
from newsdesk.store.editing import EditingStore
from newsdesk.store.engine import create_store_engine
from newsdesk.store.entities import EntityStore
from newsdesk.store.events import EventStore
from newsdesk.store.icons import IconStore
from newsdesk.store.intel import IntelStore
from newsdesk.store.labels import LabelStore
from newsdesk.store.leases import LeaseStore
from newsdesk.store.migrations import migrate
from newsdesk.store.portable import PortableStore
from newsdesk.store.reading import ReadingStore
from newsdesk.store.saved_searches import SavedSearchStore
from newsdesk.store.sql_enrichment import EnrichmentWriter
from newsdesk.store.sql_entries import RANK_WINDOW, EntryQueries
from newsdesk.store.sql_feeds import FeedQueries
from newsdesk.store.sql_refresh import RefreshWriter
from newsdesk.store.stories import StoryStore
from newsdesk.store.sync import SyncStore
from newsdesk.store.throttle import ThrottleStore
from newsdesk.store.tokens import TokenStore
from newsdesk.store.users import UserStore
from newsdesk.store.watchlists import WatchlistStore

__all__ = ["DEFAULT_CATEGORY", "RANK_WINDOW", "SqlStore", "open_store"]

DEFAULT_CATEGORY = "General"  # the default of the ``default_category`` setting


class SqlStore(FeedQueries, EntryQueries, RefreshWriter, EnrichmentWriter):
    """The one place that writes SQL (with the store modules its parts live in)."""

    def __init__(self, url: str) -> None:
        self.url = url
        # A feed subscribed without a category goes here (the Desk sets it from the settings).
        self.default_category = DEFAULT_CATEGORY
        self.engine = create_store_engine(url)
        self.dialect = self.engine.dialect.name
        try:
            migrate(self.engine)
        except OperationalError as exc:
            self.engine.dispose()
            raise StoreError(f"cannot open the database {self._safe_url()}: {exc.orig}") from None
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise StoreError(f"cannot prepare the database {self._safe_url()}: {exc}") from None
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

    def _safe_url(self) -> str:
        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except Exception:
            return "(invalid URL)"

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str) -> SqlStore:
    """Open (creating and migrating as needed) the database at ``url``."""
    return SqlStore(url)

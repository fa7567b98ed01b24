"""``CoreStore``: the store's core on SQLAlchemy Core, for SQLite and PostgreSQL — feeds and
categories (``sql_feeds``), entry reads and search (``sql_entries``), the refresh writer
(``sql_refresh``) and what enrichment stores (``sql_enrichment``). ``SqlStore`` (``sql.py``) adds
the domain parts; the parts that build on the core's queries (reading, sync, labels, editing)
take a ``CoreStore``."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from newsdesk.errors import StoreError
from newsdesk.store.engine import create_store_engine, shared_url
from newsdesk.store.feed_totals import FeedTotals
from newsdesk.store.migrations import migrate
from newsdesk.store.sql_enrichment import EnrichmentWriter
from newsdesk.store.sql_entries import EntryQueries
from newsdesk.store.sql_feeds import FeedQueries
from newsdesk.store.sql_refresh import RefreshWriter

DEFAULT_CATEGORY = "General"  # the default of the ``default_category`` setting


class CoreStore(FeedQueries, EntryQueries, RefreshWriter, EnrichmentWriter):
    """Opens (creating and migrating as needed) the database at ``url``."""

    def __init__(self, url: str) -> None:
        self.url = url
        # A feed subscribed without a category goes here (the Desk sets it from the settings).
        self.default_category = DEFAULT_CATEGORY
        # Entries per feed, kept in memory on SQLite (shared by every view of this store).
        self.feed_totals = FeedTotals()
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

    @property
    def shared_url(self) -> str | None:
        """The URL another process opens this database with (a big refresh's parse workers
        write through it); None for an in-memory SQLite database, which only this one sees."""
        return shared_url(self.url)

    def _safe_url(self) -> str:
        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except Exception:
            return "(invalid URL)"

    def close(self) -> None:
        self.engine.dispose()

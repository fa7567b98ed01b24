"""Storage: the Storage protocol and its SQLAlchemy Core implementation (SQLite, PostgreSQL)."""

from newsdesk.store.protocols.refresh import EntryQuery, FeedState, Storage, StoreResult
from newsdesk.store.sql import SqlStore, open_store

__all__ = ["EntryQuery", "FeedState", "SqlStore", "Storage", "StoreResult", "open_store"]

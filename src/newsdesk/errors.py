"""The one base error class of Newsdesk and its family. Messages are written for users."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsdesk.model import Feed


class NewsdeskError(Exception):
    """Base class: anything Newsdesk reports as a clear message instead of a traceback."""


class FetchError(NewsdeskError):
    """An HTTP fetch failed (network, status, limits, SSRF guard)."""


class BlockedAddressError(FetchError):
    """The SSRF guard refused a URL or the address it resolves to."""


class ParseError(NewsdeskError):
    """The bytes are not a feed we can read."""


class NotAFeedError(ParseError):
    """The document is an HTML page (or something else), not a feed."""


class StoreError(NewsdeskError):
    """The database cannot be opened or used."""


class ConcurrentWriteError(StoreError):
    """Another process wrote the same rows at the same moment; this write was rolled back."""


class AlreadySubscribedError(NewsdeskError):
    """The feed is already among the subscriptions; ``feed`` is that subscription when known."""

    def __init__(self, message: str, feed: Feed | None = None) -> None:
        super().__init__(message)
        self.feed = feed


class FeedNotFoundError(NewsdeskError):
    """No subscribed feed matches the given id or URL."""


class EntryNotFoundError(NewsdeskError):
    """No stored entry has the given id."""


class EntityNotFoundError(NewsdeskError):
    """No entity answers to the given id or name."""


class AmbiguousEntityError(NewsdeskError):
    """Several entities answer to a name, none of them exactly: the message names a few."""

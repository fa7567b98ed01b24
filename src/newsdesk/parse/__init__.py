"""Parsing: bytes (+ content type) → ParsedFeed; OPML in and out; feed discovery in HTML.

The names below are loaded on first use (PEP 562): importing a light submodule such as
``parse.links`` or ``parse.dates`` must not load the parser stack (lxml and the feed parsers),
which an unchanged refresh (all 304) never needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from newsdesk.util import lazy_exports

if TYPE_CHECKING:
    from newsdesk.parse.discover import discover_feeds
    from newsdesk.parse.feed import parse_feed
    from newsdesk.parse.opml import Outline, parse_opml, render_opml

__all__ = ["Outline", "discover_feeds", "parse_feed", "parse_opml", "render_opml"]

_HOMES = {
    "discover_feeds": "newsdesk.parse.discover",
    "parse_feed": "newsdesk.parse.feed",
    "Outline": "newsdesk.parse.opml",
    "parse_opml": "newsdesk.parse.opml",
    "render_opml": "newsdesk.parse.opml",
}

__getattr__ = lazy_exports(__name__, _HOMES)

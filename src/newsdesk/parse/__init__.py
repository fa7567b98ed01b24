"""Parsing: bytes (+ content type) → ParsedFeed; OPML in and out; feed discovery in HTML."""

from newsdesk.parse.discover import discover_feeds
from newsdesk.parse.feed import parse_feed
from newsdesk.parse.opml import Outline, parse_opml, render_opml

__all__ = ["Outline", "discover_feeds", "parse_feed", "parse_opml", "render_opml"]

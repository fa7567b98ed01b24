"""Republishing what Newsdesk gathers: digests (text, Markdown, HTML, JSON)."""

from newsdesk.publish.digest import DIGEST_FORMATS, render_digest

__all__ = ["DIGEST_FORMATS", "render_digest"]

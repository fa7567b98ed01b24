"""HTTP for Newsdesk: one client session with limits, conditional GET, the SSRF guard and
redirect-following link expansion.

The names below are loaded on first use (PEP 562): importing a light submodule (``fetch.icons``
for ``site_origin``) must not load aiohttp, which a refresh with nothing to fetch never needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from newsdesk.util import lazy_exports

if TYPE_CHECKING:
    from newsdesk.fetch.client import FEED_ACCEPT, HttpClient
    from newsdesk.fetch.guard import check_url, is_public_address

__all__ = ["FEED_ACCEPT", "HttpClient", "check_url", "is_public_address"]

_HOMES = {
    "FEED_ACCEPT": "newsdesk.fetch.client",
    "HttpClient": "newsdesk.fetch.client",
    "check_url": "newsdesk.fetch.guard",
    "is_public_address": "newsdesk.fetch.guard",
}

__getattr__ = lazy_exports(__name__, _HOMES)

"""HTTP for Newsdesk: one client session with limits, conditional GET, the SSRF guard and
redirect-following link expansion."""

from newsdesk.fetch.client import FEED_ACCEPT, HttpClient
from newsdesk.fetch.guard import check_url, is_public_address

__all__ = ["FEED_ACCEPT", "HttpClient", "check_url", "is_public_address"]

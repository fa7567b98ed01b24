"""How many fetches of a refresh run at once, overall and per host, and how many fetched
documents may wait for the writer."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlsplit

from newsdesk.settings import Settings

# The authority of an absolute URL, as ``urlsplit(url).netloc`` reads it, at a fraction of the cost.
_NETLOC = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#]*)")


class FetchGates:
    """How many fetches run at once, overall and per host, and how many fetched documents may
    wait for the writer."""

    def __init__(self, settings: Settings) -> None:
        self.per_host = settings.per_host_concurrency
        # No more than the connector's own limit: a request over it would wait in aiohttp's
        # connector, whose every release scans (and shuffles) all the hosts' waiters.
        self.fetching = asyncio.Semaphore(settings.concurrency)
        # Feeds wait for their host here (the connector enforces the same limit) so that a
        # graceful stop can tell the fetches in flight from those merely queued.
        self.hosts: dict[str, asyncio.Semaphore] = {}
        # Bounds the documents held between fetch and storage: when the writer is the
        # bottleneck, fetching waits instead of piling bodies up in memory.
        self.backlog = asyncio.Semaphore(settings.concurrency * 2)

    def host(self, url: str) -> asyncio.Semaphore:
        found = _NETLOC.match(url)
        host = (found.group(1) if found else urlsplit(url).netloc).lower()
        if host not in self.hosts:
            self.hosts[host] = asyncio.Semaphore(self.per_host)
        return self.hosts[host]

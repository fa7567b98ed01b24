"""A real ``newsdesk serve`` on loopback for tests that drive it with real clients (newsboat, the
``miniflux`` Python client), on a copy of the API tests' database. Its feeds come from the
sample server on loopback, hence ``allow_private_networks``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from child_server import serve


@contextmanager
def newsdesk_serve(db: Path) -> Iterator[str]:
    """``newsdesk serve`` on 127.0.0.1 over the SQLite file ``db``; yields the base URL
    (without a trailing slash). Its output goes to ``serve.log`` beside ``db``."""
    with serve(db, db.parent, log_name="serve.log", allow_private_networks="1") as served:
        yield served.base

"""Fixtures of the hostile-input suite: loopback servers on distinct loopback addresses.

``public`` listens on 127.0.0.2, which the tests' settings list in ``allowed_networks``: it plays
the part of a public web server while the SSRF guard stays on. ``private`` listens on 127.0.0.1,
which the guard must refuse: every SSRF test ends by asserting it received no request at all.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from newsdesk.settings import Settings

from .loopback import LoopbackServer

PUBLIC_HOST = "127.0.0.2"


@pytest.fixture
def public() -> Iterator[LoopbackServer]:
    server = LoopbackServer(PUBLIC_HOST).start()
    yield server
    server.stop()


@pytest.fixture
def private() -> Iterator[LoopbackServer]:
    server = LoopbackServer("127.0.0.1").start()
    yield server
    server.stop()


@pytest.fixture
def guarded() -> Settings:
    """The SSRF guard on, with only the ``public`` server's address allowed."""
    return Settings(
        allow_private_networks=False,
        allowed_networks=f"{PUBLIC_HOST}/32",
        fetch_timeout=5.0,
        max_redirects=5,
        fulltext=False,
        expand_links=False,
    )


@pytest.fixture
def open_settings() -> Settings:
    """For transport and feed tests, where the SSRF guard is not the subject."""
    return Settings(
        allow_private_networks=True,
        fetch_timeout=5.0,
        max_redirects=5,
        fulltext=False,
        expand_links=False,
    )

"""Transport abuse: decompression bombs, endless and drip-fed bodies, redirect loops, and
status codes with absurd hints. Each fetch ends with a clear error (or a sane schedule), within
the deadline, in bounded memory."""

from __future__ import annotations

import asyncio
import gzip
import time
import tracemalloc
import zlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import brotli
import pytest
from aiohttp import web

from newsdesk.fetch import HttpClient
from newsdesk.model import FetchResult
from newsdesk.refresh import refresh_sync
from newsdesk.settings import Settings
from newsdesk.store import open_store

from .loopback import LoopbackServer, RawServer

MB = 1024 * 1024
CAP = 2 * MB
FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed</title>'
    b"<item><title>one</title><guid>1</guid></item></channel></rss>"
)


def _zeros_compressed(make: Callable[[], object], megabytes: int) -> bytes:
    compressor = make()
    block = b"\0" * MB
    out = [compressor.compress(block) if hasattr(compressor, "compress") else b""]
    for _ in range(megabytes - 1):
        out.append(compressor.compress(block))  # type: ignore[attr-defined]
    out.append(compressor.flush())  # type: ignore[attr-defined]
    return b"".join(out)


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    """Bodies of zeros: gzip 64 MB (≈64 KB on the wire), deflate 64 MB, brotli 1 GB (≈2 KB)."""
    brotli_stream = brotli.Compressor(quality=5)
    block = b"\0" * MB
    brotli_body = b"".join(brotli_stream.process(block) for _ in range(1024))
    brotli_body += brotli_stream.finish()
    return {
        "gzip": _zeros_compressed(lambda: zlib.compressobj(9, zlib.DEFLATED, 31), 64),
        "deflate": _zeros_compressed(lambda: zlib.compressobj(9, zlib.DEFLATED, 15), 64),
        "br": brotli_body,
    }


@pytest.fixture
def capped(open_settings: Settings) -> Settings:
    return open_settings.replace(max_body_bytes=CAP)


async def fetch(settings: Settings, url: str) -> FetchResult:
    async with HttpClient(settings) as client:
        return await client.fetch(url)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
async def test_decompression_bombs_stop_at_the_body_cap_in_bounded_memory(
    encoding: str, bombs: dict[str, bytes], public: LoopbackServer, capped: Settings
) -> None:
    body = bombs[encoding]
    public.static("/bomb", body, headers={"Content-Encoding": encoding})
    tracemalloc.start()
    try:
        result = await fetch(capped, public.url("/bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.error is not None and "max_body_bytes" in result.error
    assert result.body == b""
    # The bomb inflates to 64 MB – 1 GB; what is held at once stays near the cap.
    assert peak < 32 * MB, f"peak {peak / MB:.0f} MB"
    print(f"{encoding} bomb: peak traced memory {peak / MB:.1f} MB")


@pytest.mark.parametrize("encoding", ["gzip", "br"])
async def test_a_compressed_feed_under_the_cap_is_read(
    encoding: str, public: LoopbackServer, capped: Settings
) -> None:
    """Positive control for the bomb tests: compression itself works."""
    body = gzip.compress(FEED) if encoding == "gzip" else brotli.compress(FEED)
    public.static("/feed", body, headers={"Content-Encoding": encoding})
    result = await fetch(capped, public.url("/feed"))
    assert result.error is None and result.body == FEED


async def test_a_declared_length_over_the_cap_is_refused_unread(
    public: LoopbackServer, capped: Settings
) -> None:
    public.static("/big", b"x" * (CAP + 1))
    result = await fetch(capped, public.url("/big"))
    assert result.error is not None and "over the" in result.error


async def test_an_endless_chunked_body_stops_at_the_cap(
    public: LoopbackServer, capped: Settings
) -> None:
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        chunk = b"<item>" + b"a" * 65530
        while sent < 100 * CAP:  # a safety stop for the test itself, far past the cap
            await response.write(chunk)
            sent += len(chunk)
        return response

    public.route("/endless", endless)
    result = await fetch(capped, public.url("/endless"))
    assert result.error is not None and "max_body_bytes" in result.error
    assert sent < 100 * CAP  # the client hung up; the server did not run to its safety stop


@pytest.fixture
def raw_servers() -> Iterator[list[RawServer]]:
    started: list[RawServer] = []
    yield started
    for server in started:
        server.stop()


def raw(
    started: list[RawServer],
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> RawServer:
    server = RawServer(handler).start()
    started.append(server)
    return server


async def test_a_body_delimited_only_by_closing_stops_at_the_cap(
    raw_servers: list[RawServer], capped: Settings
) -> None:
    async def forever(_r: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nConnection: close\r\n\r\n")
        for _ in range(100 * CAP // 65536):
            writer.write(b"z" * 65536)
            await writer.drain()

    server = raw(raw_servers, forever)
    result = await fetch(capped, server.base + "/feed")
    assert result.error is not None and "max_body_bytes" in result.error


async def test_one_byte_a_second_hits_the_total_deadline(
    raw_servers: list[RawServer], open_settings: Settings
) -> None:
    """Every read succeeds (no idle timeout would fire): only a total deadline stops it."""

    async def drip(_r: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n")
        for byte in FEED * 100:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.25)

    server = raw(raw_servers, drip)
    settings = open_settings.replace(fetch_timeout=1.5)
    started = time.monotonic()
    result = await fetch(settings, server.base + "/feed")
    elapsed = time.monotonic() - started
    assert result.error == "timed out after 1.5 s (fetch_timeout)"
    assert elapsed < 10  # the drip would take hours; the deadline ended it


async def test_headers_that_never_end_hit_the_total_deadline(
    raw_servers: list[RawServer], open_settings: Settings
) -> None:
    async def slow_headers(_r: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(10_000):
            writer.write(b"X-Slow: y\r\n")
            await writer.drain()
            await asyncio.sleep(0.2)

    server = raw(raw_servers, slow_headers)
    result = await fetch(open_settings.replace(fetch_timeout=1.0), server.base + "/")
    assert result.error is not None and "timed out" in result.error


async def test_a_server_that_accepts_and_says_nothing_hits_the_deadline(
    raw_servers: list[RawServer], open_settings: Settings
) -> None:
    async def silent(reader: asyncio.StreamReader, _w: asyncio.StreamWriter) -> None:
        await reader.read()  # waits for the client to give up

    server = raw(raw_servers, silent)
    result = await fetch(open_settings.replace(fetch_timeout=1.0), server.base + "/")
    assert result.error == "timed out after 1 s (fetch_timeout)"


@pytest.mark.parametrize(
    "routes",
    [
        {"/a": "/a"},  # to itself
        {"/a": "/b", "/b": "/a"},  # a loop of two
        {f"/{i}": f"/{i + 1}" for i in range(50)} | {"/a": "/0"},  # a chain too long
    ],
)
async def test_redirect_loops_end_with_a_clear_error(
    routes: dict[str, str], public: LoopbackServer, open_settings: Settings
) -> None:
    for path, target in routes.items():
        public.redirect(path, target, 301)
    result = await fetch(open_settings, public.url("/a"))
    assert result.error == "too many redirects (more than 5)"
    assert len(public.hits) == open_settings.max_redirects + 1


def _refresh_once(settings: Settings, db: Path, url: str) -> tuple[object, datetime]:
    store = open_store(f"sqlite:///{db}")
    try:
        if not store.list_feeds():
            store.add_feed(url)
        before = datetime.now(UTC)
        refresh_sync(store, settings)
        return store.list_feeds()[0], before
    finally:
        store.close()


@pytest.mark.parametrize(
    "retry_after",
    [
        "9" * 400,  # float("9"*400) is inf
        "99999999999999999999",
        "-1",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "soon",
        "",
    ],
)
def test_429_with_an_absurd_retry_after_gets_a_bounded_backoff(
    retry_after: str, public: LoopbackServer, open_settings: Settings, tmp_path: Path
) -> None:
    public.static("/feed", b"slow down", status=429, headers={"Retry-After": retry_after})
    feed, before = _refresh_once(open_settings, tmp_path / "n.db", public.url("/feed"))
    assert feed.last_error == "HTTP 429 Too Many Requests"  # type: ignore[attr-defined]
    next_check = feed.next_check  # type: ignore[attr-defined]
    assert next_check is not None
    assert before + timedelta(seconds=open_settings.min_interval - 1) <= next_check
    assert next_check <= before + timedelta(seconds=open_settings.max_error_backoff + 60)
    assert not feed.paused  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "headers",
    [
        {"Cache-Control": "max-age=" + "9" * 400},
        {"Expires": "Fri, 31 Dec 9999 23:59:59 GMT"},
        {"Retry-After": "9" * 400},
    ],
)
def test_absurd_cache_hints_on_a_good_feed_are_capped(
    headers: dict[str, str], public: LoopbackServer, open_settings: Settings, tmp_path: Path
) -> None:
    public.static("/feed", FEED, headers=headers)
    feed, before = _refresh_once(open_settings, tmp_path / "n.db", public.url("/feed"))
    assert feed.last_error is None  # type: ignore[attr-defined]
    assert feed.next_check <= before + timedelta(seconds=open_settings.max_interval + 60)  # type: ignore[attr-defined]


def test_410_pauses_the_feed_and_keeps_its_entries(
    public: LoopbackServer, open_settings: Settings, tmp_path: Path
) -> None:
    public.static("/feed", FEED)
    db = tmp_path / "n.db"
    _refresh_once(open_settings, db, public.url("/feed"))
    public.static("/feed", b"gone", status=410, headers={"Retry-After": "9" * 50})
    feed, _ = _refresh_once(open_settings, db, public.url("/feed"))
    assert feed.paused and "410" in (feed.paused_reason or "")  # type: ignore[attr-defined]
    store = open_store(f"sqlite:///{db}")
    try:
        from newsdesk.store import EntryQuery

        assert store.count_entries(EntryQuery()) == 1
    finally:
        store.close()


def test_301_moves_the_feed_only_when_seen_twice_and_never_into_private_space(
    public: LoopbackServer, private: LoopbackServer, guarded: Settings, tmp_path: Path
) -> None:
    public.static("/new", FEED)
    public.redirect("/old", public.url("/new"), 301)
    db = tmp_path / "n.db"
    feed, _ = _refresh_once(guarded, db, public.url("/old"))
    assert feed.url == public.url("/old")  # type: ignore[attr-defined]
    feed, _ = _refresh_once(guarded, db, public.url("/old"))
    assert feed.url == public.url("/new")  # type: ignore[attr-defined]
    assert feed.moved_from == public.url("/old")  # type: ignore[attr-defined]
    # Now the new address moves permanently into private space: refused, the URL stays.
    private.static("/feed", FEED)
    public.redirect("/new", private.url("/feed"), 301)
    for _ in range(2):
        feed, _ = _refresh_once(guarded, db, public.url("/new"))
    assert feed.url == public.url("/new")  # type: ignore[attr-defined]
    assert "not a public address" in (feed.last_error or "")  # type: ignore[attr-defined]
    assert private.hits == []

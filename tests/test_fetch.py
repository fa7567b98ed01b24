"""The HTTP client against real loopback servers: conditional GET, compression, redirects, the
total deadline, the body cap after decompression, the User-Agent and the SSRF guard."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator
from typing import Any

import brotli
import pytest
from aiohttp import web

from newsdesk import __version__
from newsdesk.fetch import HttpClient
from newsdesk.settings import Settings, load_settings

BODY = b"<rss><channel><title>t</title></channel></rss>" * 50


def _settings(**changes: Any) -> Settings:
    return load_settings(env={}, allow_private_networks=True, **changes)


@pytest.fixture
async def site() -> AsyncIterator[str]:
    async def plain(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        return web.Response(
            body=BODY, headers={"ETag": '"v1"', "X-UA": request.headers["User-Agent"]}
        )

    async def encoded(request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        data = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress}[kind](BODY)
        return web.Response(body=data, headers={"Content-Encoding": kind})

    async def bomb(request: web.Request) -> web.Response:
        data = gzip.compress(b"\0" * (20 * 1024 * 1024))  # 20 MiB of zeros in ~20 KiB
        return web.Response(body=data, headers={"Content-Encoding": "gzip"})

    async def hop(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        if n == 0:
            return web.Response(body=BODY)
        raise web.HTTPMovedPermanently(f"/hop/{n - 1}")

    async def loop_(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def slow(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(30):
            await response.write(b" ")
            await asyncio.sleep(0.2)
        return response

    app = web.Application()
    app.add_routes(
        [
            web.get("/feed", plain),
            web.get("/enc/{kind}", encoded),
            web.get("/bomb", bomb),
            web.get("/hop/{n}", hop),
            web.get("/loop", loop_),
            web.get("/slow", slow),
        ]
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site_ = web.TCPSite(runner, "127.0.0.1", 0)
    await site_.start()
    port = site_._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_conditional_get_and_user_agent(site: str) -> None:
    async with HttpClient(_settings()) as client:
        first = await client.fetch(f"{site}/feed")
        assert first.ok and first.body == BODY and first.etag == '"v1"'
        assert first.status == 200
        second = await client.fetch(f"{site}/feed", etag=first.etag)
        assert second.not_modified and second.body == b""
    async with HttpClient(_settings()) as client:
        result = await client.fetch(f"{site}/feed")
    assert result.ok


@pytest.mark.parametrize("kind", ["gzip", "deflate", "br"])
async def test_compressed_bodies_are_decoded(site: str, kind: str) -> None:
    async with HttpClient(_settings()) as client:
        result = await client.fetch(f"{site}/enc/{kind}")
    assert result.ok and result.body == BODY


async def test_body_cap_counts_decompressed_bytes(site: str) -> None:
    async with HttpClient(_settings(max_body_bytes=1024 * 1024)) as client:
        result = await client.fetch(f"{site}/bomb")
    assert result.error and "limit" in result.error and "max_body_bytes" in result.error


async def test_redirects_are_followed_up_to_the_limit(site: str) -> None:
    async with HttpClient(_settings()) as client:
        ok = await client.fetch(f"{site}/hop/10")
        too_many = await client.fetch(f"{site}/hop/11")
        looping = await client.fetch(f"{site}/loop")
    assert ok.ok and ok.final_url.endswith("/hop/0")
    assert ok.permanent_redirect and ok.permanent_redirect.endswith("/hop/0")
    assert too_many.error and "too many redirects" in too_many.error
    assert looping.error and "too many redirects" in looping.error


async def test_total_deadline_not_per_read(site: str) -> None:
    """The server sends a byte every 0.2 s: a per-read timeout would never fire."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with HttpClient(_settings(fetch_timeout=1.0)) as client:
        result = await client.fetch(f"{site}/slow")
    assert result.error and "timed out after 1 s" in result.error
    assert loop.time() - started < 3


async def test_user_agent_names_newsdesk(site: str) -> None:
    async with HttpClient(_settings()) as client, client.session.get(f"{site}/feed") as response:
        assert f"Newsdesk/{__version__}" in response.headers["X-UA"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/feed",
        "http://localhost:9/feed",
        "http://10.0.0.1/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/feed",
    ],
)
async def test_ssrf_guard_refuses_private_addresses(url: str) -> None:
    async with HttpClient(load_settings(env={})) as client:
        result = await client.fetch(url)
    assert result.error and "refused" in result.error
    assert "NEWSDESK_ALLOW_PRIVATE_NETWORKS" in result.error


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://x/"])
async def test_only_http_schemes(url: str) -> None:
    async with HttpClient(_settings()) as client:
        result = await client.fetch(url)
    assert result.error and "only http and https" in result.error


async def test_guard_checks_every_redirect_hop(site: str) -> None:
    """A redirect to a private address is refused even when the first hop was allowed."""
    from yarl import URL

    from newsdesk.errors import BlockedAddressError
    from newsdesk.fetch.guard import check_url

    with pytest.raises(BlockedAddressError):
        check_url(URL("http://192.168.1.1/admin"), allow_private=False)
    check_url(URL("http://93.184.216.34/"), allow_private=False)  # a public literal passes

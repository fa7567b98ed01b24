"""The HTTP client: bounded concurrency (global and per host), conditional GET, a total deadline
per request, a body cap counted after decompression, redirects followed by hand so the SSRF guard
sees every hop, and redirect-following for short links (cached for the life of the client)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import TracebackType
from typing import Self

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from newsdesk.errors import BlockedAddressError
from newsdesk.fetch.encoded import ENCODINGS, EncodedFetchResult
from newsdesk.fetch.guard import check_url, make_resolver, parse_networks
from newsdesk.model import FetchResult
from newsdesk.settings import Settings

FEED_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_CHUNK = 64 * 1024
# What a request sends to every host of a redirect chain; the rest (a feed's cookie,
# credentials, extra headers) only to the origin it was set for.
_PUBLIC_HEADERS = frozenset({"accept", "user-agent", "if-none-match", "if-modified-since"})


class HttpClient:
    """One aiohttp session for a run; use as ``async with HttpClient(settings) as client``."""

    def __init__(self, settings: Settings, *, resolver: AbstractResolver | None = None) -> None:
        """``resolver`` replaces the system DNS resolver (tests, custom DNS); the SSRF guard
        still checks every address it returns."""
        self.settings = settings
        self._resolver = resolver
        self._allowed = parse_networks(settings.allowed_networks)
        self._session: aiohttp.ClientSession | None = None
        self._expanded: dict[str, str] = {}

    async def __aenter__(self) -> Self:
        connector = aiohttp.TCPConnector(
            limit=self.settings.concurrency,
            limit_per_host=self.settings.per_host_concurrency,
            resolver=make_resolver(
                allow_private=self.settings.allow_private_networks,
                inner=self._resolver,
                allowed=self._allowed,
            ),
            ttl_dns_cache=300,
            enable_cleanup_closed=True,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={
                "User-Agent": self.settings.user_agent,
                "Accept-Encoding": "gzip, deflate, br",
            },
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.settings.fetch_timeout),
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=True,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("HttpClient used outside 'async with'")
        return self._session

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = FEED_ACCEPT,
        max_bytes: int | None = None,
        headers: Mapping[str, str] | None = None,
        decode: bool = True,
    ) -> FetchResult:
        """GET ``url`` (conditionally when validators are given). Never raises for HTTP or
        network problems: the result's ``error`` says what went wrong. ``max_bytes`` lowers
        the body cap below ``max_body_bytes`` (icons). ``headers`` are a feed's own (its user
        agent, cookie, credentials…): all but the user agent go only to the URL's origin, never
        to another host a redirect points at. With ``decode`` false, a compressed body comes
        as it was sent, in an ``EncodedFetchResult`` (``fetch.encoded`` decodes it, under the
        same cap)."""
        result = FetchResult(url=url, final_url=url) if decode else EncodedFetchResult(url, url)
        sent = {"Accept": accept}
        if etag:
            sent["If-None-Match"] = etag
        if last_modified:
            sent["If-Modified-Since"] = last_modified
        sent.update(headers or {})
        try:
            async with asyncio.timeout(self.settings.fetch_timeout):
                await self._get(url, sent, result, max_bytes)
        except TimeoutError:
            result.error = f"timed out after {self.settings.fetch_timeout:g} s (fetch_timeout)"
        except BlockedAddressError as exc:
            result.error = str(exc)
        except aiohttp.ClientConnectorError as exc:
            result.error = (
                f"cannot connect to {exc.host}:{exc.port}: {exc.os_error.strerror or exc}"
            )
        except aiohttp.ClientError as exc:
            result.error = f"HTTP error: {exc.__class__.__name__}: {exc}"
        except (UnicodeError, ValueError) as exc:
            result.error = f"invalid URL or response: {exc}"
        except OSError as exc:
            result.error = f"network error: {exc}"
        if result.error is not None:
            # A move is only believed when the new address answers (a 301 into refused or
            # broken space must not rewrite the subscription).
            result.permanent_redirect = None
        return result

    async def _get(
        self, url: str, headers: dict[str, str], result: FetchResult, max_bytes: int | None
    ) -> None:
        current = URL(url, encoded=False)
        origin: URL | None = None
        elsewhere = {k: v for k, v in headers.items() if k.lower() in _PUBLIC_HEADERS}
        permanent_chain = True
        for _hop in range(self.settings.max_redirects + 1):
            self._check(current)
            origin = origin or current.origin()
            sent = headers if current.origin() == origin else elsewhere
            async with self.session.get(
                current,
                headers=sent,
                allow_redirects=False,
                auto_decompress=not isinstance(result, EncodedFetchResult),
            ) as resp:
                result.status = resp.status
                result.final_url = str(current)
                location = resp.headers.get("Location")
                if resp.status in _REDIRECTS and location:
                    permanent_chain = permanent_chain and resp.status in _PERMANENT
                    current = current.join(URL(location))
                    if permanent_chain:
                        result.permanent_redirect = str(current)
                    continue
                self._read_headers(resp, result)
                if resp.status == 304:
                    result.not_modified = True
                    return
                if resp.status >= 400 or resp.status < 200:
                    result.error = f"HTTP {resp.status} {resp.reason or ''}".rstrip()
                    return
                result.body = await self._read_body(resp, max_bytes, result)
                return
        result.error = f"too many redirects (more than {self.settings.max_redirects})"

    def _check(self, url: URL) -> None:
        check_url(url, allow_private=self.settings.allow_private_networks, allowed=self._allowed)

    @staticmethod
    def _read_headers(resp: aiohttp.ClientResponse, result: FetchResult) -> None:
        h = resp.headers
        result.content_type = h.get("Content-Type")
        result.etag = h.get("ETag")
        result.last_modified = h.get("Last-Modified")
        result.cache_control = h.get("Cache-Control")
        result.expires = h.get("Expires")
        result.retry_after = h.get("Retry-After")

    async def _read_body(
        self, resp: aiohttp.ClientResponse, max_bytes: int | None, result: FetchResult
    ) -> bytes:
        cap = self.settings.max_body_bytes
        setting = "max_body_bytes"
        if max_bytes is not None and max_bytes < cap:
            cap, setting = max_bytes, "the caller's limit"
        limit = cap
        if isinstance(result, EncodedFetchResult):
            result.cap, result.setting = cap, setting
            encoding = resp.headers.get("Content-Encoding", "")
            encoding = encoding.lower() if encoding.isascii() else ""
            if encoding in ENCODINGS:  # decoded later, under ``cap``; compressed it is smaller
                result.content_encoding = encoding
                limit = cap + cap // 1000 + 1024  # (but for a stream that did not compress)
        declared = resp.content_length
        if declared is not None and declared > cap and not resp.headers.get("Content-Encoding"):
            raise aiohttp.ClientPayloadError(
                f"response body is {declared} bytes, over the {cap}-byte limit ({setting})"
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise aiohttp.ClientPayloadError(
                    f"response body over the {cap}-byte limit after decompression ({setting})"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    async def expand(self, url: str) -> str:
        """Follow redirects of ``url`` (a short link) and return where they end; the URL itself
        when it does not redirect or cannot be reached. Cached for the life of the client."""
        return await self.try_expand(url) or url

    async def try_expand(self, url: str) -> str | None:
        """Where the redirects of ``url`` end (the URL itself when it does not redirect), or
        None when it cannot be reached now: a failure is not remembered, so a later run (or a
        later caller in this one) asks again instead of keeping the short link for good."""
        cached = self._expanded.get(url)
        if cached is not None:
            return cached
        try:
            async with asyncio.timeout(self.settings.fetch_timeout):
                final = await self._follow(url)
        except Exception:  # unreachable, refused, blocked, broken answer: all mean "not now"
            return None
        if final is not None:
            self._expanded[url] = final
        return final

    async def _follow(self, url: str) -> str | None:
        current = URL(url, encoded=False)
        for _ in range(self.settings.max_redirects + 1):
            self._check(current)
            async with self.session.head(
                current, allow_redirects=False, headers={"Accept": PAGE_ACCEPT}
            ) as resp:
                location = resp.headers.get("Location")
                if resp.status in _REDIRECTS and location:
                    current = current.join(URL(location))
                    continue
                if resp.status >= 500 or resp.status == 429:
                    return None  # the shortener is down or busy: ask again later
                return str(current)
        return str(current)

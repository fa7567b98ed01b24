"""Bodies fetched still compressed (``HttpClient.fetch(..., decode=False)``) and decoded later,
where CPU is to spare: a big refresh sends a feed's gzip body to its parse worker process as it
came (a third of the bytes to pass along, and the inflating off the process that fetches and
writes). The rules are the client's own: the same encodings as aiohttp decodes, the same body
cap counted after decompression (so a zip bomb stops at the cap), the same error messages.

``inflate`` is the fast path (any process): one gzip member, or a zlib deflate stream, decoded
whole, by ISA-L's inflater (``isal``: the same streams as zlib, 2.3x as fast on the benchmark
farm's feeds, a tenth of a parse worker's time saved) or by zlib where it is not installed.
Anything else (brotli, zstd, several members, a broken stream) is left to
``decode_like_aiohttp``, which runs aiohttp's own decoder (in the process that fetched)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, NamedTuple

from newsdesk.model import FetchResult

_inflater: Any
try:
    from isal import isal_zlib as _inflater
except ImportError:  # a platform without its wheel: plain zlib decodes the same streams
    _inflater = zlib

# The encodings aiohttp decodes (and so the ones a raw body may come in).
ENCODINGS = frozenset({"gzip", "deflate", "br", "zstd"})
_STEP = 64 * 1024  # bytes decoded at a time: a bomb is caught within this much of the cap


@dataclass(slots=True)
class EncodedFetchResult(FetchResult):
    """A fetch whose body is still as the server compressed it (``content_encoding``), to be
    decoded under ``cap`` bytes (``setting`` names the limit in the error)."""

    content_encoding: str | None = None
    cap: int = 0
    setting: str = "max_body_bytes"


class Decoding(NamedTuple):
    """How to decode a body: its encoding, and the cap (and the setting that set it)."""

    encoding: str
    cap: int
    setting: str


def decoding(result: FetchResult) -> Decoding | None:
    """How to decode ``result``'s body; None when it is not compressed (any more)."""
    if isinstance(result, EncodedFetchResult) and result.content_encoding is not None:
        return Decoding(result.content_encoding, result.cap, result.setting)
    return None


def decode_here(result: FetchResult) -> bool:
    """Decode ``result``'s body in this process, as the client would have: False when that
    fails the fetch (``fail_body``)."""
    how = decoding(result)
    if how is None or not isinstance(result, EncodedFetchResult):
        return True
    try:
        result.body = decode_like_aiohttp(result.body, how)
    except BodyError as exc:
        fail_body(result, str(exc))
        return False
    result.content_encoding = None
    return True


def fail_body(result: FetchResult, error: str) -> None:
    """The fetch failed on its body, as ``HttpClient.fetch`` fails one."""
    result.error, result.body, result.permanent_redirect = error, b"", None


class BodyError(Exception):
    """A body that failed as the HTTP client fails it (over the cap, broken compression): the
    message is the fetch error the client would have given."""


def over_cap(cap: int, setting: str) -> BodyError:
    return BodyError(
        "HTTP error: ClientPayloadError: "
        f"response body over the {cap}-byte limit after decompression ({setting})"
    )


def inflate(body: bytes, how: Decoding) -> bytes | None:
    """``body`` decoded, or None when the fast path cannot tell (see the module's note); raises
    ``BodyError`` once more than ``cap`` bytes come out."""
    encoding, cap, setting = how
    if encoding == "gzip":
        wbits = 16 + zlib.MAX_WBITS
    elif encoding == "deflate" and body[:1] and body[0] & 0xF == 8:
        wbits = zlib.MAX_WBITS  # a zlib stream (a raw deflate one goes the slow way)
    else:
        return None
    decoder = _inflater.decompressobj(wbits)
    parts: list[bytes] = []
    size = 0
    data = body
    try:
        while True:
            chunk = decoder.decompress(data, _STEP)
            size += len(chunk)
            if size > cap:
                raise over_cap(cap, setting)
            parts.append(chunk)
            data = decoder.unconsumed_tail
            if decoder.eof or (not data and not chunk):
                break
    except _inflater.error:
        return None
    if not decoder.eof or decoder.unused_data or decoder.unconsumed_tail:
        return None
    return b"".join(parts)


def decode_like_aiohttp(body: bytes, how: Decoding) -> bytes:
    """``body`` decoded by aiohttp's own decoder, as the client would have: raises
    ``BodyError`` with the client's message when it is over ``cap`` or cannot be decoded."""
    from aiohttp.http_exceptions import HttpProcessingError
    from aiohttp.http_parser import DeflateBuffer

    sink = _Sink(how.cap, how.setting)
    try:
        buffer = DeflateBuffer(sink, how.encoding, max_decompress_size=_STEP)  # type: ignore[arg-type]
        more = buffer.feed_data(body, len(body)) if body else False
        while more:
            more = buffer.feed_data(b"", 0)
        buffer.feed_eof()
    except HttpProcessingError as exc:
        raise BodyError(f"HTTP error: ClientPayloadError: {exc}") from None
    return b"".join(sink.parts)


class _Sink:
    """What ``DeflateBuffer`` writes to (in place of a response's stream), counting bytes."""

    _low_water = _STEP
    total_compressed_bytes = 0

    def __init__(self, cap: int, setting: str) -> None:
        self.cap, self.setting = cap, setting
        self.parts: list[bytes] = []
        self.size = 0

    def feed_data(self, data: bytes, size: int = 0) -> None:
        self.size += len(data)
        if self.size > self.cap:
            raise over_cap(self.cap, self.setting)
        self.parts.append(data)

    def feed_eof(self) -> None:
        pass

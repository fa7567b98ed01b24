"""The first refresh's hand-offs between processes: bodies fetched still compressed and decoded
in the parse workers (same cap, same errors as the HTTP client decoding them), entries sent
back as plain tuples, and dates written as SQLAlchemy writes them."""

from __future__ import annotations

import gzip
import os
import random
import zlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import brotli
import pytest
from aiohttp import web

from newsdesk.fetch import HttpClient, encoded
from newsdesk.fetch.encoded import BodyError, decode_here, decoding, inflate
from newsdesk.model import Enclosure
from newsdesk.process.entry_wire import pack_entries, unpack_entries
from newsdesk.settings import load_settings
from routes_server import Answer, RoutesServer, rss

BODY = b"<rss>" + bytes(range(256)) * 400 + b"</rss>"
CAP = 2 * 1024 * 1024
CASES: dict[str, tuple[bytes, str]] = {
    "ok": (gzip.compress(BODY), "gzip"),
    "zlib": (zlib.compress(BODY), "deflate"),
    "raw-deflate": (zlib.compress(BODY)[2:-4], "deflate"),
    "br": (brotli.compress(BODY), "br"),
    "two-members": (gzip.compress(BODY) + gzip.compress(BODY), "gzip"),
    "trailing-junk": (gzip.compress(BODY) + b"junk", "gzip"),
    "garbage": (b"not gzip at all" * 10, "gzip"),
    "cut": (gzip.compress(BODY)[:100], "gzip"),
    "empty": (b"", "gzip"),
    "bomb": (gzip.compress(b"\0" * (3 * 1024 * 1024)), "gzip"),
    "br-bomb": (brotli.compress(b"\0" * (3 * 1024 * 1024)), "br"),
    "incompressible": (gzip.compress(os.urandom(CAP - 10)), "gzip"),
    "upper-case": (gzip.compress(BODY), "GZIP"),
    "unknown": (BODY, "x-custom"),
}


@pytest.mark.parametrize("inflater", ["isal", "zlib"])
async def test_a_body_decoded_later_is_what_the_client_decodes(
    inflater: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if inflater == "zlib":  # where ISA-L's wheel is missing
        monkeypatch.setattr(encoded, "_inflater", zlib)
    else:
        assert encoded._inflater.__name__ == "isal.isal_zlib"

    async def answer(request: web.Request) -> web.Response:
        data, encoding = CASES[request.match_info["case"]]
        return web.Response(body=data, headers={"Content-Encoding": encoding})

    app = web.Application()
    app.add_routes([web.get("/{case}", answer)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    settings = load_settings(env={}, allow_private_networks=True, max_body_bytes=CAP)
    try:
        async with HttpClient(settings) as client:
            for case in CASES:
                url = f"http://127.0.0.1:{port}/{case}"
                decoded = await client.fetch(url)
                later = await client.fetch(url, decode=False)
                how = decoding(later)
                if how is not None:  # the workers' fast path agrees, or leaves it
                    try:
                        fast = inflate(later.body, how)
                        assert fast is None or fast == decoded.body, case
                        if case in ("ok", "zlib", "upper-case", "incompressible"):
                            assert fast is not None, case
                    except BodyError as exc:
                        assert str(exc) == decoded.error, case
                assert decode_here(later) == (decoded.error is None), case
                assert (later.error, later.body) == (decoded.error, decoded.body), case
    finally:
        await runner.cleanup()


def test_entries_come_back_as_they_went() -> None:
    from newsdesk.parse import parse_feed
    from newsdesk.process.pipeline import process_feed

    feed = rss("Wire", items=5).replace(
        b"</item>", b'<enclosure url="http://example.com/a.mp3" type="audio/mpeg"/></item>', 1
    )
    entries = process_feed(
        parse_feed(feed, "http://example.com/f", None), "http://example.com/f", datetime.now(UTC)
    )
    assert any(e.enclosures for e in entries)
    back = unpack_entries(pack_entries(entries))
    assert back == entries and back.forms == entries.forms  # type: ignore[attr-defined]
    assert all(isinstance(x, Enclosure) for e in back for x in e.enclosures)
    assert unpack_entries(pack_entries(list(entries))) == list(entries)  # without forms


def test_sqlite_dates_are_written_as_sqlalchemy_writes_them() -> None:
    from sqlalchemy.dialects import sqlite

    from newsdesk.store.bulk_rows import statements
    from newsdesk.store.schema import UTCDateTime

    dialect = sqlite.dialect()
    theirs = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert theirs is not None
    ours = statements(dialect).datetime
    rng = random.Random(17)
    values: list[datetime | None] = [None, datetime(1, 1, 1), datetime(999, 12, 31, 23, 59, 59, 1)]
    for _ in range(2000):
        zone = rng.choice([None, UTC, timezone(timedelta(minutes=rng.randint(-900, 900)))])
        values.append(
            datetime(
                rng.randint(2, 9998),
                rng.randint(1, 12),
                rng.randint(1, 28),
                rng.randint(0, 23),
                rng.randint(0, 59),
                rng.randint(0, 59),
                rng.choice([0, rng.randint(0, 999_999)]),
                tzinfo=zone,
            )
        )
    assert [ours(v) for v in values] == [theirs(v) for v in values]


@pytest.mark.parametrize("pool", [False, True])
def test_a_refresh_through_the_pool_stores_what_one_without_does(
    cli: Any, tmp_path: Any, server: RoutesServer, monkeypatch: pytest.MonkeyPatch, pool: bool
) -> None:
    """Compressed feeds, one over the cap, one broken: the pool stores the same entries and
    records the same errors as the refresh that decodes in the HTTP client."""
    from newsdesk import refresh

    monkeypatch.setenv("NEWSDESK_MAX_BODY_BYTES", str(CAP))
    monkeypatch.setattr(refresh, "PARSE_POOL_MIN_FEEDS", 1 if pool else 10_000)
    gz = {"Content-Encoding": "gzip"}
    urls = [
        server.route("/plain.rss", Answer(rss("Plain", items=4))),
        server.route("/gz.rss", Answer(gzip.compress(rss("Gzipped", items=6)), headers=gz)),
        server.route(
            "/zlib.rss",
            Answer(zlib.compress(rss("Zlib", items=2)), headers={"Content-Encoding": "deflate"}),
        ),
        server.route("/bomb.rss", Answer(CASES["bomb"][0], headers=gz)),
        server.route("/broken.rss", Answer(CASES["garbage"][0], headers=gz)),
    ]
    left_to_the_client: list[str | None] = []  # bodies the workers' fast path left (pool)

    def decode_here(result: Any) -> bool:
        how = decoding(result)
        left_to_the_client.append(how.encoding if how else None)
        return bool(real_decode_here(result))

    real_decode_here = encoded.decode_here
    monkeypatch.setattr(refresh, "decode_here", decode_here)
    db = f"sqlite:///{tmp_path / 'pool' if pool else tmp_path / 'inline'}.db"
    for url in urls:
        assert cli("add", "--no-check", url, "--db", db).code == 0
    result = cli("refresh", "--no-fulltext", "--db", db)
    assert result.code == 0, result.err
    assert "5 feeds, 12 new entries, 2 errors" in result.out
    feeds = {f["url"]: f for f in cli("feeds", "--json", "--db", db).json()}
    assert "over the 2097152-byte limit after decompression" in feeds[urls[3]]["last_error"]
    assert "Can not decode content-encoding: gzip" in feeds[urls[4]]["last_error"]
    assert feeds[urls[1]]["title"] == "Gzipped" and feeds[urls[1]]["error_count"] == 0
    assert [x for x in left_to_the_client if x] == (["gzip"] if pool else [])  # the broken one

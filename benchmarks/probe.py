"""Load probe for the feed farm: how many conditional requests per second it answers.

This module owns the check that the farm is not the bottleneck of the refresh benchmark. It
learns each feed's ETag with one HEAD request, then keeps ``connections`` keep-alive connections
(spread over the farm's addresses) busy for ``seconds`` sending ``If-None-Match`` GETs (every
answer should be a 304) and counts the answers. The client is a minimal HTTP/1.1 loop on asyncio
streams, much lighter than a full HTTP client, so the figure is a lower bound of what the farm
can serve while sharing the machine with its client.

Run it on its own as ``python benchmarks/probe.py --opml farm.opml --seconds 3``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

_XML_URL = re.compile(r'xmlUrl="([^"]+)"')


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """Answers counted during the timed window."""

    seconds: float
    requests: int
    not_modified: int
    connections: int
    body_bytes: int = 0

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "not_modified": self.not_modified,
            "connections": self.connections,
            "requests_per_s": round(self.per_second, 1),
            "body_mib_per_s": round(self.body_bytes / self.seconds / 2**20, 1)
            if self.seconds
            else 0,
        }


def urls_from_opml(path: Path) -> list[str]:
    """The xmlUrl of every outline (the farm writes them one per line, attribute-quoted)."""
    return _XML_URL.findall(path.read_text(encoding="utf-8"))


def _request(method: str, url: str, etag: str | None) -> tuple[tuple[str, int], bytes]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    lines = [f"{method} {parts.path} HTTP/1.1", f"Host: {host}:{port}", "Accept-Encoding: gzip"]
    if etag:
        lines.append(f"If-None-Match: {etag}")
    return (host, port), ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers


async def learn_etags(urls: Sequence[str]) -> dict[str, str]:
    """One HEAD per URL, over one connection per address."""
    etags: dict[str, str] = {}
    by_address: dict[tuple[str, int], list[str]] = {}
    for url in urls:
        by_address.setdefault(_request("HEAD", url, None)[0], []).append(url)

    async def one_address(address: tuple[str, int], group: list[str]) -> None:
        reader, writer = await asyncio.open_connection(*address)
        for url in group:
            writer.write(_request("HEAD", url, None)[1])
            _, headers = await _read_head(reader)
            etags[url] = headers.get("etag", "")
        writer.close()

    await asyncio.gather(*(one_address(a, g) for a, g in by_address.items()))
    return etags


async def _worker(
    address: tuple[str, int], payloads: Sequence[bytes], deadline: float, counts: list[int]
) -> None:
    """One keep-alive connection to one address, cycling through that address's feeds."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        for payload in itertools.cycle(payloads):
            if time.perf_counter() >= deadline:
                break
            writer.write(payload)
            status, headers = await _read_head(reader)
            length = int(headers.get("content-length", "0"))
            if length:
                await reader.readexactly(length)
                counts[2] += length
            counts[0] += 1
            counts[1] += status == 304
    finally:
        writer.close()


async def probe(
    urls: Sequence[str], seconds: float = 3.0, connections: int = 32, *, conditional: bool = True
) -> ProbeResult:
    """GETs for ``seconds`` over ``connections`` connections spread over the addresses.

    ``conditional``: with each feed's ETag (answers are 304); otherwise plain GETs that accept
    gzip (answers are the full pre-compressed bodies).
    """
    etags = await learn_etags(urls) if conditional else {}
    by_address: dict[tuple[str, int], list[bytes]] = {}
    for url in urls:
        address, payload = _request("GET", url, etags.get(url))
        by_address.setdefault(address, []).append(payload)
    groups = list(by_address.items())
    counts = [0, 0, 0]  # answers, 304s, body bytes
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_worker(*groups[n % len(groups)], deadline, counts) for n in range(connections))
    )
    elapsed = time.perf_counter() - started
    return ProbeResult(elapsed, counts[0], counts[1], connections, counts[2])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opml", type=Path, required=True, help="the farm's OPML file")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--full", action="store_true", help="plain GETs (200) instead of 304s")
    args = parser.parse_args(argv)
    urls = urls_from_opml(args.opml)
    result = asyncio.run(probe(urls, args.seconds, args.connections, conditional=not args.full))
    print(json.dumps(result.as_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

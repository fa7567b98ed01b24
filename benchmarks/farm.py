"""Synthetic feed farm: a deterministic set of feeds served over HTTP on loopback.

This module owns everything the feed side of the refresh benchmark needs:

* generating N feeds x M items of realistic size (titles, 1-6 KB HTML bodies with paragraphs,
  links and an image, authors, categories, dates, GUIDs), deterministic from a seed;
* rendering each feed once, in memory, as RSS 2.0, Atom 1.0 or JSON Feed 1.1 (about 50/35/15),
  together with a pre-compressed gzip body, a strong ETag and a Last-Modified date;
* serving them with aiohttp.web on one port bound separately on 127.0.0.1 ... 127.0.0.{hosts}
  (never 0.0.0.0), answering 304 to If-None-Match / If-Modified-Since;
* writing an OPML file that lists every feed URL.

Feed ``i`` lives at ``http://127.0.0.{1 + i % hosts}:{port}/feeds/{i}.{rss|atom|json}``.
``GET /_stats`` on any address returns request counters as JSON, so a benchmark can check how many
feeds were answered in full and how many with 304.

Run it as ``python benchmarks/farm.py --feeds 1000 --items 30 --hosts 64 --port 0``; the first
line printed on stdout is a JSON object with the port, hosts and URL count, printed once every
address is listening.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import gzip
import hashlib
import json
import random
import signal
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from html import escape as html_escape
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from aiohttp import web

BASE_TIME = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
CONTENT_MIN, CONTENT_MAX = 1024, 6144  # characters of HTML per item body
CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_SYLLABLES = _split(
    "al ban cor da el fen gar hu is jo ka lem mar nor o pi qua res sol ta ur vel wen xi yor "
    "zan bre cla dro fli gru pla sto tri ver mon sen lat rig ment ion ous ive ter"
)
_FIRST_NAMES = _split("Ada Bruno Chiara Dmitri Elena Farid Greta Hiro Ines Jonas Kemi Lars Mira")
_LAST_NAMES = _split("Abara Berg Costa Dahl Evans Fujita Garcia Haas Ivanova Jensen Kowalski Lund")
_TOPICS = _split(
    "Politics Economy Science Technology Health Climate Culture Sport Travel Food Education "
    "Energy Space Security Finance Transport Housing Law Media Music"
)


@dataclass(frozen=True, slots=True)
class FarmConfig:
    """What to generate and where to serve it."""

    feeds: int = 1000
    items: int = 30
    hosts: int = 64
    seed: int = 1
    port: int = 0
    gzip_level: int = 1

    def host(self, index: int) -> str:
        """The loopback address that serves feed ``index``."""
        return f"127.0.0.{1 + index % self.hosts}"

    def kind(self, index: int) -> str:
        """The format of feed ``index``: 10 in 20 RSS, 7 in 20 Atom, 3 in 20 JSON Feed."""
        slot = index % 20
        return "rss" if slot < 10 else "atom" if slot < 17 else "json"

    def feed_path(self, index: int) -> str:
        return f"/feeds/{index}.{self.kind(index)}"

    def feed_url(self, index: int, port: int) -> str:
        return f"http://{self.host(index)}:{port}{self.feed_path(index)}"


@dataclass(frozen=True, slots=True)
class Item:
    """One generated entry, independent of the format it is rendered in."""

    guid: str
    url: str
    title: str
    author: str
    categories: tuple[str, ...]
    published: datetime
    updated: datetime
    summary: str
    content_html: str


@dataclass(frozen=True, slots=True)
class Feed:
    """One generated feed: its metadata and items."""

    index: int
    kind: str
    url: str
    home: str
    title: str
    description: str
    items: tuple[Item, ...]

    @property
    def updated(self) -> datetime:
        return max(item.updated for item in self.items) if self.items else BASE_TIME


@dataclass(slots=True)
class Rendered:
    """A feed body as served: identity bytes, gzip bytes, validators and fixed headers."""

    body: bytes
    gzipped: bytes | None
    etag: str
    last_modified: datetime
    headers: dict[str, str] = field(default_factory=dict)


class TextPool:
    """A deterministic pool of words and sentences that items are assembled from."""

    def __init__(self, seed: int, words: int = 3000, sentences: int = 4000) -> None:
        rng = random.Random(f"pool/{seed}")
        self.words = [self._word(rng) for _ in range(words)]
        self.sentences = [self._sentence(rng) for _ in range(sentences)]

    @staticmethod
    def _word(rng: random.Random) -> str:
        return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4)))

    def _sentence(self, rng: random.Random) -> str:
        words = [rng.choice(self.words) for _ in range(rng.randint(6, 22))]
        return " ".join(words).capitalize() + rng.choice(".....?!")

    def title(self, rng: random.Random) -> str:
        """A title of 40 to 120 characters."""
        target = rng.randint(40, 120)
        text = rng.choice(self.words).capitalize()
        while len(text) < target:
            text += " " + rng.choice(self.words)
        return text[:target].rstrip()

    def phrase(self, rng: random.Random, count: int) -> str:
        return " ".join(rng.choice(self.words) for _ in range(count))


def _link_paragraph(pool: TextPool, rng: random.Random, links: Sequence[str]) -> str:
    sentences = [html_escape(rng.choice(pool.sentences)) for _ in range(rng.randint(3, 7))]
    slot = rng.randrange(len(sentences))
    href = rng.choice(links)
    sentences[slot] += f' See <a href="{href}">{html_escape(pool.phrase(rng, 3))}</a>.'
    return "<p>" + " ".join(sentences) + "</p>"


def _figure(pool: TextPool, rng: random.Random, base: str, guid_hash: str) -> str:
    caption = html_escape(pool.phrase(rng, rng.randint(4, 10)))
    return (
        f'<figure><img src="{base}/images/{guid_hash}.jpg" alt="{caption}" width="640" '
        f'height="360" loading="lazy"><figcaption>{caption}</figcaption></figure>'
    )


def _extra_block(pool: TextPool, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"<blockquote><p>{html_escape(rng.choice(pool.sentences))}</p></blockquote>"
    items = "".join(f"<li>{html_escape(pool.phrase(rng, rng.randint(3, 8)))}</li>" for _ in "abc")
    return f"<ul>{items}</ul>"


def make_content(
    pool: TextPool, rng: random.Random, base: str, guid_hash: str, links: Sequence[str]
) -> str:
    """HTML between 1 and 6 KB: paragraphs, links to sibling articles, a figure, a list/quote."""
    target = rng.randint(CONTENT_MIN, CONTENT_MAX)
    blocks = [_link_paragraph(pool, rng, links)]
    blocks.append(_figure(pool, rng, base, guid_hash))
    size = sum(len(block) + 1 for block in blocks)
    while size < target:
        block = _block(pool, rng, links)
        if size + len(block) > CONTENT_MAX and size >= CONTENT_MIN:
            break
        blocks.append(block)
        size += len(block) + 1
    return "\n".join(blocks)


def _block(pool: TextPool, rng: random.Random, links: Sequence[str]) -> str:
    """One more block of an item body: mostly plain paragraphs."""
    if rng.random() < 0.15:
        return _extra_block(pool, rng)
    if rng.random() < 0.4:
        return _link_paragraph(pool, rng, links)
    sentences = (rng.choice(pool.sentences) for _ in range(rng.randint(3, 8)))
    return "<p>" + html_escape(" ".join(sentences)) + "</p>"


def make_item(pool: TextPool, config: FarmConfig, index: int, number: int, base: str) -> Item:
    """Item ``number`` of feed ``index``; depends only on the seed and the two numbers."""
    rng = random.Random(f"item/{config.seed}/{index}/{number}")
    guid = f"tag:farm.newsdesk.test,2025:{config.seed}/{index}/{number}"
    guid_hash = hashlib.blake2s(guid.encode(), digest_size=8).hexdigest()
    published = BASE_TIME - timedelta(minutes=number * 97 + index % 60 + rng.randint(0, 90))
    updated = published + timedelta(minutes=rng.choice((0, 0, 0, 5, 42)))
    links = [f"{base}/articles/{index}/{n}" for n in range(config.items) if n != number]
    content = make_content(pool, rng, base, guid_hash, links or [f"{base}/sites/{index}/"])
    author = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    categories = tuple(sorted(set(rng.sample(_TOPICS, rng.randint(1, 3)))))
    summary = rng.choice(pool.sentences) + " " + rng.choice(pool.sentences)
    return Item(
        guid=guid,
        url=f"{base}/articles/{index}/{number}",
        title=pool.title(rng),
        author=author,
        categories=categories,
        published=published,
        updated=updated,
        summary=summary,
        content_html=content,
    )


def make_feed(pool: TextPool, config: FarmConfig, index: int, port: int) -> Feed:
    """Feed ``index`` with all its items."""
    rng = random.Random(f"feed/{config.seed}/{index}")
    base = f"http://{config.host(index)}:{port}"
    items = tuple(make_item(pool, config, index, n, base) for n in range(config.items))
    return Feed(
        index=index,
        kind=config.kind(index),
        url=config.feed_url(index, port),
        home=f"{base}/sites/{index}/",
        title=f"Farm feed {index}: {pool.phrase(rng, rng.randint(2, 5))}",
        description=rng.choice(pool.sentences),
        items=items,
    )


def _rfc822(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _rss_item(item: Item) -> str:
    categories = "".join(f"<category>{xml_escape(c)}</category>" for c in item.categories)
    return (
        f"<item><title>{xml_escape(item.title)}</title><link>{xml_escape(item.url)}</link>"
        f'<guid isPermaLink="false">{xml_escape(item.guid)}</guid>'
        f"<pubDate>{_rfc822(item.published)}</pubDate>"
        f"<dc:creator>{xml_escape(item.author)}</dc:creator>{categories}"
        f"<description>{xml_escape(item.summary)}</description>"
        f"<content:encoded>{_cdata(item.content_html)}</content:encoded></item>\n"
    )


def render_rss(feed: Feed) -> str:
    """RSS 2.0 with content:encoded and dc:creator."""
    items = "".join(_rss_item(item) for item in feed.items)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">'
        f"<channel><title>{xml_escape(feed.title)}</title><link>{xml_escape(feed.home)}</link>"
        f'<atom:link href={quoteattr(feed.url)} rel="self" type="application/rss+xml"/>'
        f"<description>{xml_escape(feed.description)}</description><language>en</language>"
        f"<lastBuildDate>{_rfc822(feed.updated)}</lastBuildDate><ttl>60</ttl>\n"
        f"{items}</channel></rss>\n"
    )


def _atom_entry(item: Item) -> str:
    categories = "".join(f"<category term={quoteattr(c)}/>" for c in item.categories)
    return (
        f"<entry><id>{xml_escape(item.guid)}</id><title>{xml_escape(item.title)}</title>"
        f'<link rel="alternate" type="text/html" href={quoteattr(item.url)}/>'
        f"<published>{_rfc3339(item.published)}</published>"
        f"<updated>{_rfc3339(item.updated)}</updated>"
        f"<author><name>{xml_escape(item.author)}</name></author>{categories}"
        f"<summary>{xml_escape(item.summary)}</summary>"
        f'<content type="html">{xml_escape(item.content_html)}</content></entry>\n'
    )


def render_atom(feed: Feed) -> str:
    """Atom 1.0 with HTML content escaped as text."""
    entries = "".join(_atom_entry(item) for item in feed.items)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>{xml_escape(feed.url)}</id><title>{xml_escape(feed.title)}</title>"
        f"<subtitle>{xml_escape(feed.description)}</subtitle>"
        f"<updated>{_rfc3339(feed.updated)}</updated>"
        f'<link rel="self" href={quoteattr(feed.url)}/>'
        f'<link rel="alternate" type="text/html" href={quoteattr(feed.home)}/>\n'
        f"{entries}</feed>\n"
    )


def render_json(feed: Feed) -> str:
    """JSON Feed 1.1."""
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "home_page_url": feed.home,
        "feed_url": feed.url,
        "description": feed.description,
        "language": "en",
        "items": [
            {
                "id": item.guid,
                "url": item.url,
                "title": item.title,
                "content_html": item.content_html,
                "summary": item.summary,
                "date_published": _rfc3339(item.published),
                "date_modified": _rfc3339(item.updated),
                "authors": [{"name": item.author}],
                "tags": list(item.categories),
            }
            for item in feed.items
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


RENDERERS = {"rss": render_rss, "atom": render_atom, "json": render_json}


def render(feed: Feed, *, gzip_level: int) -> Rendered:
    """Bytes, gzip bytes (compressed once; level 0 means none), strong ETag and fixed headers.

    Level 1 is nginx's default ``gzip_comp_level``; it is also 6x faster to prepare than 6.
    """
    body = RENDERERS[feed.kind](feed).encode("utf-8")
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    last_modified = feed.updated.replace(microsecond=0)
    headers = {
        "Content-Type": CONTENT_TYPES[feed.kind],
        "ETag": etag,
        "Last-Modified": _rfc822(last_modified),
        "Cache-Control": "max-age=0",
        "Vary": "Accept-Encoding",
    }
    gzipped = gzip.compress(body, compresslevel=gzip_level, mtime=0) if gzip_level else None
    return Rendered(body, gzipped, etag, last_modified, headers)


@dataclass(slots=True)
class Stats:
    """Request counters, exposed on ``/_stats``."""

    full: int = 0
    not_modified: int = 0
    gzipped: int = 0
    not_found: int = 0
    articles: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "full": self.full,
            "not_modified": self.not_modified,
            "gzipped": self.gzipped,
            "not_found": self.not_found,
            "articles": self.articles,
        }


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison, as RFC 9110 asks for If-None-Match."""
    candidates = (part.strip() for part in header.split(","))
    return any(c == "*" or c.removeprefix("W/") == etag for c in candidates)


def _not_modified_since(header: str, last_modified: datetime) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return last_modified <= since


def is_fresh(request: web.Request, rendered: Rendered) -> bool:
    """True when the client's copy is current: If-None-Match wins over If-Modified-Since."""
    inm = request.headers.get("If-None-Match")
    if inm is not None:
        return _etag_matches(inm, rendered.etag)
    ims = request.headers.get("If-Modified-Since")
    return ims is not None and _not_modified_since(ims, rendered.last_modified)


def accepts_gzip(header: str) -> bool:
    """True when Accept-Encoding lists gzip (or *) with a non-zero quality."""
    for part in header.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "x-gzip", "*"):
            return _quality(params) > 0
    return False


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


class Farm:
    """The generated feeds, rendered and ready to serve."""

    def __init__(self, config: FarmConfig, port: int) -> None:
        self.config = config
        self.port = port
        self.pool = TextPool(config.seed)
        self.stats = Stats()
        self.rendered: dict[str, Rendered] = {}
        for index in range(config.feeds):
            feed = make_feed(self.pool, config, index, port)
            name = config.feed_path(index).rsplit("/", 1)[1]
            self.rendered[name] = render(feed, gzip_level=config.gzip_level)

    def urls(self) -> list[str]:
        return [self.config.feed_url(i, self.port) for i in range(self.config.feeds)]

    def total_bytes(self) -> tuple[int, int]:
        """Identity and gzip sizes of all feed bodies."""
        plain = sum(len(r.body) for r in self.rendered.values())
        packed = sum(len(r.gzipped or b"") for r in self.rendered.values())
        return plain, packed

    async def feed(self, request: web.Request) -> web.Response:
        rendered = self.rendered.get(request.match_info["name"])
        if rendered is None:
            self.stats.not_found += 1
            raise web.HTTPNotFound()
        if is_fresh(request, rendered):
            self.stats.not_modified += 1
            return web.Response(status=304, headers=_validators(rendered))
        self.stats.full += 1
        headers = dict(rendered.headers)
        body = rendered.body
        accept = request.headers.get("Accept-Encoding", "")
        if rendered.gzipped is not None and accepts_gzip(accept):
            self.stats.gzipped += 1
            headers["Content-Encoding"] = "gzip"
            body = rendered.gzipped
        return web.Response(body=body, headers=headers)

    async def article(self, request: web.Request) -> web.Response:
        """A small HTML page per item, regenerated on demand (for full-text runs)."""
        index, number = int(request.match_info["feed"]), int(request.match_info["item"])
        if not (0 <= index < self.config.feeds and 0 <= number < self.config.items):
            raise web.HTTPNotFound()
        self.stats.articles += 1
        base = f"http://{self.config.host(index)}:{self.port}"
        item = make_item(self.pool, self.config, index, number, base)
        page = (
            f"<!doctype html><html><head><title>{html_escape(item.title)}</title></head><body>"
            f"<article><h1>{html_escape(item.title)}</h1><p>By {html_escape(item.author)}</p>"
            f"{item.content_html}</article></body></html>"
        )
        return web.Response(text=page, content_type="text/html")

    async def stats_view(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats.as_dict())

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/feeds/{name}", self.feed)
        app.router.add_get("/articles/{feed:\\d+}/{item:\\d+}", self.article)
        app.router.add_get("/_stats", self.stats_view)
        return app


def _validators(rendered: Rendered) -> dict[str, str]:
    return {"ETag": rendered.etag, "Last-Modified": rendered.headers["Last-Modified"]}


def bind_sockets(hosts: int, port: int, attempts: int = 20) -> list[socket.socket]:
    """One listening socket per address 127.0.0.1..127.0.0.{hosts}, all on the same port.

    With ``port == 0`` the first bind picks a free port; if another address already uses it,
    everything is closed and another port is tried.
    """
    for _ in range(attempts):
        sockets: list[socket.socket] = []
        try:
            for n in range(1, hosts + 1):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sockets.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((f"127.0.0.{n}", port))
                port = port or sock.getsockname()[1]
                sock.listen(1024)
                sock.setblocking(False)
            return sockets
        except OSError as exc:
            for sock in sockets:
                sock.close()
            if exc.errno != errno.EADDRINUSE or port == 0:
                raise
            port = 0
    raise OSError(errno.EADDRINUSE, "no port free on every loopback address")


def write_opml(path: Path, urls: Sequence[str]) -> None:
    """An OPML 2.0 subscription list with one outline per feed."""
    outlines = "".join(
        f'    <outline type="rss" text="Farm feed {i}" title="Farm feed {i}" '
        f"xmlUrl={quoteattr(url)}/>\n"
        for i, url in enumerate(urls)
    )
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<opml version="2.0">\n'
        "  <head><title>Newsdesk benchmark farm</title></head>\n  <body>\n"
        f"{outlines}  </body>\n</opml>\n",
        encoding="utf-8",
    )


async def serve(config: FarmConfig, opml: Path | None, stop: asyncio.Event | None = None) -> None:
    """Generate, bind, announce on stdout (one JSON line), and serve until stopped."""
    started = time.perf_counter()
    sockets = bind_sockets(config.hosts, config.port)
    port = sockets[0].getsockname()[1]
    farm = Farm(config, port)
    if opml is not None:
        write_opml(opml, farm.urls())
    runner = web.AppRunner(farm.app(), access_log=None, handle_signals=False)
    await runner.setup()
    for sock in sockets:
        await web.SockSite(runner, sock, backlog=1024).start()
    plain, packed = farm.total_bytes()
    announce = {
        "port": port,
        "hosts": config.hosts,
        "feeds": config.feeds,
        "items": config.items,
        "bytes": plain,
        "gzip_bytes": packed,
        "startup_s": round(time.perf_counter() - started, 3),
        "opml": str(opml) if opml else None,
    }
    print(json.dumps(announce), flush=True)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def parse_args(argv: Sequence[str] | None = None) -> tuple[FarmConfig, Path | None]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--hosts", type=int, default=64, help="addresses 127.0.0.1..N (max 254)")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--gzip-level", type=int, default=1, choices=range(10), help="0 never answers with gzip"
    )
    parser.add_argument("--opml", type=Path, help="write an OPML list of all feed URLs here")
    args = parser.parse_args(argv)
    if not 1 <= args.hosts <= 254:
        parser.error("--hosts must be between 1 and 254")
    config = FarmConfig(
        feeds=args.feeds,
        items=args.items,
        hosts=args.hosts,
        seed=args.seed,
        port=args.port,
        gzip_level=args.gzip_level,
    )
    return config, args.opml


def main(argv: Sequence[str] | None = None) -> int:
    config, opml = parse_args(argv)
    asyncio.run(serve(config, opml))
    return 0


if __name__ == "__main__":
    sys.exit(main())

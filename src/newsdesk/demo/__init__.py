"""The demo: bundled sample sources (the seed page's timeline and starred articles, and social
timelines in Nitter, RSS-Bridge, Mastodon and Bluesky shapes) served on loopback.

The demo keeps a database of its own (``demo.db`` in the data folder) unless ``--db`` names
one, and it can run any number of times on it: the sample server is a new process each run,
so the feeds an earlier run subscribed (recognised by their path on a loopback sample server)
are pointed at this run's server instead of being subscribed again."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from newsdesk.demo.server import SampleServer

if TYPE_CHECKING:
    from newsdesk.desk import Desk
    from newsdesk.model import Feed
    from newsdesk.settings import Settings

SAMPLE_DIR = Path(__file__).parent / "sample"
SEED_DIR = SAMPLE_DIR / "seed"
SOCIAL_DIR = SAMPLE_DIR / "social"
SEED_FEEDS = ("/feeds/mikenov.rss", "/feeds/favorites.atom")
SOCIAL_FEEDS = (
    "/feeds/nitter.rss",
    "/feeds/rssbridge-twitter.atom",
    "/feeds/mastodon.rss",
    "/feeds/bluesky.rss",
)
# The seed page files each post under the name of its feed: the demo's categories say the same.
SEED_CATEGORIES = {
    "/feeds/mikenov.rss": "(@mikenov) / Twitter",
    "/feeds/favorites.atom": "Michael Novakhov's favorite articles",
}
SOCIAL_CATEGORY = "Social"
DEMO_CATEGORIES = {**SEED_CATEGORIES, **dict.fromkeys(SOCIAL_FEEDS, SOCIAL_CATEGORY)}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def demo_database_url() -> str:
    """The demo's own database, beside (never in) the user's default one."""
    import platformdirs

    data_dir = Path(platformdirs.user_data_dir("newsdesk", appauthor=False))
    return f"sqlite:///{data_dir / 'demo.db'}"


def _sample_path(feed: Feed, paths: Mapping[str, str]) -> str | None:
    """The sample path a feed was subscribed at, when it is one of ours on loopback."""
    parts = urlsplit(feed.url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path if path in paths else None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _start_server(folders: tuple[Path, ...], earlier: list[Feed]) -> SampleServer:
    """The sample server, on the port the earlier run used when it is free: the feeds and
    their entries keep their URLs then."""
    for feed in earlier:
        port = urlsplit(feed.url).port
        if port:
            try:
                return SampleServer(*folders, port=port).start()
            except OSError:
                break  # taken: any free port, and the feeds are re-pointed
    return SampleServer(*folders).start()


def allow_sample_server(settings: Settings, base: str) -> Settings:
    """``settings`` with the SSRF guard lifted for the sample server at ``base``: its own
    address and port only, so the rest of loopback stays out of reach of whoever uses the desk
    (``allow_private_networks`` would open every internal address to the whole server)."""
    own = base.split("://", 1)[1]
    listed = ", ".join(part for part in (settings.allowed_networks.strip(), own) if part)
    return settings.replace(allowed_networks=listed)


def serve_samples(desk: Desk, folders: tuple[Path, ...], paths: Mapping[str, str]) -> SampleServer:
    """Start the sample server for ``folders`` and subscribe the desk to ``paths`` (sample
    path → category), exactly once: an earlier run's feed for a path is re-pointed at this
    server (with its entries, so nothing comes twice), duplicates of it are removed."""
    found: dict[str, list[Feed]] = {}
    for feed in desk.store.list_feeds():
        if (path := _sample_path(feed, paths)) is not None:
            found.setdefault(path, []).append(feed)
    server = _start_server(folders, [f for feeds in found.values() for f in feeds])
    for path, category in paths.items():
        url = server.base + path
        feeds = sorted(found.get(path, []), key=lambda f: (f.url != url, f.id))
        if not feeds:
            desk.store.add_feed(url, category=category)
            continue
        kept, *extra = feeds
        for feed in extra:  # what an older demo subscribed again at each new port
            desk.store.remove_feed(feed.id)
        if kept.url != url:
            desk.store.update_feed(
                kept.id,
                url=url,
                moved_from=None,
                error_count=0,
                error_since=None,
                last_error=None,
                next_check=None,
                paused=False,
                paused_reason=None,
            )
            desk.store.reading.rebase_entries(kept.id, _origin(kept.url), server.base)
    return server


def run_demo(db: str | None = None, fulltext: bool = True) -> int:
    """Serve the seed sample on loopback, subscribe to its feeds, refresh, print the digest."""
    from newsdesk.desk import Desk
    from newsdesk.settings import load_settings

    url = db or demo_database_url()
    settings = load_settings(database_url=url)
    desk = Desk(settings)
    try:
        server = serve_samples(desk, (SEED_DIR,), SEED_CATEGORIES)
        desk = Desk(allow_sample_server(settings, server.base), store=desk.store)
        try:
            print(f"Serving the sample sources at {server.base}; database {url}", file=sys.stderr)
            report = asyncio.run(desk.refresh_async(fulltext=fulltext))
            print(report.summary, file=sys.stderr)
            sys.stdout.write(desk.digest())
            _print_intel(desk)
        finally:
            server.stop()
    finally:
        desk.close()
    return 0


def _print_intel(desk: Desk) -> None:
    """After the digest: the stories and the most mentioned names the refresh found."""
    stories = desk.store.stories.list_stories(limit=5)
    names = [e.name for e in desk.store.entities.list_entities(limit=8)]
    lines = [f"\n{len(stories)} stories across sources:"] if stories else []
    for story in stories:
        lines.append(f"  {story.size} entries, {story.sources} sources: {story.title or '?'}")
    if names:
        lines.append("Most mentioned: " + ", ".join(names))
    if lines:
        lines.append("(newsdesk stories, newsdesk entity NAME, newsdesk timeline --entity NAME)")
        print("\n".join(lines), file=sys.stderr)

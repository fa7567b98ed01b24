"""The demo: bundled sample sources (the seed page's timeline and starred articles, and social
timelines in Nitter, RSS-Bridge, Mastodon and Bluesky shapes) served on loopback."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from newsdesk.demo.server import SampleServer

if TYPE_CHECKING:
    from newsdesk.desk import Desk

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


def run_demo(db: str | None = None, fulltext: bool = True) -> int:
    """Serve the seed sample on loopback, subscribe to its feeds, refresh, print the digest."""
    from newsdesk.desk import Desk
    from newsdesk.settings import load_settings

    server = SampleServer(SEED_DIR).start()
    tmp = None
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="newsdesk-demo-")
        db = f"sqlite:///{tmp.name}/demo.db"
    # The guard is lifted for the sample server's own address and port only.
    settings = load_settings(database_url=db, allowed_networks=server.base.split("://", 1)[1])
    desk = Desk(settings)
    try:
        print(f"Serving the sample sources at {server.base}; database {db}", file=sys.stderr)
        known = {f.url for f in desk.store.list_feeds()}
        for path in SEED_FEEDS:
            if server.base + path not in known:
                desk.add_feed(server.base + path)
        report = desk.refresh(fulltext=fulltext)
        print(report.summary, file=sys.stderr)
        sys.stdout.write(desk.digest())
        _print_intel(desk)
    finally:
        desk.close()
        server.stop()
        if tmp is not None:
            tmp.cleanup()
    return 0


def _print_intel(desk: Desk) -> None:
    """After the digest: the stories and the most mentioned names the refresh found."""
    from newsdesk.store.entities import list_entities
    from newsdesk.store.stories import list_stories

    engine = desk.store.engine
    stories = list_stories(engine, limit=5)
    names = [e.name for e in list_entities(engine, limit=8)]
    lines = [f"\n{len(stories)} stories across sources:"] if stories else []
    for story in stories:
        lines.append(f"  {story.size} entries, {story.sources} sources: {story.title or '?'}")
    if names:
        lines.append("Most mentioned: " + ", ".join(names))
    if lines:
        lines.append("(newsdesk stories, newsdesk entity NAME, newsdesk timeline --entity NAME)")
        print("\n".join(lines), file=sys.stderr)

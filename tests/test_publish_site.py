"""`newsdesk publish`: the static site (index river, category pages, feeds, OPML) from the
sample sources, and its bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import feedparser

from newsdesk.demo import SEED_FEEDS, SOCIAL_FEEDS
from newsdesk.demo.server import SampleServer
from newsdesk.parse import parse_opml
from newsdesk.web.site import slugify


def test_publish_static_site(
    cli: Any, tmp_path: Path, seed_server: SampleServer, social_server: SampleServer
) -> None:
    db = f"sqlite:///{tmp_path / 'n.db'}"
    for path in SEED_FEEDS:
        assert cli("add", seed_server.base + path, "--db", db).code == 0
    for path in SOCIAL_FEEDS:
        assert cli("add", social_server.base + path, "--category", "Social", "--db", db).code == 0
    assert cli("refresh", "--no-fulltext", "--db", db).code == 0
    out = tmp_path / "site"
    result = cli("publish", "--out", str(out), "--base-url", "https://planet.example/", "--db", db)
    assert result.code == 0, result.err
    assert "pages" in result.out
    index = (out / "index.html").read_text()
    assert "<script" not in index
    assert 'href="category/social.html"' in index
    assert 'rel="alternate" type="application/atom+xml"' in index
    social = (out / "category" / "social.html").read_text()
    assert 'href="../style.css"' in social and 'href="../feeds/category/social.atom"' in social
    feed = feedparser.parse((out / "feeds" / "category" / "social.atom").read_bytes())
    assert not feed.bozo and len(feed.entries) > 3
    assert feed.feed.links[0].href.startswith("https://planet.example/")
    rss = feedparser.parse((out / "feeds" / "all.rss").read_bytes())
    assert not rss.bozo and len(rss.entries) > len(feed.entries)
    assert (out / "feeds" / "all.json").read_text().startswith("{")
    outlines = parse_opml((out / "sources.opml").read_bytes())
    assert len(outlines) == len(SEED_FEEDS) + len(SOCIAL_FEEDS)
    assert (out / "style.css").stat().st_size > 100
    assert not list(out.rglob("*.tmp"))

    # Only some categories: the site holds them and their sources only.
    only = tmp_path / "only"
    assert cli("publish", "--out", str(only), "--category", "Social", "--db", db).code == 0
    assert [p.name for p in (only / "category").iterdir()] == ["social.html"]
    assert len(parse_opml((only / "sources.opml").read_bytes())) == len(SOCIAL_FEEDS)


def test_publish_bad_input(cli: Any, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'n.db'}"
    result = cli("publish", "--out", str(tmp_path / "x"), "--category", "Nope", "--db", db)
    assert result.code == 1 and "no category named 'Nope'" in result.err
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = cli("publish", "--out", str(blocker), "--db", db)
    assert result.code == 1 and "cannot write" in result.err


def test_slugs() -> None:
    assert slugify("Michael Novakhov's favorite articles") == "michael-novakhov-s-favorite-articles"
    assert slugify("Почта / ???") == "category"
    assert slugify("Économie") == "economie"

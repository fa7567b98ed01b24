"""The acceptance test of the core pipeline: the seed sources rebuild the seed page through the
CLI — every post, in order, under the right category — but cleaner: articles carry their full
text without boilerplate, and the tweets that share an article point to it. Then a second
refresh is conditional (both feeds answer 304) and adds nothing."""

from __future__ import annotations

import json
import re
from typing import Any

from newsdesk.demo import SEED_CATEGORIES, SEED_DIR, SEED_FEEDS
from newsdesk.demo.server import SampleServer

EXPECTED: list[dict[str, Any]] = json.loads((SEED_DIR / "expected.json").read_text())
SEED_PAGE = (SEED_DIR / "seed-page.txt").read_text()


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _subscribe_and_refresh(cli: Any, db: str, server: SampleServer) -> list[dict[str, Any]]:
    for path in SEED_FEEDS:
        # the seed page's user files each feed in a category named after it
        category = SEED_CATEGORIES[path]
        assert cli("add", server.base + path, "--category", category, "--db", db).code == 0
    result = cli("refresh", "--db", db)
    assert result.code == 0, result.err
    assert "2 feeds, 10 new entries, 0 errors" in result.out
    listed = cli("entries", "--json", "--limit", "100", "--db", db)
    assert listed.code == 0
    entries: list[dict[str, Any]] = listed.json()
    return entries


def test_seed_rebuilds_the_page(cli: Any, store_url: str, seed_server: SampleServer) -> None:
    base = seed_server.base
    entries = _subscribe_and_refresh(cli, store_url, seed_server)
    assert len(entries) == len(EXPECTED) == 10
    by_url = {e["url"]: e for e in entries}
    for entry, want in zip(entries, EXPECTED, strict=True):
        where = f"position {want['position']}"
        assert entry["category"] == want["category"], where
        assert entry["kind"] == want["kind"], where
        assert entry["published"] == want["published"], where
        for field in (
            "id",
            "feed_id",
            "feed_title",
            "title",
            "author",
            "url",
            "content_text",
            "content_html",
            "tags",
            "links",
            "related",
            "enclosures",
        ):
            assert field in entry, f"{where}: JSON lacks {field}"
        if want["kind"] == "post":
            assert entry["author"] == want["author"], where
            assert _norm(entry["content_text"]) == _norm(want["text"]), where
            targets = [t.replace("{{BASE}}", base) for t in want["links_to"]]
            for target in targets:
                # the t.co link was expanded to the article, and the post points to its entry
                assert target in entry["links"], where
                article = by_url[target]
                assert article["id"] in entry["related"], where
                assert entry["id"] in article["related"], where
            if not targets:
                assert entry["related"] == [], where
        else:
            assert entry["title"] == want["title"], where
            assert entry["url"] == want["url"].replace("{{BASE}}", base), where
            paragraphs = [_norm(p) for p in entry["content_text"].split("\n\n")]
            for paragraph in want["required_paragraphs"]:
                assert _norm(paragraph) in paragraphs, f"{where}: missing {paragraph[:60]!r}"
            allowed = {_norm(p) for p in want["required_paragraphs"] + want["optional_paragraphs"]}
            extra = [p for p in paragraphs if p not in allowed]
            assert extra == [], f"{where}: boilerplate kept: {extra[:3]}"
            for boilerplate in want["forbidden"]:
                assert boilerplate not in entry["content_text"], f"{where}: {boilerplate!r}"
                visible_html = re.sub(r"<[^>]+>", " ", entry["content_html"])
                assert boilerplate not in visible_html, f"{where}: {boilerplate!r}"


def test_digest_uses_the_seed_layout(cli: Any, sqlite_url: str, seed_server: SampleServer) -> None:
    _subscribe_and_refresh(cli, sqlite_url, seed_server)
    digest = cli("digest", "--db", sqlite_url).out
    blocks = digest.rstrip("\n").split("\n\n\n\n")
    assert len(blocks) == 10
    for block, want in zip(blocks, EXPECTED, strict=True):
        lines = block.split("\n")
        assert lines[0] == "Categories"
        assert lines[1] == want["category"]
        assert lines[2] == ""
        if want["kind"] == "post":
            assert lines[3] == f"{want['author']}: {want['text']}"
            # the seed page shows this post the same way
            assert f"\n{lines[3]}\n" in SEED_PAGE + "\n"
            for target in want["links_to"]:
                url = target.replace("{{BASE}}", seed_server.base)
                assert any(line.startswith("↪ ") and line.endswith(url) for line in lines)
        else:
            assert lines[3] == want["title"]
            assert lines[4] == ""
            assert _norm(lines[5]) == _norm(want["required_paragraphs"][0])
            for boilerplate in want["forbidden"]:
                assert boilerplate not in block
    assert "image_print" not in digest


def test_second_refresh_is_conditional(cli: Any, store_url: str, seed_server: SampleServer) -> None:
    _subscribe_and_refresh(cli, store_url, seed_server)
    seed_server.requests.clear()
    again = cli("refresh", "--db", store_url)
    assert again.code == 0
    assert "2 feeds, 0 new entries, 0 errors (2 unchanged" in again.out
    feed_requests = [r for r in seed_server.requests if r[1] in SEED_FEEDS]
    assert sorted(feed_requests) == sorted(("GET", path, 304) for path in SEED_FEEDS)
    # nothing else was fetched: no article page, no short link
    assert len(seed_server.requests) == 2
    assert len(cli("entries", "--json", "--db", store_url).json()) == 10


def test_search_finds_full_text(cli: Any, store_url: str, seed_server: SampleServer) -> None:
    _subscribe_and_refresh(cli, store_url, seed_server)
    # words that appear only in the extracted full text, not in the feed summaries
    hits = cli("search", "Chesnoff handler", "--json", "--db", store_url).json()
    assert hits and hits[0]["title"].startswith("Premier Palace")
    assert "[" in hits[0]["snippet"]
    assert (
        cli("search", "Bogdanov", "--json", "--db", store_url)
        .json()[0]["url"]
        .endswith("a-68364312")
    )
    assert cli("search", "zzzznotaword", "--json", "--db", store_url).json() == []


def test_parse_pool_gives_the_same_result(
    cli: Any, tmp_path: Any, seed_server: SampleServer, monkeypatch: Any
) -> None:
    """Large refreshes parse in worker processes: same entries as parsing in-process."""
    from newsdesk import refresh

    digests = []
    for name, threshold in (("inline", 10_000), ("pool", 1)):
        monkeypatch.setattr(refresh, "PARSE_POOL_MIN_FEEDS", threshold)
        db = f"sqlite:///{tmp_path / name}.db"
        _subscribe_and_refresh(cli, db, seed_server)
        digests.append(cli("digest", "--format", "json", "--db", db).json())
    inline, pooled = digests
    assert len(inline) == len(pooled) == 10

    def comparable(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # ids follow the order feeds finish in, which differs: compare related entries by URL
        url_of = {e["id"]: e["url"] for e in entries}
        return [
            {k: v for k, v in e.items() if k not in ("id", "first_seen", "related")}
            | {"related": sorted(url_of[i] for i in e["related"])}
            for e in entries
        ]

    assert comparable(inline) == comparable(pooled)

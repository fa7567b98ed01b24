"""The social fixture: Nitter, RSS-Bridge, Mastodon and Bluesky shapes become clean posts with the
author, text without markers, tags, expanded canonical links and enclosures of expected.json."""

from __future__ import annotations

import json
from typing import Any

from newsdesk.demo import SOCIAL_DIR, SOCIAL_FEEDS
from newsdesk.demo.server import SampleServer

EXPECTED: list[dict[str, Any]] = json.loads((SOCIAL_DIR / "expected.json").read_text())


def test_social_feeds_become_posts(cli: Any, store_url: str, social_server: SampleServer) -> None:
    base = social_server.base
    for path in SOCIAL_FEEDS:
        assert cli("add", base + path, "--db", store_url).code == 0
    refreshed = cli("refresh", "--no-fulltext", "--db", store_url)
    assert refreshed.code == 0, refreshed.out + refreshed.err
    entries = cli("entries", "--json", "--limit", "100", "--db", store_url).json()
    feeds = {f["id"]: f["url"] for f in cli("feeds", "--json", "--db", store_url).json()}
    for want in EXPECTED:
        feed_url = base + want["feed"]
        matches = [
            e
            for e in entries
            if feeds[e["feed_id"]] == feed_url
            and e["url"] is not None
            and (e["url"].endswith(want["guid_ends"]) or want["guid_ends"] in e["url"])
        ]
        assert len(matches) == 1, want["note"] if "note" in want else want["guid_ends"]
        entry = matches[0]
        label = want["guid_ends"]
        assert entry["kind"] == want["kind"], label
        if "author_contains" in want:
            assert want["author_contains"] in (entry["author"] or ""), label
        if "reposted_by" in want:
            assert entry["reposted_by"] == want["reposted_by"], label
        text = entry["content_text"]
        if "text_starts" in want:
            assert text.startswith(want["text_starts"]), (label, text[:80])
            assert not text.startswith(("RT by", "R to", "RT:")), label
        for fragment in want.get("text_contains", []):
            assert fragment in text, label
        for tag in want.get("tags", []):
            assert tag in entry["tags"], (label, entry["tags"])
        for link in want.get("links_contain", []):
            assert link.replace("{{BASE}}", base) in entry["links"], (label, entry["links"])
        for enclosure in want.get("enclosures", []):
            urls = [e["url"] for e in entry["enclosures"]]
            assert enclosure.replace("{{BASE}}", base) in urls, label
        assert "utm_" not in " ".join(entry["links"]), label

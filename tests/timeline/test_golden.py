"""Golden files: the events of the seed's articles and posts (tests/data/timeline/*.json,
reviewed by hand: they are the spec). The input is what the seed says the article text is
(expected.json: required paragraphs, blank lines between them); the full-text extractor's output
for the article pages must give at least the same events."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from newsdesk.demo import SEED_DIR
from newsdesk.process.fulltext import extract_page
from newsdesk.timeline import Event, extract_events

DATA = Path(__file__).resolve().parent.parent / "data" / "timeline"
SEED = {post["position"]: post for post in json.loads((SEED_DIR / "expected.json").read_text())}
ARTICLES = sorted(p for p, post in SEED.items() if post["kind"] == "article")


def _published(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _rows(events: list[Event]) -> list[dict[str, Any]]:
    return [
        {"date": e.date, "precision": e.precision, "position": e.position, "sentence": e.sentence}
        for e in events
    ]


def _golden(position: int) -> dict[str, Any]:
    return json.loads((DATA / f"seed-article-{position}.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize("position", ARTICLES)
def test_seed_article_events_match_the_golden_file(position: int) -> None:
    post = SEED[position]
    golden = _golden(position)
    assert golden["published"] == post["published"] and golden["title"] == post["title"]
    text = "\n\n".join(post["required_paragraphs"])
    assert _rows(extract_events(text, published=_published(post["published"]))) == golden["events"]


def test_seed_posts_match_the_golden_file() -> None:
    golden = json.loads((DATA / "seed-posts.json").read_text())["posts"]
    posts = [p for p in SEED.values() if p["kind"] == "post"]
    assert [g["position"] for g in golden] == [p["position"] for p in posts]
    for want, post in zip(golden, posts, strict=True):
        got = extract_events(post["text"], published=_published(post["published"]))
        assert _rows(got) == want["events"], post["text"]


@pytest.mark.parametrize("position", ARTICLES)
def test_extracted_article_pages_give_the_golden_events(position: int) -> None:
    """What the refresh pipeline stores as the article's text (trafilatura on the page)."""
    post = SEED[position]
    page = SEED_DIR / "site" / "pages" / f"article-{position}.html"  # the page of that post
    text = extract_page(page.read_bytes(), "http://seed.example/article").text
    got = {
        (e.date, e.precision, e.sentence)
        for e in extract_events(text, published=_published(post["published"]))
    }
    want = {(e["date"], e["precision"], e["sentence"]) for e in _golden(position)["events"]}
    assert want <= got


def test_the_issue_examples_are_in_the_golden_files() -> None:
    """The bullet items and dated sentences the issue names, as the timeline must show them."""
    events = _golden(4)["events"]

    def has(date: str, precision: str, opening: str) -> bool:
        return any(
            (e["date"], e["precision"]) == (date, precision) and e["sentence"].startswith(opening)
            for e in events
        )

    assert has("2023-08-01", "month", "August 2023: Smirnov “had been introduced”")
    assert has("2023-09-27", "day", "September 27, 2023: Smirnov interviewed")
    assert has("2023-09-27", "day", "Note that the really interesting discussions post-date")
    assert has("2022-02-01", "month", "February 2022: Smirnov provides his handler")
    assert has("2002-01-01", "year", "2002: Smirnov helps flip RO 5")
    assert has("2002-01-01", "year", "When working in Country D (probably Israel) in 2002")
    assert has("2019-01-01", "year", "In 2019, RO 5 expressed")
    assert has("1992-01-01", "year", "1992 to 2006: Smirnov lives in Israel")
    # a numbered paragraph of the indictment loses its number, keeps its date
    assert has("2023-08-29", "day", "On August 29, 2023, FBI investigators")
    # "$1,425,000", "RO 5", "pages 8-15", "99%", "FD-1023", "the 2020 1023" are no dates
    years = {e["date"][:4] for e in events}
    assert years == {"1992", "2002", "2010", "2016", "2017", "2019", "2020", "2022", "2023", "2024"}

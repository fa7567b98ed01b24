"""Full-text extraction on small pages written for these tests: article containers whose class or
id carries a "boilerplate" word stay whole; a first extraction that is a menu falls back to
readability-lxml; extraction rules (body and drop selectors) read from data apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsdesk.process.boilerplate import clean_extracted, quality
from newsdesk.process.extract_rules import (
    ExtractRule,
    ExtractRuleError,
    ExtractRules,
    load_extract_rules,
)
from newsdesk.process.fulltext import choose_extraction, extract_page, parse_page
from newsdesk.settings import SettingsError, load_settings

URL = "http://news.example/2024/05/harbour-reopens"

PARAGRAPHS = [
    "The harbour of Northhaven reopened on Tuesday after eleven weeks of repairs to the sea wall, "
    "which a winter storm had breached in two places near the old fish market.",
    "Engineers from the regional authority rebuilt forty metres of the wall with granite blocks "
    "quarried inland, and raised the whole length of it by half a metre against future surges.",
    "Fishing crews, who had been landing their catch at a port two hours to the south, said the "
    "detour had cost them fuel and sleep, and that the first morning back felt like a holiday.",
    "The harbour master said traffic would return to normal within a week, once the dredgers "
    "have cleared the silt that the storm pushed into the inner basin.",
]

NAV = "".join(
    f'<li><a href="/{s.lower()}">{s}</a></li>'
    for s in ("Sections", "News", "Metro", "Sports", "Business", "Opinion", "Weather", "Arts")
)


def _page(container_open: str, container_close: str, extra: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return f"""<!doctype html><html><head><title>Harbour reopens | Northhaven Post</title>
<meta property="og:title" content="Harbour reopens after eleven weeks"></head>
<body><header><nav class="site-nav"><ul>{NAV}</ul></nav></header>
<main>{container_open}<h1>Harbour reopens after eleven weeks</h1>{body}{container_close}
{extra}</main>
<footer><p>© 2024 Northhaven Post. All rights reserved.</p></footer></body></html>"""


@pytest.mark.parametrize(
    ("opening", "closing"),
    [
        ('<article class="post-share-wrapper">', "</article>"),
        ('<div id="comments-enabled-article">', "</div>"),
        ('<div class="ad-free-content">', "</div>"),
        ('<section class="related-story social-widget promo">', "</section>"),
        ('<div class="banner-story skip-link-target sidebar-layout">', "</div>"),
    ],
)
def test_article_containers_named_like_boilerplate_are_kept(opening: str, closing: str) -> None:
    page = extract_page(_page(opening, closing).encode(), URL)
    assert page.error is None
    paragraphs = page.text.split("\n\n")
    for paragraph in PARAGRAPHS:
        assert paragraph in paragraphs
    assert "Metro" not in page.text
    assert page.title == "Harbour reopens after eleven weeks"


def test_widget_labels_are_dropped_after_extraction() -> None:
    extra = (
        '<div class="story-tools"><p>Share on Facebook</p><p>Print this article</p>'
        "<p>Photo: Harbour Authority</p></div>"
    )
    page = extract_page(_page("<article>", "</article>" + extra).encode(), URL)
    assert all(p in page.text for p in PARAGRAPHS)
    for label in ("Share on Facebook", "Print this article", "Photo: Harbour Authority"):
        assert label not in page.text


def test_clean_extracted_keeps_sentences_that_start_like_a_label() -> None:
    long = "Share prices rose sharply " + "after the harbour reopened, traders said. " * 4
    body = f"<p>{long}</p><p>Share this</p><p>Read more</p>"
    cleaned = clean_extracted(body)
    assert long.strip() in cleaned
    assert "Share this" not in cleaned and "Read more" not in cleaned


def test_quality_tells_a_menu_from_an_article() -> None:
    menu = f"<ul>{NAV}{NAV}</ul>"
    article = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    signatories = "<ul>" + "".join(f"<li>Signer number {i}</li>" for i in range(20)) + "</ul>"
    assert quality(menu)[0] < 0.5
    assert quality(article)[0] > 0.9
    assert quality(article + signatories)[0] > 0.9  # short lines that are not links: not a menu


def test_a_menu_extraction_falls_back_to_readability() -> None:
    """When the first extraction is mostly links (a site's navigation), readability-lxml reads
    the same tree and its article replaces the menu."""
    html = _page('<article class="story">', "</article>")
    tree = parse_page(html.encode())
    menu = f"<ul>{NAV}</ul>"
    chosen = choose_extraction(tree, URL, menu)
    assert all(p in chosen for p in PARAGRAPHS)
    assert "Metro" not in chosen
    # a good first extraction is kept as it is, and readability never runs
    article = "".join(f"<p>{p}</p>" for p in PARAGRAPHS * 2)
    assert choose_extraction(tree, URL, article) == article


RULE_PAGE = f"""<html><head><title>Rules</title></head><body>
<div class="wrapper"><div class="story-body">{"".join(f"<p>{p}</p>" for p in PARAGRAPHS)}
<div class="promo-box"><p>{"Our weekend offer: two papers for the price of one. " * 4}</p></div>
</div>
<div class="other-story"><p>{"A long unrelated story about the town's library budget. " * 6}</p>
</div></div></body></html>"""


def test_extraction_rule_from_data_picks_the_body_and_drops() -> None:
    rules = ExtractRules.from_data(
        {"news.example": {"body": "div.story-body", "drop": [".promo-box"]}}
    )
    rule = rules.for_url("https://www.news.example/x")  # subdomains follow their site
    assert rule == ExtractRule(body="div.story-body", drop=(".promo-box",))
    assert rules.for_url("https://elsewhere.example/") is None
    page = extract_page(RULE_PAGE.encode(), URL, rule=rule)
    assert all(p in page.text for p in PARAGRAPHS)
    assert "weekend offer" not in page.text
    assert "library budget" not in page.text
    # without the rule, the promotion is not removed by anything else
    assert "weekend offer" in extract_page(RULE_PAGE.encode(), URL).text


def test_extraction_rules_file_and_setting(tmp_path: Path) -> None:
    toml = tmp_path / "rules.toml"
    toml.write_text('["news.example"]\nbody = "div.story-body"\ndrop = [".promo-box"]\n')
    assert load_extract_rules(toml).for_url(URL) == ExtractRule("div.story-body", (".promo-box",))
    settings = load_settings(env={"NEWSDESK_EXTRACT_RULES": str(toml)})
    assert settings.extract_rules == str(toml)
    bad = tmp_path / "bad.json"
    bad.write_text('{"news.example": {"body": "div[[", "drop": []}}')
    with pytest.raises(ExtractRuleError, match="bad CSS selector"):
        load_extract_rules(bad)
    with pytest.raises(SettingsError):
        load_settings(env={"NEWSDESK_EXTRACT_RULES": str(bad)})
    with pytest.raises(ExtractRuleError, match="unknown keys"):
        ExtractRules.from_data({"a.example": {"bodyy": "p"}})


def test_empty_and_unreadable_pages_say_so() -> None:
    assert extract_page(b"  ", URL).error == "the page is empty"
    assert extract_page(b"<html><body></body></html>", URL).error

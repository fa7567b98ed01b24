"""The rules applied to what the extractor returned, on small pages and fragments written for these
tests: figure captions stay in the HTML but not in the plain text; "read also" pointers, calls to
subscribe or follow, date stamps, disclosures and the teasers that end a page are dropped; the
article's own sentences that look a little like them are kept."""

from __future__ import annotations

from newsdesk.process.boilerplate import clean_extracted
from newsdesk.process.captions import CLOSE, OPEN, drop_captions
from newsdesk.process.fulltext import extract_page
from test_fulltext import PARAGRAPHS, URL  # the same hand-written article

ARTICLE = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)


def _page(body: str) -> bytes:
    return f"""<!doctype html><html><head><title>Harbour reopens | Northhaven Post</title></head>
<body><main><article><h1>Harbour reopens after eleven weeks</h1>{body}</article></main>
<footer><p>Northhaven Post</p></footer></body></html>""".encode()


def test_captions_stay_in_the_html_and_leave_the_text() -> None:
    body = (
        ARTICLE[: ARTICLE.index("<p>Fishing")]
        + '<figure><img src="/wall.jpg" alt="The new wall">'
        + "<p>The rebuilt sea wall at dawn. Photo: Ana Lima</p></figure>"
        + ARTICLE[ARTICLE.index("<p>Fishing") :]
        + '<div class="wp-caption"><img src="/boats.jpg">'
        + '<p class="wp-caption-text">Boats back at the quay on Tuesday</p></div>'
    )
    page = extract_page(_page(body), URL)
    assert all(p in page.text for p in PARAGRAPHS)
    for caption in ("The rebuilt sea wall at dawn", "Boats back at the quay"):
        assert caption in page.html
        assert caption not in page.text
    assert '<img src="http://news.example/wall.jpg"' in page.html
    assert OPEN not in page.html + page.text and CLOSE not in page.html + page.text


def test_a_caption_whose_closing_mark_was_lost_ends_with_its_paragraph() -> None:
    text = f"First paragraph.\n\n{OPEN}A caption, its end lost\n\nSecond paragraph."
    assert drop_captions(text) == "First paragraph.\n\nSecond paragraph."
    closed = f"Before {OPEN}a caption{CLOSE} after.\n\nNext."
    assert drop_captions(closed) == "Before  after.\n\nNext."


def test_pointers_calls_stamps_and_disclosures_are_dropped() -> None:
    dropped = [
        "Read more: Storm breaches the sea wall in two places",
        "Lea también: El puerto reabre tras once semanas",
        "LESEN SIE AUCH: Hafen wieder offen",
        "Follow us on Twitter and Facebook for the latest news.",
        "Sign up for our morning newsletter and never miss a story.",
        "Download the Northhaven Post app for iOS and Android.",
        "Updated: 12.03.2024, 14:05",
        "14 March 2024",
        "This post contains affiliate links: we may earn a commission.",
        "View comments",
        "Crédits photos : Ana Lima",
    ]
    body = ARTICLE + "".join(f"<p>{d}</p>" for d in dropped) + f"<p>{PARAGRAPHS[0]}</p>"
    cleaned = clean_extracted(body)
    assert all(p in cleaned for p in PARAGRAPHS)
    for text in dropped:
        assert text not in cleaned, text


def test_sentences_that_look_like_boilerplate_are_kept() -> None:
    kept = [
        "Read more about the plan in the council's report, published on Monday.",
        "Follow him on Twitter: @harbourmaster",
        "The harbour master said he would read more of the engineers' report on the "
        "newsletter the port authority sends to crews every week, and subscribe to the "
        "regional one too, since the storm season had made everyone a reader of forecasts "
        "and of the small print in insurance letters that nobody had read before this winter.",
    ]
    cleaned = clean_extracted(ARTICLE + "".join(f"<p>{k}</p>" for k in kept))
    for text in kept:
        assert text.replace("'", "&#x27;") in cleaned or text in cleaned, text


def test_the_teasers_that_end_a_page_are_dropped() -> None:
    teasers = (
        "<h2>More from the harbour</h2>"
        '<p><a href="/a">Fish prices fall as the boats return</a></p><img src="/a.jpg">'
        '<p><a href="/b">The old fish market gets a new roof</a></p>'
    )
    cleaned = clean_extracted(ARTICLE + '<img src="/last.jpg">' + teasers)
    assert all(p in cleaned for p in PARAGRAPHS)
    assert '<img src="/last.jpg">' in cleaned  # the article's last photo stays
    for text in ("More from the harbour", "Fish prices fall", "new roof", "/a.jpg"):
        assert text not in cleaned


def test_a_closing_section_of_the_article_is_not_a_teaser() -> None:
    ending = (
        "<h2>What comes next</h2><p>The authority will inspect the wall again in autumn, "
        "before the first storms, and publish what it finds.</p>"
    )
    assert clean_extracted(ARTICLE + ending) == ARTICLE + ending
    # teasers may not take more than half of the text
    links = "".join(f'<p><a href="/{i}">Headline number {i} of the list</a></p>' for i in range(40))
    assert "Headline number 39" in clean_extracted("<p>Short intro.</p><h2>Links</h2>" + links)


def test_icon_font_characters_in_a_page_are_not_caption_marks() -> None:
    # icon fonts put glyphs at U+E000 and up; the caption marks are elsewhere
    body = f"<p>\ue000 {PARAGRAPHS[0]}</p>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS[1:])
    page = extract_page(_page(body), URL)
    assert all(p in page.text for p in PARAGRAPHS)

"""Clustering's features without a database: MinHash estimates, stable hashing, title words,
which URLs may tie entries together, and the stored forms."""

from __future__ import annotations

import random

import numpy as np
import pytest

from newsdesk.stories import features as ft

WORDS = [f"w{n}" for n in range(5000)]


def _text(rng: random.Random, words: int) -> list[str]:
    return [rng.choice(WORDS) for _ in range(words)]


def test_minhash_estimates_jaccard() -> None:
    rng = random.Random(3)
    errors = []
    for _ in range(40):
        base = _text(rng, 300)
        cut = rng.randint(20, 250)
        other = base[:cut] + _text(rng, 300 - cut)
        sets = ft.shingle_sets([" ".join(base), " ".join(other)])
        a, b = (set(s.tolist()) for s in sets)
        truth = len(a & b) / len(a | b)
        sigs = ft._minhash_many(sets, ft._TEXT_A, ft._TEXT_B)
        errors.append(float(np.mean(sigs[0] == sigs[1])) - truth)
    assert abs(float(np.mean(errors))) < 0.03  # unbiased
    assert float(np.std(errors)) < 0.09  # about sqrt(J(1-J)/60)


def test_hashing_is_stable_and_batch_independent() -> None:
    text = "The quick brown fox jumps over the lazy dog " * 5
    alone = ft.compute([ft.Item("article", "A title", text, None, [])])[0]
    in_batch = ft.compute(
        [ft.Item("article", "Other", "x y z " * 40, None, [])] * 3
        + [ft.Item("article", "A title", text, None, [])]
    )[3]
    assert alone.minhash is not None and in_batch.minhash is not None
    assert alone.minhash.tolist() == in_batch.minhash.tolist()
    assert alone.text_keys == in_batch.text_keys
    # stored signatures must mean the same thing in every release: pin a few values
    assert len(alone.text_keys) == ft.TEXT_BANDS
    assert (
        alone.signature_blob()
        == ft.compute([ft.Item("post", "", text, None, [])])[0].signature_blob()
    )
    values, shingles = ft.signature_values(alone.signature_blob())
    assert values == alone.minhash.astype("<u4").tobytes() and shingles == alone.shingles
    assert ft.parse_signature(alone.signature_blob())[0].tolist() == alone.minhash.tolist()


def test_text_is_case_and_punctuation_blind() -> None:
    a = "Officials said the bridge, built in 1902, would close; repairs start “soon”. " * 4
    b = "OFFICIALS SAID THE BRIDGE BUILT IN 1902 WOULD CLOSE REPAIRS START SOON " * 4
    fa, fb = ft.compute([ft.Item("article", "", a, None, []), ft.Item("article", "", b, None, [])])
    assert fa.minhash is not None and fb.minhash is not None
    assert fa.minhash.tolist() == fb.minhash.tolist()


def test_short_texts_get_no_signature() -> None:
    short = ft.compute([ft.Item("post", "Wow", "Wow, what a day for the city.", None, [])])[0]
    assert short.minhash is None and short.text_keys == () and short.signature_blob() is None


@pytest.mark.parametrize(
    ("title", "terms", "names"),
    [
        (
            "Storm Alba makes landfall near Porto, 253,000 homes without power",
            {"storm", "alba", "make", "landfall", "near", "porto", "253,000", "home", "power"},
            {"alba", "porto", "253,000"},
        ),
        (
            "RT @reuters: Magnitude 6.1 earthquake strikes near Fresno… https://t.co/x",
            {"magnitude", "6.1", "earthquake", "strike", "near", "fresno…", ft.CUT},
            {"magnitude", "6.1", "fresno…"},
        ),
        ("Must read #news via @someone", {"must"}, set()),
    ],
)
def test_title_terms(title: str, terms: set[str], names: set[str]) -> None:
    found, keys = ft.title_terms(title)
    assert set(found) == terms
    assert set(keys) == names


def _similar(a: str, b: str) -> float:
    ta, ka = ft.title_terms(a)
    tb, kb = ft.title_terms(b)
    return ft.title_similarity(ta, ka, tb, kb)


def test_title_similarity() -> None:
    title = "Portugal and Poland agree to resume talks in Porto"
    assert _similar(title, f"Must read: {title} via @afp") == 1.0
    assert _similar(title, f"RT @afp: {title[:40]}…") == 1.0  # "re…" stands for "resume"
    # another country, another city: the same words, not the same story
    assert _similar(title, "Portugal and Indonesia agree to resume talks in Porto") == 0.0
    assert (
        _similar(
            "Magnitude 5.6 earthquake strikes near Izmir",
            "Magnitude 6.5 earthquake strikes near Izmir",
        )
        == 0.0
    )
    assert _similar("Big day", "Big day") == 0.0  # too few words to say anything


@pytest.mark.parametrize(
    ("url", "story"),
    [
        ("https://news.example/2024/02/27/quake-hits-izmir", True),
        ("https://x.com/someone/status/1762", True),
        ("https://mastodon.social/@someone/11200", True),
        ("https://www.youtube.com/watch?v=abc", True),
        ("https://www.reddit.com/r/worldnews/comments/1b2c3d/quake_hits_izmir/", True),
        ("https://www.reddit.com/r/worldnews/", False),
        ("https://news.example/", False),
        ("https://news.example/world", False),
        ("https://twitter.com/someone", False),
        ("https://x.com/hashtag/news", False),
        ("https://mastodon.social/@someone", False),
        ("https://www.linkedin.com/in/someone", False),
        ("https://news.example/tag/earthquakes", False),
        ("https://news.example/search?q=quake", False),
        ("mailto:desk@news.example", False),
    ],
)
def test_story_urls(url: str, story: bool) -> None:
    assert ft.story_url(url) is story


def test_posts_share_urls_articles_do_not() -> None:
    """An article's links (the pages its text cites) are not what it is about; a post's are."""
    page = "https://news.example/2024/quake"
    post, article = ft.compute(
        [
            ft.Item("post", "Read this", f"Read this {page}", None, [page]),
            ft.Item("article", "Other", "Body", "https://other.example/a", [page]),
        ]
    )
    assert post.url_keys == (ft.url_key(page),)
    assert article.url_keys == (ft.url_key("https://other.example/a"),)


def test_stored_terms_round_trip() -> None:
    feats = ft.compute([ft.Item("article", "Storm Alba nears Porto tonight", "", None, [])])[0]
    stored = feats.stored_terms("abc")
    assert ft.parse_terms(stored) == (feats.title_terms, feats.key_terms, "abc")
    assert ft.parse_terms(None) == ((), frozenset(), "")


def test_fingerprint_follows_what_features_read() -> None:
    item = ft.Item("article", "Title", "Text", "https://a.example/1", ["https://b.example/2"])
    same = ft.Item("article", "Title", "Text", "https://a.example/1", ["https://b.example/2"])
    assert ft.fingerprint(item) == ft.fingerprint(same)
    for changed in (
        ft.Item("article", "Title!", "Text", "https://a.example/1", ["https://b.example/2"]),
        ft.Item("article", "Title", "Text.", "https://a.example/1", ["https://b.example/2"]),
        ft.Item("post", "Title", "Text", "https://a.example/1", ["https://b.example/2"]),
        ft.Item("article", "Title", "Text", "https://a.example/1", []),
    ):
        assert ft.fingerprint(changed) != ft.fingerprint(item)

"""The fast paths of parse + process give what the general code gives.

Parsing and processing a document is the largest CPU cost of a first refresh, so the hot
functions skip work when a cheap test shows there is none (an ASCII text, an absolute URL,
no control character...). Each test here compares a fast path with the plain computation it
stands for (urllib, courlan, the regular expressions it replaced), over hand-picked and
generated (seeded) inputs.
"""

from __future__ import annotations

import json
import random
import re
from urllib.parse import urljoin, urlsplit, urlunsplit

import pytest

from newsdesk.parse.links import join
from newsdesk.process import sanitize
from newsdesk.process.pipeline import _ends_in_ellipsis, _json_strings
from newsdesk.process.urls import absolute, canonical_url, is_web_url, web_url

BASES = [
    "",
    "https://ex.example/a/b?c#d",
    "http://h.example",
    "HTTPS://Up.Example/x",
    "weird:base",
    "http://[::1",  # urljoin raises on this base, whatever the URL
    "https://a.example/b;p?q#f",
]
URL_PARTS = [
    "http://", "https://", "HTTP://", "ftp://", "//", "a.example", "A.Example", "xn--bcher-kva.ch",
    ":80", ":443", ":8080", ":0080", ":99999", ":", "@", "u:p@", "/", "//", "/..", "/.", "/a",
    "/b c", "?", "?q=1", "?utm_source=x", "&b=2", "&amp;", "#", "#f", ";p", "%41", "%zz", "~", "!",
    "é", "\t", "\n", " ", "[::1]", "[", "]", "'", "(", "*", "+", ",", "=", "$", "\x00", "\\",
]  # fmt: skip


def _urls() -> list[str]:
    rng = random.Random(17)
    urls = [
        "http://127.0.0.1:8000/articles/0/13",
        "https://news.example.com/2024/05/story.html?id=5&x=y",
        "http://a.example",
        "http://a.example/x?",
        "http://a.example/x#",
        "http://a.example/x;",
        "http:///x",
        "https://a.example:443/",
        "http://a.example:80",
        "http://A.example/",
        "http://a.example//x",
        "http://a.example/../x",
        "http://xn--bcher-kva.ch/",
        "javascript:alert(1)",
    ]
    for _ in range(3000):
        urls.append("".join(rng.choice(URL_PARTS) for _ in range(rng.randint(1, 7))))
        scheme = rng.choice(["http://", "https://"])
        urls.append(scheme + "".join(rng.choice(URL_PARTS[5:]) for _ in range(rng.randint(1, 6))))
    return urls


URLS = _urls()


def _reference_join(base: str, url: str) -> str | None:
    try:
        return urljoin(base, url)
    except ValueError:
        return None


def _reference_absolute(url: str, base: str) -> str | None:
    if not url:
        return None
    url = url.strip()
    return _reference_join(base, url) if base else url


def _reference_is_web_url(url: str | None) -> bool:
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _reference_web_url(url: str | None) -> str | None:
    if not url:
        return None
    url = re.sub(r"[\t\n\r]", "", url).strip("".join(map(chr, range(0x21))))
    if not _reference_is_web_url(url):
        return None
    scheme, rest = url.split(":", 1)
    return scheme.strip().lower() + ":" + rest


def _reference_canonical(url: str) -> str:
    if not _reference_is_web_url(url):
        return url
    import courlan

    try:
        cleaned = courlan.normalize_url(url, strict=False) or url
    except Exception:
        cleaned = url
    parts = urlsplit(cleaned)
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def test_joining_urls_matches_urljoin() -> None:
    for base in BASES:
        for url in URLS:
            assert join(base, url) == _reference_join(base, url), (base, url)
            assert absolute(url, base) == _reference_absolute(url, base), (base, url)


def test_web_urls_match_urlsplit_and_courlan() -> None:
    for url in URLS:
        assert is_web_url(url) == _reference_is_web_url(url), url
        assert web_url(url) == _reference_web_url(url), url
        assert canonical_url(url) == _reference_canonical(url), url


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
TEXT_PARTS = [
    "<a href=\"", "\">", "</a>", "<p>", "</p>", "<br>", "<BR/>", "<div>", "&amp;", "&lt;", "&#27;",
    "&#x1b;", "&nbsp;", "\xa0", "\t", "\r", "\f", "\v", "\x00", "\x1b", "\x85", "\x9f", "\x7f",
    "  ", "   ", "\n", "\n\n\n", " x ", "word", "é", "\u2028", "\u3000", "\ud800", "…", "...",
    "&hellip;", "</p> ", "<li>", "<Pre>", "http://a.example/x.", "#tag", "<img src=\"/x\">",
]  # fmt: skip


def _texts(ascii_only: bool) -> list[str]:
    rng = random.Random(5 if ascii_only else 6)
    parts = [p for p in TEXT_PARTS if p.isascii()] if ascii_only else TEXT_PARTS
    return ["".join(rng.choice(parts) for _ in range(rng.randint(0, 25))) for _ in range(3000)]


def _reference_tidy(text: str) -> str:
    text = _CONTROL.sub("", text)
    text = re.sub(r"  +", " ", re.sub(r"[\t\r\f\v\u00a0]", " ", text))
    text = "\n".join(line.strip(" ") for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@pytest.mark.parametrize("ascii_only", [True, False])
def test_text_passes_match_their_regular_expressions(ascii_only: bool) -> None:
    ellipsis_end = re.compile(r"(…|\.\.\.|&hellip;)\s*(</p>)?\s*$")
    for text in _texts(ascii_only):
        assert sanitize.strip_controls(text) == _CONTROL.sub("", text), repr(text)
        assert sanitize._tidy(text) == _reference_tidy(text), repr(text)
        assert _ends_in_ellipsis(text) == bool(ellipsis_end.search(text)), repr(text)


def test_ellipsis_end_with_any_white_space() -> None:
    ellipsis_end = re.compile(r"(…|\.\.\.|&hellip;)\s*(</p>)?\s*$")
    for code in range(0x3100):
        for text in (f"x...{chr(code)}", f"x…</p>{chr(code)}", f"x&hellip;{chr(code)}</p>"):
            assert _ends_in_ellipsis(text) == bool(ellipsis_end.search(text)), hex(code)


def _reference_sanitize(value: str, base: str | None) -> str:
    """Every tag's URL attributes checked and fixed, nothing skipped."""
    if not value:
        return ""
    return _CONTROL.sub("", sanitize._absolutize(sanitize._CLEANER.clean(value), base))


def test_sanitize_skips_only_what_needs_no_fixing() -> None:
    rng = random.Random(9)
    parts = [
        '<a href="http://a.example/">a</a>', '<a href="/rel">r</a>', '<img src="HTTP://A/x.png">',
        '<blockquote cite="javascript:alert(1)">q</blockquote>', '<q cite="https://ok/">q</q>',
        '<video poster="x.png" src="https://v/"></video>', "text href=\"http://x ", "&#106;",
        '<a href="&#104;ttp://a/">e</a>', '<a href="mailto:a@b">m</a>', "\x1b", "é", " src=\"",
    ]  # fmt: skip
    for _ in range(1500):
        value = "".join(rng.choice(parts) for _ in range(rng.randint(1, 8)))
        for base in (None, "https://b.example/d/"):
            assert sanitize.sanitize_html(value, base) == _reference_sanitize(value, base), value


def test_json_of_string_lists_matches_json_dumps() -> None:
    for values in ([], ["a"], ['b"\\', "\ud800é\x00\u2028𝄞", "x" * 300]):
        assert _json_strings(values) == json.dumps(values)


def test_an_attribute_after_look_alike_text_is_still_checked() -> None:
    """Text that reads like a URL attribute (' cite="http://x') before a tag must not hide
    that tag's attribute from the check (it once did: the javascript: URL was kept)."""
    value = '<p>say cite="http://x</p><blockquote cite="javascript:alert(1)">q</blockquote>'
    assert 'cite=""' in sanitize.sanitize_html(value, "https://b.example/")
    value = '<p>say href="http://x</p><a href="/rel">r</a>'
    assert 'href="https://b.example/rel"' in sanitize.sanitize_html(value, "https://b.example/")

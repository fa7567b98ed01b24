"""The query language's parser (``newsdesk.query.parse``): pure, no database."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsdesk.query import And, Filter, Not, Or, Phrase, QueryError, Regex, Word, parse


def test_plain_words_stay_plain() -> None:
    q = parse("smirnov detention hear")
    assert q.plain and not q.is_empty
    assert q.root == And(
        (
            Word("smirnov", ("smirnov",)),
            Word("detention", ("detention",)),
            Word("hear", ("hear",), True),
        )
    )
    assert q.text_terms() == ["smirnov", "detention", "hear"]
    # what is not syntax is words, as it always was
    assert parse("http://x.org 10:30 :)").plain
    assert parse("note: buy milk").plain
    assert parse(":) --").is_empty


def test_phrases_negation_or_and_groups() -> None:
    q = parse('"a phrase" -word -"not this" x OR y')
    assert q.root == And(
        (
            Phrase("a phrase", ("a", "phrase")),
            Not(Word("word", ("word",))),
            Not(Phrase("not this", ("not", "this"))),
            Or((Word("x", ("x",)), Word("y", ("y",), True))),
        )
    )
    assert not q.plain
    assert q.text_terms() == ["a", "phrase", "x", "y"]
    grouped = parse("(a OR b) -(c d)").root
    assert grouped == And(
        (
            Or((Word("a", ("a",)), Word("b", ("b",)))),
            Not(And((Word("c", ("c",)), Word("d", ("d",))))),
        )
    )
    # as you type: an unclosed quote or group ends with the text; a dangling OR is ignored
    assert parse('"half a phr').root == Phrase("half a phr", ("half", "a", "phr"))
    assert parse("(a b").root == And((Word("a", ("a",)), Word("b", ("b",), True)))
    assert parse("OR a OR").root == Word("a", ("a",), True)
    assert parse("a OR OR b").root == Or((Word("a", ("a",)), Word("b", ("b",), True)))
    for nothing in ("OR", "OR OR", "(OR)", "-(OR)", "( OR )", "()", "-()"):
        assert parse(nothing).is_empty, nothing


def test_fields() -> None:
    q = parse(
        'title:"court ruling" author:smith feed:guardian category:"World news" tag:x '
        "kind:Post entity:42"
    )
    assert q.root == And(
        (
            Phrase("court ruling", ("court", "ruling"), "title"),
            Phrase("smith", ("smith",), "author"),
            Filter("feed", "guardian"),
            Filter("category", "World news"),
            Filter("tag", "x"),
            Filter("kind", "post"),
            Filter("entity", "42"),
        )
    )
    assert [f.field for f in q.filters()] == ["feed", "category", "tag", "kind", "entity"]
    assert q.text_terms() == ["court", "ruling", "smith"]
    assert parse("-feed:x").root == Not(Filter("feed", "x"))


def test_regexes() -> None:
    q = parse(r'title~"(?i)smirnov" url~https://a\.org/(x|y) text~"say \"hi\""')
    assert isinstance(q.root, And)
    found = q.regexes()
    assert [(r.field, r.pattern) for r in found] == [
        ("title", "(?i)smirnov"),
        ("url", r"https://a\.org/(x|y)"),
        ("text", 'say "hi"'),
    ]
    assert found[0].search("The SMIRNOV case") and not found[0].search(None)
    assert found[2].search('they say "hi"')
    assert q.text_terms() == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('title~"(a+"', r'title~"\(a\+": invalid regular expression \(missing \): \(a\+\)'),
        ('text~"(?<=x)y"', "invalid regular expression"),
        ('body~"x"', "no field 'body' for a regular expression"),
        ('title~""', "the regular expression is empty"),
        ("title:", "give a value after title:"),
        ('feed:""', "give a value after feed:"),
        ("title:!!", "has no letters or digits"),
        ("kind:video", "kind is one of post, article"),
        ("x" * 5000, "at most 4000 characters"),
        ("(" * 30 + "x", "nested parentheses"),
        ('url~"' + "a" * 1200 + '"', "at most 1000 characters"),
    ],
)
def test_errors_name_the_term_and_the_reason(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse(text)


def test_a_hostile_pattern_is_linear() -> None:
    regex = parse('title~"(a+)+$"').regexes()[0]
    title = "a" * 50_000 + "!"
    started = time.perf_counter()
    assert not regex.search(title)
    assert isinstance(regex, Regex)
    assert time.perf_counter() - started < 5  # well under a second: generous for slow CI


@given(
    st.text(max_size=200)
    | st.lists(st.sampled_from(["OR", "(", ")", "-", '"', "a", "title:", "~", " "])).map("".join)
)
def test_any_text_parses_or_says_why(text: str) -> None:
    try:
        q = parse(text)
    except QueryError as exc:
        assert str(exc)
        return
    assert q.text == text
    for term in q.text_terms():
        assert term.isalnum()


def test_search_marks_the_terms_a_match_holds() -> None:
    from newsdesk.web.pages import highlighted_words

    assert highlighted_words("harbour's news") == ["harbour's", "news"]  # plain: as typed
    assert highlighted_words('title:smirnov -bail "grand jury" url~x') == [
        "smirnov",
        "grand",
        "jury",
    ]
    assert highlighted_words('title~"(a+" court') == ["title", "a", "court"]  # unreadable

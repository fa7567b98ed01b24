"""The SQL compiler against a model: random queries (words, prefixes, phrases, field words,
``kind:``, regular expressions, ``-``, ``OR``, groups) over a small corpus find in the store
exactly the entries a plain Python reading of the same syntax tree finds, on SQLite and
PostgreSQL. This covers the mixed cases (a word under OR beside a pattern, a phrase under NOT)
where the SQL and the Python check share the work."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsdesk.model import Entry
from newsdesk.query import (
    And,
    Filter,
    Node,
    Not,
    Or,
    Phrase,
    QueryError,
    Regex,
    Word,
    fold,
    parse,
    terms_of,
)
from newsdesk.store import EntryQuery, open_store
from newsdesk.store.protocols.refresh import FeedState
from newsdesk.store.query_sql import has_phrase
from newsdesk.store.sql import SqlStore

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
VOCABULARY = ["court", "courts", "bail", "judge", "crypto", "market", "café", "vote", "house"]
PATTERNS = ['"^C"', '"(?i)court"', '"s$"', '"[0-9]"', "/b"]
CORPUS = [
    ("Court rules on bail", "Ann", "The judge said the court would vote.", "article"),
    ("Crypto market falls", "Bo", "Market news: crypto fell 3 percent.", "post"),
    ("Café vote", "Ann", "The house voted at the cafe.", "article"),
    ("Courts and judges", "Cy", "Two courts, one judge, no bail.", "post"),
    ("House of cards", "Bo", "A house vote on the market.", "article"),
    ("Nothing here 42", "", "Plain words only.", "article"),
]


@dataclass
class Corpus:
    store: SqlStore
    rows: dict[int, tuple[str, str, str, str, str]]  # id → title, author, text, kind, url


@pytest.fixture
def corpus(store_url: str) -> Iterator[Corpus]:
    store = open_store(store_url)
    admin = store.users.person()
    store.users.setup_owner("alice", "alice-password")
    person = store.as_person(admin.id)
    feed = person.add_feed("http://model.example/feed")
    batch = [
        Entry(
            key=f"k{n}",
            url=f"http://model.example/{n}/{title.split()[0].lower()}",
            title=title,
            author=author or None,
            kind=kind,  # type: ignore[arg-type]
            published=NOW - timedelta(hours=n),
            updated=None,
            content_html=f"<p>{text}</p>",
            content_text=text,
            summary_html=None,
            content_hash=f"{n:064d}",
        )
        for n, (title, author, text, kind) in enumerate(CORPUS)
    ]
    state = FeedState(last_fetched=NOW, last_status=200)
    ids = store.as_system().save_refresh(feed.id, state, batch, NOW).new_ids
    rows = {
        i: (e.title, e.author or "", e.content_text, e.kind, e.url)
        for i, e in zip(ids, batch, strict=True)
    }
    yield Corpus(person, rows)
    store.close()


def _terms(value: str) -> list[str]:
    return terms_of(fold(value))


def holds(node: Node, row: tuple[str, str, str, str, str]) -> bool:
    title, author, text, kind, url = row
    if isinstance(node, Word):
        have = set(_terms(f"{title} {author} {text}"))
        *whole, last = [fold(t) for t in node.terms]
        last_ok = any(h.startswith(last) for h in have) if node.prefix else last in have
        return last_ok and all(t in have for t in whole)
    if isinstance(node, Phrase):
        fields = {"title": title, "author": author}
        where = [fields[node.field]] if node.field else [title, author, text]
        return any(has_phrase(v, node.terms) for v in where)
    if isinstance(node, Filter):
        assert node.field == "kind"
        return kind == node.value
    if isinstance(node, Regex):
        return node.search({"title": title, "author": author, "text": text, "url": url}[node.field])
    if isinstance(node, Not):
        return not holds(node.term, row)
    if isinstance(node, And):
        return all(holds(t, row) for t in node.terms)
    assert isinstance(node, Or)
    return any(holds(t, row) for t in node.terms)


def _leaf() -> st.SearchStrategy[str]:
    word = st.sampled_from(VOCABULARY)
    return st.one_of(
        word,
        word.map(lambda w: w[:3]),
        st.tuples(word, word).map(lambda p: f'"{p[0]} {p[1]}"'),
        st.sampled_from(["title:", "author:"]).flatmap(lambda f: word.map(lambda w: f + w)),
        st.sampled_from(["kind:post", "kind:article"]),
        st.tuples(st.sampled_from(["title~", "text~", "url~"]), st.sampled_from(PATTERNS)).map(
            "".join
        ),
    )


def _query() -> st.SearchStrategy[str]:
    return st.recursive(
        _leaf(),
        lambda inner: st.one_of(
            inner.map(lambda q: f"-({q})" if " " in q else f"-{q}"),
            st.lists(inner, min_size=2, max_size=3).map(" ".join),
            st.lists(inner, min_size=2, max_size=3).map(" OR ".join),
            inner.map(lambda q: f"({q})"),
        ),
        max_leaves=5,
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_query())
def test_the_store_finds_what_the_model_finds(corpus: Corpus, text: str) -> None:
    query = parse(text)
    assert query.root is not None
    expected = [i for i, row in corpus.rows.items() if holds(query.root, row)]
    found = corpus.store.matching_ids(query)
    assert sorted(found) == sorted(expected), text
    assert corpus.store.count_matching(query) == len(expected)
    searched = {e.id for e in corpus.store.search(text, EntryQuery(limit=50))}
    assert searched == set(expected), text


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(alphabet=st.sampled_from(list('ab"()-~: ORtilekd*^$\\é_')), max_size=40))
def test_any_text_is_searched_or_refused_with_a_reason(corpus: Corpus, text: str) -> None:
    try:
        found = corpus.store.search(text, EntryQuery(limit=50))
    except QueryError as exc:
        assert str(exc)
        return
    assert {e.id for e in found} <= set(corpus.rows)
    assert len(corpus.store.matching_ids(text)) == corpus.store.count_matching(text)

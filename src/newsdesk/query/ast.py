"""The query language's syntax tree: frozen dataclasses, no I/O.

A ``Query`` holds the text it was read from and its root node (None: the query is empty). The
leaves are words and phrases the search index can find, field filters the store answers in SQL,
and regular expressions (re2, linear time) checked on the entries' text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Literal

# Letters and digits: the way both search indexes cut text into terms (``store.search``).
TERM = re.compile(r"[^\W_]+", re.UNICODE)

TextField = Literal["title", "author"]
FilterField = Literal["feed", "category", "tag", "kind", "entity"]
RegexField = Literal["title", "text", "url", "author"]
TEXT_FIELDS: tuple[TextField, ...] = ("title", "author")
FILTER_FIELDS: tuple[FilterField, ...] = ("feed", "category", "tag", "kind", "entity")
REGEX_FIELDS: tuple[RegexField, ...] = ("title", "text", "url", "author")
KINDS = ("post", "article")


_COMBINING: dict[int, None] = {}


def fold(text: str) -> str:
    """Text as both indexes compare it: accents removed, case folded."""
    if text.isascii():
        return text.lower()
    if not _COMBINING:  # made once: the combining marks of the Basic Multilingual Plane
        _COMBINING.update((c, None) for c in range(0x300, 0x10000) if unicodedata.combining(chr(c)))
    return unicodedata.normalize("NFKD", text).translate(_COMBINING).casefold()


def terms_of(text: str) -> tuple[str, ...]:
    """The index terms of ``text`` as typed (runs of letters and digits)."""
    return tuple(TERM.findall(text))


@dataclass(frozen=True, slots=True)
class Word:
    """A bare word: each of its terms appears somewhere (title, author or text); with
    ``prefix`` the last term is a prefix (search as you type)."""

    text: str
    terms: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Phrase:
    """Terms next to each other in that order, in the title, the author or the text (or only
    in ``field``: ``title:"a phrase"``, ``author:smith``)."""

    text: str
    terms: tuple[str, ...]
    field: TextField | None = None


@dataclass(frozen=True, slots=True)
class Filter:
    """``feed:``, ``category:``, ``tag:``, ``kind:``, ``entity:`` and their value."""

    field: FilterField
    value: str


@dataclass(frozen=True, slots=True)
class Regex:
    """``title~"…"``: a regular expression searched (not anchored) in a field, run by re2."""

    field: RegexField
    pattern: str
    compiled: Any = dataclass_field(compare=False, hash=False, repr=False, default=None)

    def search(self, text: str | None) -> bool:
        return text is not None and self.compiled.search(text) is not None


@dataclass(frozen=True, slots=True)
class Not:
    term: Node


@dataclass(frozen=True, slots=True)
class And:
    terms: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    terms: tuple[Node, ...]


Node = Word | Phrase | Filter | Regex | Not | And | Or
Leaf = Word | Phrase | Filter | Regex


def walk(node: Node, negated: bool = False) -> Iterator[tuple[Node, bool]]:
    """Every node under ``node`` (itself first) and whether it sits under a negation."""
    yield node, negated
    if isinstance(node, Not):
        yield from walk(node.term, not negated)
    elif isinstance(node, And | Or):
        for term in node.terms:
            yield from walk(term, negated)


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: ``root`` is None when it holds nothing to search for."""

    text: str
    root: Node | None
    # Only bare words (no quotes, operators, fields or groups): search reads it as it always did.
    plain: bool = False

    @property
    def is_empty(self) -> bool:
        return self.root is None

    def nodes(self) -> Iterator[tuple[Node, bool]]:
        return walk(self.root) if self.root is not None else iter(())

    def text_terms(self) -> list[str]:
        """The terms a match holds (words and phrases not negated), in order: for highlighting."""
        found: list[str] = []
        for node, negated in self.nodes():
            if not negated and isinstance(node, Word | Phrase):
                found.extend(t for t in node.terms if t not in found)
        return found

    def filters(self) -> list[Filter]:
        return [n for n, _ in self.nodes() if isinstance(n, Filter)]

    def regexes(self) -> list[Regex]:
        return [n for n, _ in self.nodes() if isinstance(n, Regex)]

    def __str__(self) -> str:
        return self.text

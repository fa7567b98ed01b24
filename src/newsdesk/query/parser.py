"""Reading the query language (docs/query.md): text → ``Query``, or ``QueryError`` saying which
term is wrong and why. Pure: no I/O, no database.

Syntax: bare words (all must appear; the last word of the query is a prefix), ``"a phrase"``,
``-term`` (not), ``a OR b`` (binds tighter than the implicit AND between terms), ``( … )``
groups, field filters ``title:`` ``author:`` ``feed:`` ``category:`` ``tag:`` ``kind:``
``entity:`` with a bare or quoted value, and regular expressions ``title~"…"`` ``text~"…"``
``url~"…"`` ``author~"…"``. Whatever is not syntax is words: ``10:30`` or ``:)`` read as they
always did (a word without letters or digits is dropped). An unclosed quote or parenthesis ends
with the text (search as you type)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import cast

import re2

from newsdesk.errors import NewsdeskError
from newsdesk.query.ast import (
    FILTER_FIELDS,
    KINDS,
    REGEX_FIELDS,
    TEXT_FIELDS,
    And,
    Filter,
    FilterField,
    Node,
    Not,
    Or,
    Phrase,
    Query,
    Regex,
    TextField,
    Word,
    terms_of,
)

MAX_QUERY = 4000  # characters
MAX_PATTERN = 1000  # characters of one regular expression
MAX_DEPTH = 20  # nested groups
# re2 bounds the memory of one compiled pattern (bytes); patterns past it are refused.
PATTERN_MEMORY = 8 << 20
_SPACE = frozenset(" \t\r\n\f\v")


class QueryError(NewsdeskError):
    """A query that cannot be read: the message names the term and the reason."""


@dataclass(slots=True)
class _Token:
    kind: str  # "(", ")", "OR", "term"
    position: int
    text: str = ""
    node: Node | None = None
    negated: bool = False


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a bad pattern is our QueryError, not a line on stderr
    options.max_mem = PATTERN_MEMORY
    return options


def compile_pattern(pattern: str, term: str) -> object:
    """The re2 regular expression of ``pattern`` (``term`` names it in errors)."""
    if not pattern:
        raise QueryError(f"{term}: the regular expression is empty")
    if len(pattern) > MAX_PATTERN:
        raise QueryError(f"{term[:60]}…: a regular expression is at most {MAX_PATTERN} characters")
    try:
        return re2.compile(pattern, options=_options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise QueryError(f"{term}: invalid regular expression ({reason})") from None


class _Scanner:
    """Cuts the text into tokens: groups, OR, and terms (each possibly negated)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.depth = 0
        self.tokens: list[_Token] = []

    def scan(self) -> list[_Token]:
        text = self.text
        while self.i < len(text):
            c = text[self.i]
            if c in _SPACE:
                self.i += 1
            elif c == "(":
                self.tokens.append(_Token("(", self.i))
                self.depth += 1
                self.i += 1
            elif c == ")" and self.depth > 0:
                self.tokens.append(_Token(")", self.i))
                self.depth -= 1
                self.i += 1
            elif c == "-" and self._starts_term(self.i + 1):
                self.i += 1
                start = self.i - 1
                if self.i < len(text) and text[self.i] == "(":
                    self.tokens.append(_Token("-", start))
                else:
                    token = self._term()
                    token.negated, token.position = not token.negated, start
                    token.text = "-" + token.text
                    self.tokens.append(token)
            else:
                self.tokens.append(self._term())
        return self.tokens

    def _starts_term(self, i: int) -> bool:
        return i < len(self.text) and self.text[i] not in _SPACE and self.text[i] != ")"

    def _quoted(self) -> str:
        """The text between quotes from ``self.i`` (at the opening quote); ``\\"`` is a quote.
        An unclosed quote ends with the text."""
        text = self.text
        i = self.i + 1
        out: list[str] = []
        while i < len(text):
            c = text[i]
            if c == "\\" and i + 1 < len(text) and text[i + 1] in '"\\':
                out.append('"' if text[i + 1] == '"' else "\\\\")
                i += 2
                continue
            if c == '"':
                i += 1
                break
            out.append(c)
            i += 1
        self.i = i
        return "".join(out)

    def _bare(self) -> str:
        text = self.text
        start = self.i
        while self.i < len(text):
            c = text[self.i]
            if c in _SPACE or c in '"(' or (c == ")" and self.depth):
                break
            self.i += 1
        return text[start : self.i]

    def _bare_pattern(self) -> str:
        """An unquoted pattern: up to a space, or in a group up to a ``)`` the pattern does
        not open (``(url~/a(b)/ OR x)`` ends after ``/a(b)/``)."""
        text = self.text
        start = self.i
        balance = 0
        while self.i < len(text):
            c = text[self.i]
            if c in _SPACE:
                break
            if c == "\\":
                self.i += 2
                continue
            if c == "(":
                balance += 1
            elif c == ")":
                if balance == 0 and self.depth:
                    break
                balance -= 1
            self.i += 1
        self.i = min(self.i, len(text))
        return text[start : self.i]

    def _term(self) -> _Token:
        start = self.i
        if self.text[self.i] == '"':
            value = self._quoted()
            return _Token("term", start, self.text[start : self.i], _phrase(value, None))
        bare = self._bare()
        name, sep, value = _split_field(bare)
        if sep == ":" and name in TEXT_FIELDS + FILTER_FIELDS:
            if not value and self.i < len(self.text) and self.text[self.i] == '"':
                value = self._quoted()
            node = _field(name, value, self.text[start : self.i])
            return _Token("term", start, self.text[start : self.i], node)
        if sep == "~" and (name in REGEX_FIELDS or (not value and self._at_quote())):
            if not value and self._at_quote():
                pattern = self._quoted()
            else:
                self.i = start + len(name) + 1
                pattern = self._bare_pattern()
            term = self.text[start : self.i]
            return _Token("term", start, term, _regex(name, pattern, term))
        if bare == "OR":
            return _Token("OR", start, bare)
        terms = terms_of(bare)
        return _Token("term", start, bare, Word(bare, terms) if terms else None)

    def _at_quote(self) -> bool:
        return self.i < len(self.text) and self.text[self.i] == '"'


def _split_field(bare: str) -> tuple[str, str, str]:
    """("title", ":", "value") of ``title:value``; ("", "", bare) when it names no field."""
    for i, c in enumerate(bare):
        if c in ":~":
            name = bare[:i].lower()
            return (name, c, bare[i + 1 :]) if name.isalpha() else ("", "", bare)
        if not c.isalpha():
            break
    return "", "", bare


def _phrase(value: str, field: TextField | None) -> Phrase | None:
    terms = terms_of(value)
    return Phrase(value, terms, field) if terms else None


def _field(name: str, value: str, term: str) -> Node:
    value = " ".join(value.split())
    if not value:
        raise QueryError(f"{term}: give a value after {name}: (quote it if it has spaces)")
    if name in TEXT_FIELDS:
        found = _phrase(value, name)
        if found is None:
            raise QueryError(f"{term}: {value!r} has no letters or digits to search for")
        return found
    if name == "kind" and value.casefold() not in KINDS:
        raise QueryError(f"{term}: kind is one of {', '.join(KINDS)}")
    if name == "kind":
        value = value.casefold()
    return Filter(cast(FilterField, name), value)


def _regex(name: str, pattern: str, term: str) -> Regex:
    if name not in REGEX_FIELDS:
        fields = ", ".join(f"{f}~" for f in REGEX_FIELDS)
        raise QueryError(f"{term}: no field {name!r} for a regular expression (use {fields})")
    return Regex(name, pattern, compile_pattern(pattern, term))


class _Grammar:
    """expr := alt* ; alt := unit ("OR" unit)* ; unit := [-] ( "(" expr ")" | term ).
    OR binds tighter than the implicit AND: ``a b OR c`` is a and (b or c)."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def _next(self) -> str | None:
        return self.tokens[self.i].kind if self.i < len(self.tokens) else None

    def expr(self, depth: int = 0) -> Node | None:
        if depth > MAX_DEPTH:
            raise QueryError(f"at most {MAX_DEPTH} nested parentheses")
        terms: list[Node] = []
        while self._next() not in {None, ")"}:
            alt = self.alt(depth)
            if alt is not None:
                terms.append(alt)
        if len(terms) > 1:
            return And(tuple(terms))
        return terms[0] if terms else None

    def alt(self, depth: int) -> Node | None:
        options: list[Node | None] = []
        while True:
            while self._next() == "OR":
                self.i += 1  # a leading, doubled or dangling OR is ignored
            if self._next() in {None, ")"}:
                break
            options.append(self.unit(depth))
            if self._next() != "OR":
                break
        kept = [o for o in options if o is not None]
        if len(kept) > 1:
            return Or(tuple(kept))
        return kept[0] if kept else None

    def unit(self, depth: int) -> Node | None:
        token = self.tokens[self.i]
        self.i += 1
        if token.kind == "term":
            if token.node is None:
                return None
            return Not(token.node) if token.negated else token.node
        negated = token.kind == "-"
        if negated:
            self.i += 1  # the "(" after it
        inner = self.expr(depth + 1)
        if self._next() == ")":
            self.i += 1  # an unclosed group ends with the text
        if inner is None:
            return None
        return Not(inner) if negated else inner


def _prefixed(tokens: list[_Token]) -> None:
    """The last word of the query, when it is a bare word and not negated (by ``-`` or a
    negated group), is a prefix (search as you type)."""
    last: tuple[_Token, bool] | None = None
    groups: list[bool] = []  # open groups: negated or not
    pending = False
    for token in tokens:
        if token.kind == "-":
            pending = True
        elif token.kind == "(":
            groups.append(pending)
            pending = False
        elif token.kind == ")" and groups:
            groups.pop()
        elif token.kind == "term" and token.node is not None:
            last = (token, any(groups))
    if last is None:
        return
    token, in_negated_group = last
    if isinstance(token.node, Word) and not token.negated and not in_negated_group:
        token.node = replace(token.node, prefix=True)


def parse(text: str) -> Query:
    """The ``Query`` of ``text``; ``QueryError`` when it cannot be read."""
    if len(text) > MAX_QUERY:
        raise QueryError(f"a query is at most {MAX_QUERY} characters")
    tokens = _Scanner(text).scan()
    plain = all(
        t.kind == "term" and not t.negated and (t.node is None or isinstance(t.node, Word))
        for t in tokens
    )
    _prefixed(tokens)
    root = _Grammar(tokens).expr()
    return Query(text=text, root=root, plain=plain and root is not None)

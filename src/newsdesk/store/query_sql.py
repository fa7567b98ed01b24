"""The query language (``newsdesk.query``) compiled to SQL: one compiler for search, rules,
saved searches and watchlists.

A ``Plan`` is what a query asks of the database: a full-text expression (``match``: FTS5 on
SQLite, a tsquery on PostgreSQL) that ranks a search and narrows the candidates, SQL conditions
(``where``) for the rest, and, when some part cannot be said in SQL, a check in Python
(``check``) on the candidate rows with the columns it reads (``columns``).

What runs where: bare words, OR, negated words and the field filters (``feed:``, ``category:``,
``tag:``, ``kind:``, ``entity:``) are exact SQL. Phrases and ``title:``/``author:`` words use the
index for their terms (the SQLite index keeps no positions: ``detail=none``) and are checked in
Python on the candidates, as are regular expressions (re2: linear time, whatever the pattern or
the text). A term under OR or NOT next to such a part is read as a boolean column, so the
Python check sees the whole query.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    case,
    column,
    false,
    func,
    literal_column,
    not_,
    null,
    or_,
    select,
    table,
    text,
    true,
)

from newsdesk.errors import AmbiguousEntityError, EntityNotFoundError
from newsdesk.query import And, Filter, Node, Not, Or, Phrase, Query, Regex, Word, fold, terms_of
from newsdesk.store.schema import (
    categories,
    category_shares,
    entity_mentions,
    entries,
    entry_filings,
    entry_labels,
    entry_tags,
    feeds,
    subscriptions,
)

Check = Callable[[Mapping[Any, Any]], bool]
_TEXT_COLUMNS = {
    "title": entries.c.title,
    "author": entries.c.author,
    "text": entries.c.content_text,
    "url": entries.c.url,
}
_PHRASE_FIELDS = ("title", "author", "text")


@dataclass(slots=True)
class Plan:
    """A query as SQL: entries matching ``match`` (None: no full-text condition) and every
    condition of ``where``, then (when ``check`` is given) ``check`` on each candidate row,
    which holds ``columns``."""

    match: str | None = None
    where: list[Any] = field(default_factory=list)
    columns: list[Any] = field(default_factory=list)
    check: Check | None = None


# -- full-text expressions ---------------------------------------------------------------------


def _term(dialect: str, term: str, prefix: bool) -> str:
    if dialect == "sqlite":
        return f'"{term}"' + ("*" if prefix else "")
    return term + (":*" if prefix else "")


def _join(dialect: str, parts: Sequence[str], operator: str) -> str:
    if len(parts) == 1:
        return parts[0]
    symbol = {"AND": " & ", "OR": " | "}[operator] if dialect != "sqlite" else f" {operator} "
    return "(" + symbol.join(parts) + ")"


def terms_expression(dialect: str, terms: Sequence[str], prefix: bool = False) -> str:
    """Every term (the last a prefix with ``prefix``) as a full-text expression."""
    last = len(terms) - 1
    return _join(
        dialect, [_term(dialect, t, prefix and i == last) for i, t in enumerate(terms)], "AND"
    )


def _without(dialect: str, positive: str, negatives: Sequence[str]) -> str:
    if not negatives:
        return positive
    if dialect == "sqlite":
        return f"{positive} NOT {_join(dialect, negatives, 'OR')}"
    return f"{positive} & !{_join(dialect, negatives, 'OR')}"


class _Compiler:
    """One query's compilation for one person's view (``person`` None: the system's)."""

    def __init__(
        self, conn: Connection, person: int | None, among: Sequence[int] | None = None
    ) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.person = person
        self.among = among
        self.indexed = True  # see ``column``
        self.names = (f"q{n}" for n in itertools.count())
        self.exact: dict[int, tuple[Any, bool]] = {}

    def column(self, column: Any) -> Any:
        """An integer ``column`` for a condition: with ``indexed`` off, ``column + 0`` (no
        index), so that the full-text index drives a query that has a ``match`` (SQLite would
        otherwise walk a feed's entries and ask the index about each: 100 times slower)."""
        return column if self.indexed else column + 0

    def entry_id(self) -> Any:
        return self.column(entries.c.id)

    # -- what the index alone answers --

    def fts(self, node: Node) -> str | None:
        """The full-text expression equivalent to ``node``; None when the index cannot say."""
        if isinstance(node, Word):
            return terms_expression(self.dialect, node.terms, node.prefix)
        if isinstance(node, And | Or):
            parts = [self.fts(t) for t in node.terms]
            if any(p is None for p in parts):
                return None
            return _join(
                self.dialect, [p for p in parts if p], "AND" if isinstance(node, And) else "OR"
            )
        return None

    def index_hint(self, node: Node) -> str | None:
        """A full-text expression every entry matching ``node`` matches (a superset)."""
        found = self.fts(node)
        if found is not None:
            return found
        if isinstance(node, Phrase):
            return terms_expression(self.dialect, node.terms)
        if isinstance(node, And):
            parts = [p for p in (self.index_hint(t) for t in node.terms) if p]
            return _join(self.dialect, parts, "AND") if parts else None
        if isinstance(node, Or):
            options = [self.index_hint(t) for t in node.terms]
            if any(p is None for p in options):
                return None
            return _join(self.dialect, [p for p in options if p], "OR")
        return None

    def matches(self, expression: str) -> Any:
        """SQL: the entry matches the full-text ``expression``."""
        name = next(self.names)
        if self.dialect == "sqlite":
            fts = table("entries_fts", column("rowid"))
            found = select(fts.c.rowid).where(
                text(f"entries_fts MATCH :{name}").bindparams(**{name: expression})
            )
            if self.among is not None:
                found = found.where(*among_rowids(fts.c.rowid, self.among))
            return self.entry_id().in_(found)
        vector: Any = literal_column("entries.search_vector")
        query = func.to_tsquery("simple", func.newsdesk_unaccent(expression))
        return vector.op("@@")(query)

    # -- SQL for any node: a condition every match meets, and whether it is exact --

    def sql(self, node: Node) -> tuple[Any, bool]:
        key = id(node)
        if key not in self.exact:
            self.exact[key] = self._sql(node)
        return self.exact[key]

    def _sql(self, node: Node) -> tuple[Any, bool]:
        if isinstance(node, Word):
            return self.matches(terms_expression(self.dialect, node.terms, node.prefix)), True
        if isinstance(node, Phrase):
            return self.matches(terms_expression(self.dialect, node.terms)), False
        if isinstance(node, Filter):
            return self.filter(node), True
        if isinstance(node, Regex):
            return true(), False
        if isinstance(node, Not):
            inner, exact = self.sql(node.term)
            return (not_(inner), True) if exact else (true(), False)
        parts = [self.sql(t) for t in node.terms]
        exact = all(e for _, e in parts)
        if isinstance(node, And):
            return and_(*(p for p, _ in parts)), exact
        return or_(*(p for p, _ in parts)), exact

    def filter(self, node: Filter) -> Any:
        if node.field == "kind":
            return entries.c.kind == node.value
        if node.field == "tag":
            return self.tagged(node.value)
        if node.field == "feed":
            return self.column(entries.c.feed_id).in_(self.feed_ids(node.value))
        if node.field == "category":
            return self.in_category(node.value)
        return self.entry_id().in_(
            select(entity_mentions.c.entry_id).where(
                entity_mentions.c.entity_id.in_(self.entity_ids(node.value))
            )
        )

    def tagged(self, name: str) -> Any:
        """The entry carries the person's label ``name`` or the feed's tag of that name."""
        labelled = select(entry_labels.c.entry_id).where(entry_labels.c.label == name)
        if self.person is not None:
            labelled = labelled.where(entry_labels.c.user_id == self.person)
        tagged = select(entry_tags.c.entry_id).where(entry_tags.c.tag == name.casefold())
        return or_(self.entry_id().in_(labelled), self.entry_id().in_(tagged))

    def feed_ids(self, value: str) -> list[int]:
        """Feeds named by ``value``: an id, or words found (ignoring case) in the person's name
        for the feed, its own title, its address or its site's."""
        if value.isdigit():
            return [int(value)] if len(value) < 18 else []
        own: Any = null()
        if self.person is not None:
            own = (
                select(subscriptions.c.title)
                .where(
                    subscriptions.c.feed_id == feeds.c.id, subscriptions.c.user_id == self.person
                )
                .scalar_subquery()
            )
        rows = self.conn.execute(
            select(feeds.c.id, feeds.c.title, feeds.c.url, feeds.c.site_url, own)
        )
        wanted = fold(value)
        return [int(r[0]) for r in rows if any(wanted in fold(str(v)) for v in r[1:] if v)]

    def in_category(self, title: str) -> Any:
        """Entries of the feeds in the person's (or shared with them) category of that title,
        ignoring case, and those a rule filed there."""
        wanted = fold(title)
        found = select(categories.c.id, categories.c.title)
        if self.person is not None:
            shared = select(category_shares.c.category_id).where(
                category_shares.c.user_id == self.person
            )
            found = found.where(
                or_(categories.c.user_id == self.person, categories.c.id.in_(shared))
            )
        ids = [int(i) for i, t in self.conn.execute(found) if fold(str(t)) == wanted]
        if not ids:
            return false()
        in_feeds = select(subscriptions.c.feed_id).where(subscriptions.c.category_id.in_(ids))
        filed = select(entry_filings.c.entry_id).where(entry_filings.c.category_id.in_(ids))
        if self.person is not None:
            filed = filed.where(entry_filings.c.user_id == self.person)
        return or_(self.column(entries.c.feed_id).in_(in_feeds), self.entry_id().in_(filed))

    def entity_ids(self, value: str) -> list[int]:
        """The entity ``value`` names (``EntityStore.resolve``); a name that could be several
        entities matches any of them, an unknown one none."""
        from newsdesk.store.entities import EntityStore

        known = EntityStore(self.conn.engine, self.person)
        try:
            return [known.resolve(value).id]
        except AmbiguousEntityError:
            return [e.id for e in known.find_entities(value, limit=5)]
        except EntityNotFoundError:
            return []

    # -- the plan --

    def plan(self, query: Query) -> Plan:
        root = query.root
        if root is None:
            return Plan(where=[false()])
        conjuncts = list(root.terms) if isinstance(root, And) else [root]
        positives: list[str] = []
        negatives: list[str] = []
        rest: list[Node] = []
        for node in conjuncts:
            whole = self.fts(node)
            if whole is not None:
                positives.append(whole)
            elif isinstance(node, Not) and self.fts(node.term) is not None:
                negatives.append(self.fts(node.term) or "")
                rest.append(node)
            else:
                hint = self.index_hint(node)
                if hint is not None:
                    positives.append(hint)
                rest.append(node)
        plan = Plan()
        self.indexed = not positives
        if positives:
            plan.match = _without(self.dialect, _join(self.dialect, positives, "AND"), negatives)
            rest = [n for n in rest if not (isinstance(n, Not) and self.fts(n.term) is not None)]
        unchecked: list[Node] = []
        for node in rest:
            condition, exact = self.sql(node)
            if not isinstance(node, Phrase | Regex) or not positives:
                plan.where.append(condition)
            if not exact:
                unchecked.append(node)
        if unchecked:
            self.checking(plan, unchecked)
        return plan

    def checking(self, plan: Plan, nodes: list[Node]) -> None:
        """Add the Python check of ``nodes`` (all must hold) and the columns it reads."""
        wanted: dict[str, Any] = {}
        labels: dict[int, str] = {}

        def gather(node: Node) -> None:
            condition, exact = self.sql(node)
            if exact:
                label = next(self.names)
                labels[id(node)] = label
                wanted[label] = case((condition, 1), else_=0).label(label)
            elif isinstance(node, Phrase):
                for name in (node.field,) if node.field else _PHRASE_FIELDS:
                    wanted[name] = _TEXT_COLUMNS[name].label(name)
            elif isinstance(node, Regex):
                wanted[node.field] = _TEXT_COLUMNS[node.field].label(node.field)
            elif isinstance(node, Not):
                gather(node.term)
            elif isinstance(node, And | Or):
                for term in node.terms:
                    gather(term)

        for node in nodes:
            gather(node)
        plan.columns = list(wanted.values())

        def holds(node: Node, row: Mapping[str, Any]) -> bool:
            label = labels.get(id(node))
            if label is not None:
                return bool(row[label])
            if isinstance(node, Phrase):
                fields = (node.field,) if node.field else _PHRASE_FIELDS
                return any(has_phrase(row[f], node.terms) for f in fields)
            if isinstance(node, Regex):
                return node.search(row[node.field])
            if isinstance(node, Not):
                return not holds(node.term, row)
            if isinstance(node, And):
                return all(holds(t, row) for t in node.terms)
            if isinstance(node, Or):
                return any(holds(t, row) for t in node.terms)
            return True  # pragma: no cover - every leaf is handled above

        plan.check = lambda row: all(holds(n, row) for n in nodes)


def has_phrase(value: str | None, terms: Sequence[str]) -> bool:
    """The terms, next to each other and in order, among the terms of ``value`` (accents and
    case ignored, as the indexes ignore them)."""
    if not value:
        return False
    folded = fold(value)
    wanted = [fold(t) for t in terms]
    if any(t not in folded for t in wanted):
        return False  # the usual case, without cutting the text into terms
    return f" {' '.join(wanted)} " in f" {' '.join(terms_of(folded))} "


def plan_query(
    conn: Connection, query: Query, person: int | None, among: Sequence[int] | None = None
) -> Plan:
    """The ``Plan`` of ``query`` on ``conn``'s database for ``person``'s view; with ``among``,
    for those entries only (the few a refresh stored: the index is asked about them alone)."""
    return _Compiler(conn, person, among).plan(query)


def among_rowids(rowid: Any, among: Sequence[int]) -> list[Any]:
    """The index's rows restricted to ``among``: a range FTS5 applies while reading, then the
    list row by row (``rowid IN (…)`` alone makes SQLite run the whole query once per id:
    seconds for a common word)."""
    return [rowid.between(min(among), max(among)), (rowid + 0).in_(list(among))]


def match_condition(dialect: str, match: str, among: Sequence[int] | None = None) -> Any:
    """SQL: the entry matches the full-text ``match`` (for a FROM without the index joined);
    ``among`` narrows the index's answer to those ids (the few entries a refresh stored)."""
    if dialect == "sqlite":
        fts = table("entries_fts", column("rowid"))
        found = select(fts.c.rowid).where(text("entries_fts MATCH :match").bindparams(match=match))
        if among is not None:
            found = found.where(*among_rowids(fts.c.rowid, among))
        return entries.c.id.in_(found)
    vector: Any = literal_column("entries.search_vector")
    return vector.op("@@")(func.to_tsquery("simple", func.newsdesk_unaccent(match)))


def matching_statement(
    plan: Plan,
    dialect: str,
    source: Any,
    where: Sequence[Any],
    among: Sequence[int] | None,
    *,
    ordered: bool = True,
) -> Any:
    """(id, the check's columns; and published, with ``among``) of the entries of ``source``
    meeting ``where`` and ``plan``'s SQL (among ``among`` when given), newest first when
    ``ordered`` (a count needs no order: sorting every entry a person sees costs more than
    checking them)."""
    conditions = [*where, *plan.where]
    columns = [entries.c.id, *plan.columns]
    if among is not None:
        conditions.append(entries.c.id.in_(list(among)))
        columns.append(entries.c.published)
    if plan.match is not None:
        conditions.append(match_condition(dialect, plan.match, among))
    stmt = select(*columns).select_from(source).where(*conditions)
    return stmt.order_by(entries.c.published.desc(), entries.c.id.desc()) if ordered else stmt


def matched_rows(
    conn: Connection, stmt: Any, check: Check | None, want: int | None
) -> Iterator[Any]:
    """The rows of ``stmt`` that pass ``check``, at most ``want``, read as they come (a check
    that keeps few rows reads on; one that keeps many stops early)."""
    if want is not None and want <= 0:
        return
    if check is None:
        yield from conn.execute(stmt if want is None else stmt.limit(want))
        return
    kept = 0
    result = conn.execute(stmt.execution_options(stream_results=True, yield_per=500))
    try:
        for row in result:
            if check(row._mapping):
                yield row
                kept += 1
                if want is not None and kept >= want:
                    return
    finally:
        result.close()


__all__ = [
    "Plan",
    "has_phrase",
    "match_condition",
    "matched_rows",
    "matching_statement",
    "plan_query",
]

"""The query language shared by search, saved searches, watchlists and rules (docs/query.md):
``parse(text) -> Query``, a pure syntax tree; the store compiles it to SQL
(``store.query_sql``)."""

from newsdesk.query.ast import (
    And,
    Filter,
    Node,
    Not,
    Or,
    Phrase,
    Query,
    Regex,
    Word,
    fold,
    terms_of,
)
from newsdesk.query.parser import QueryError, parse

__all__ = [
    "And",
    "Filter",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Query",
    "QueryError",
    "Regex",
    "Word",
    "fold",
    "parse",
    "terms_of",
]

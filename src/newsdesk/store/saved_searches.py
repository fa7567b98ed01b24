"""Saved searches: a name, the query (docs/query.md) and the filters of a search, kept so the
reading room can list it and republish it as a feed. ``SavedSearchStore`` is the store's
``saved_searches`` part."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, true
from sqlalchemy.exc import IntegrityError

from newsdesk.errors import NewsdeskError
from newsdesk.query import parse as parse_query
from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import saved_searches


@dataclass(frozen=True, slots=True)
class SavedSearch:
    id: int
    name: str
    query: str
    filters: dict[str, Any] = field(default_factory=dict)


def _saved(row: Any) -> SavedSearch:
    return SavedSearch(
        id=int(row.id), name=str(row.name), query=str(row.query), filters=dict(row.filters or {})
    )


class SavedSearchStore:
    """A person's saved searches (``store.saved_searches``): each sees, changes and removes
    only their own (every one with no person, who cannot save one)."""

    def __init__(self, engine: Engine, person_id: int | None = None) -> None:
        self.engine = engine
        self.person_id = person_id

    def _mine(self) -> Any:
        if self.person_id is None:
            return true()
        return saved_searches.c.user_id == self.person_id

    def list_saved_searches(self) -> list[SavedSearch]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(saved_searches).where(self._mine()).order_by(saved_searches.c.name)
            )
            return [_saved(r) for r in rows]

    def get_saved_search(self, search_id: int) -> SavedSearch | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(saved_searches).where(saved_searches.c.id == search_id, self._mine())
            ).first()
        return _saved(row) if row is not None else None

    def save_search(self, name: str, query: str, filters: dict[str, Any]) -> SavedSearch:
        name = " ".join(name.split())[:200]
        if not name or not query.strip():
            raise NewsdeskError("a saved search needs a name and some words to search for")
        if self.person_id is None:
            raise NewsdeskError("a saved search is a person's: open the store as one")
        parse_query(query)  # QueryError: a query the language cannot read is not saved
        try:
            with write_transaction(self.engine) as conn:
                result = conn.execute(
                    insert(saved_searches).values(
                        user_id=self.person_id,
                        name=name,
                        query=query.strip(),
                        filters=filters,
                        created_at=datetime.now(UTC),
                    )
                )
                new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        except IntegrityError:
            raise NewsdeskError(f"there is already a saved search named {name!r}") from None
        return SavedSearch(id=new_id, name=name, query=query.strip(), filters=filters)

    def delete_saved_search(self, search_id: int) -> bool:
        with write_transaction(self.engine) as conn:
            return bool(
                conn.execute(
                    delete(saved_searches).where(saved_searches.c.id == search_id, self._mine())
                ).rowcount
            )

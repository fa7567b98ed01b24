"""What every piece of ``SqlStore`` shares: the engine it runs on and its dialect."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import Engine, select

from newsdesk.errors import NewsdeskError
from newsdesk.store.schema import users

if TYPE_CHECKING:
    from collections.abc import Callable

OWNER = object()


def dialect_insert(dialect: str) -> Callable[..., Any]:
    """The dialect's own ``insert`` (for ``on_conflict_do_nothing`` and friends), its module
    imported when first asked for: a SQLite process never imports the PostgreSQL dialect (20 ms
    of every command's start)."""
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert
    from sqlalchemy.dialects import postgresql

    return postgresql.insert


class SqlBase:
    """The attributes ``SqlStore.__init__`` sets, declared for the pieces it is made of
    (``sql_feeds``, ``sql_entries``, ``sql_enrichment``, ``sql_refresh``)."""

    engine: Engine
    dialect: str
    # A feed subscribed without a category goes here (the Desk sets it from the settings).
    default_category: str
    # Whose view this is: a person's id (``as_person``), None for the system's view
    # (``as_system``: every feed, no one's state), or OWNER until first asked: a store just
    # opened is the view of the desk's first admin, so a single-user desk works as it always
    # did (the pipeline stages that must see every feed ask for the system's view).
    _person: int | object | None = OWNER

    @property
    def person_id(self) -> int | None:
        if self._person is OWNER:
            with self.engine.connect() as conn:
                first = conn.execute(
                    select(users.c.id).where(users.c.role == "admin").order_by(users.c.id).limit(1)
                ).scalar()
            self._person = None if first is None else int(first)
        return self._person  # type: ignore[return-value]

    def require_person(self) -> int:
        person = self.person_id
        if person is None:
            raise NewsdeskError("this needs a person: open the store as one (as_person)")
        return person

    def _scoped(self, person: int | None) -> Self:
        scoped = copy.copy(self)
        scoped._person = person
        return scoped

    def as_person(self, person_id: int) -> Self:
        """This store as one person sees it (issue 15)."""
        return self._scoped(person_id)

    def as_system(self) -> Self:
        """This store as the system sees it: every feed, no one's read state."""
        return self._scoped(None)

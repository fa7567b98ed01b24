"""Test people: members made straight in the table, without a password (hashing one costs a
second), and each one's view of the store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert

from newsdesk.store import SqlStore
from newsdesk.store.schema import users


def member_views(store: SqlStore, names: tuple[str, ...], now: datetime) -> list[SqlStore]:
    """A member per name, and each one's view (``store.as_person``), in that order."""
    with store.engine.begin() as conn:
        for name in names:
            conn.execute(
                insert(users).values(username=name, password_hash="", created_at=now, role="member")
            )
    views = []
    for name in names:
        user = store.users.get_user(name)
        assert user is not None
        views.append(store.as_person(user.id))
    return views

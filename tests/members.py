"""Test people: members made straight in the table, without a password (hashing one costs a
second), each one's view of the store, and the articles they read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert

from newsdesk.model import Entry
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


def article(feed: str, n: int, published: datetime, title: str, text: str) -> Entry:
    """An article as a parser gives it: key and content hash ``feed-n``, its URL under
    example.org."""
    return Entry(
        key=f"{feed}-{n}",
        url=f"https://example.org/{feed}/{n}",
        title=title,
        author=None,
        kind="article",
        published=published,
        updated=None,
        content_html=f"<p>{text}</p>",
        content_text=text,
        summary_html=None,
        content_hash=f"{feed}-{n}",
    )

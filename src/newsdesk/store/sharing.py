"""Shared categories (issue 15): a person shares one of their own categories with another
person, to read (or to read and manage its feeds). The sharee then sees that category's feeds
and their entries, each with their own read state (``newsdesk.store.visibility``).

``SharingStore`` is the store's ``sharing`` part (``store.sharing``), made for one person: they
share, list and unshare only their own categories; a category of someone else looks like it
does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, delete, func, insert, select, update

from newsdesk.errors import NewsdeskError
from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import categories, category_shares, subscriptions, users


class NoSuchCategoryError(NewsdeskError):
    """No category of this person has that id."""


@dataclass(frozen=True, slots=True)
class Share:
    """One category shared with one person."""

    category_id: int
    category: str
    owner: str
    user_id: int
    username: str
    can_manage: bool
    created_at: datetime
    feeds: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "category_id": self.category_id,
            "category": self.category,
            "owner": self.owner,
            "user": self.username,
            "can_manage": self.can_manage,
            "created": self.created_at.isoformat(),
            "feeds": self.feeds,
        }


def _select() -> Select[Any]:
    owner = users.alias("owner")
    feeds = (
        select(func.count(subscriptions.c.id))
        .where(subscriptions.c.category_id == categories.c.id)
        .scalar_subquery()
    )
    return (
        select(
            category_shares.c.category_id,
            categories.c.title,
            owner.c.username,
            category_shares.c.user_id,
            users.c.username,
            category_shares.c.can_manage,
            category_shares.c.created_at,
            feeds,
        )
        .select_from(
            category_shares.join(categories, categories.c.id == category_shares.c.category_id)
            .join(users, users.c.id == category_shares.c.user_id)
            .join(owner, owner.c.id == categories.c.user_id)
        )
        .order_by(categories.c.title, users.c.username)
    )


def _share(row: Any) -> Share:
    r = tuple(row)
    return Share(int(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[4]), bool(r[5]), r[6], int(r[7]))


class SharingStore:
    """One person's shares: what they share and what is shared with them."""

    def __init__(self, engine: Engine, person_id: int | None) -> None:
        self.engine = engine
        self.person_id = person_id

    def _me(self) -> int:
        if self.person_id is None:
            raise NewsdeskError("sharing needs a person: open the store as one (as_person)")
        return self.person_id

    def _own_category(self, conn: Connection, category_id: int) -> str:
        title = conn.execute(
            select(categories.c.title).where(
                categories.c.id == category_id, categories.c.user_id == self._me()
            )
        ).scalar()
        if title is None:
            raise NoSuchCategoryError(f"no category of yours has id {category_id}")
        return str(title)

    def own_categories(self) -> list[tuple[int, str]]:
        """(id, title) of the person's own categories (the ones they can share), by title."""
        query = (
            select(categories.c.id, categories.c.title)
            .where(categories.c.user_id == self._me())
            .order_by(categories.c.title)
        )
        with self.engine.connect() as conn:
            return [(int(r[0]), str(r[1])) for r in conn.execute(query)]

    def share(self, category_id: int, username: str, *, can_manage: bool = False) -> Share:
        """Share one of the person's categories with ``username`` (again: change what they may
        do)."""
        me = self._me()
        with write_transaction(self.engine) as conn:
            self._own_category(conn, category_id)
            other = conn.execute(
                select(users.c.id).where(users.c.username == username.strip())
            ).scalar()
            if other is None:
                raise NewsdeskError(f"no user named {username.strip()!r}")
            if int(other) == me:
                raise NewsdeskError("this category is yours already")
            done = conn.execute(
                update(category_shares)
                .where(
                    category_shares.c.category_id == category_id,
                    category_shares.c.user_id == other,
                )
                .values(can_manage=can_manage)
            )
            if not done.rowcount:
                conn.execute(
                    insert(category_shares).values(
                        category_id=category_id,
                        user_id=other,
                        can_manage=can_manage,
                        created_at=datetime.now(UTC),
                    )
                )
        found = [s for s in self.shares(category_id) if s.user_id == int(other)]
        return found[0]

    def shares(self, category_id: int) -> list[Share]:
        """Who one of the person's categories is shared with."""
        with self.engine.connect() as conn:
            self._own_category(conn, category_id)
            query = _select().where(category_shares.c.category_id == category_id)
            return [_share(r) for r in conn.execute(query)]

    def my_shares(self) -> list[Share]:
        """Every share of the person's own categories."""
        with self.engine.connect() as conn:
            query = _select().where(categories.c.user_id == self._me())
            return [_share(r) for r in conn.execute(query)]

    def shared_with_me(self) -> list[Share]:
        """The categories others share with the person."""
        with self.engine.connect() as conn:
            query = _select().where(category_shares.c.user_id == self._me())
            return [_share(r) for r in conn.execute(query)]

    def unshare(self, category_id: int, user_id: int) -> None:
        """Stop sharing one of the person's categories with someone; the owner only (a sharee
        leaves with ``leave``)."""
        with write_transaction(self.engine) as conn:
            self._own_category(conn, category_id)
            done = conn.execute(
                delete(category_shares).where(
                    category_shares.c.category_id == category_id,
                    category_shares.c.user_id == user_id,
                )
            )
            if not done.rowcount:
                raise NewsdeskError("this category is not shared with that person")

    def leave(self, category_id: int) -> None:
        """Stop seeing a category someone shares with the person."""
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                delete(category_shares).where(
                    category_shares.c.category_id == category_id,
                    category_shares.c.user_id == self._me(),
                )
            )
            if not done.rowcount:
                raise NoSuchCategoryError(f"no category with id {category_id} is shared with you")

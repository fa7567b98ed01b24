"""Edits the reader APIs make beyond read and starred flags: categories created, renamed and
removed, and an entry's title and content rewritten by its reader (Miniflux's
``PUT /v1/entries/{id}``). Every edit of an entry moves its ``changed_at``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from newsdesk.errors import NewsdeskError
from newsdesk.process.sanitize import html_to_text, one_line, sanitize_html
from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import categories, category_shares, entries, subscriptions

if TYPE_CHECKING:
    from newsdesk.store.core import CoreStore

TITLE_LIMIT = 300  # as categories.title


def category_title(raw: str) -> str:
    """A category name as stored everywhere: one line of plain text, at most 300 characters;
    empty is refused."""
    title = (one_line(raw) or "")[:TITLE_LIMIT]
    if not title:
        raise NewsdeskError("the category title is required")
    return title


class EditingStore:
    """Category and entry edits of the reader APIs (``store.editing``): a person creates,
    renames and removes their own categories (one shared with them is its owner's)."""

    def __init__(self, store: CoreStore) -> None:
        self.store = store

    def _own(self, conn: Connection, category_id: int) -> None:
        mine = conn.execute(
            select(categories.c.id).where(
                categories.c.id == category_id,
                categories.c.user_id == self.store.require_person(),
            )
        ).first()
        if mine is None:
            raise NewsdeskError(f"no category with id {category_id}")

    def _taken(self, conn: Connection, title: str, other_than: int | None = None) -> None:
        query = select(categories.c.id).where(
            categories.c.title == title, categories.c.user_id == self.store.require_person()
        )
        if other_than is not None:
            query = query.where(categories.c.id != other_than)
        if conn.execute(query).first() is not None:
            raise NewsdeskError("this category already exists")

    def create_category(self, raw_title: str) -> tuple[int, str]:
        """A new category of the person's: (id, title); one of the same name is refused."""
        title = category_title(raw_title)
        person = self.store.require_person()
        try:
            with write_transaction(self.store.engine) as conn:
                self._taken(conn, title)
                result = conn.execute(insert(categories).values(title=title, user_id=person))
                return int(result.inserted_primary_key[0]), title  # type: ignore[index]
        except IntegrityError:
            raise NewsdeskError("this category already exists") from None

    def rename_category(self, category_id: int, raw_title: str) -> str:
        """Rename one of the person's categories; a name another of theirs has is refused.
        Returns the stored title."""
        title = category_title(raw_title)
        with write_transaction(self.store.engine) as conn:
            self._own(conn, category_id)
            self._taken(conn, title, category_id)
            conn.execute(
                update(categories).where(categories.c.id == category_id).values(title=title)
            )
        return title

    def remove_category(self, category_id: int) -> None:
        """Remove one of the person's categories; its feeds stay subscribed, without a
        category (Miniflux removes them with it: unsubscribing is kept a deliberate act here).
        The people it was shared with no longer see it."""
        with write_transaction(self.store.engine) as conn:
            self._own(conn, category_id)
            conn.execute(
                update(subscriptions)
                .where(subscriptions.c.category_id == category_id)
                .values(category_id=None)
            )
            conn.execute(
                delete(category_shares).where(category_shares.c.category_id == category_id)
            )
            conn.execute(delete(categories).where(categories.c.id == category_id))

    def edit_entry(
        self, entry_id: int, *, title: str | None = None, content_html: str | None = None
    ) -> None:
        """Rewrite an entry's title (plain text) and content (sanitized, its text re-derived):
        an entry the person sees (``NewsdeskError`` for any other)."""
        entry = self.store.get_entry(entry_id)
        values: dict[str, object] = {"changed_at": datetime.now(UTC)}
        if title is not None:
            clean = one_line(title) or ""
            if not clean:
                raise NewsdeskError("the entry title cannot be empty")
            values["title"] = clean[:1000]  # as ingest keeps titles
        if content_html is not None:
            html = sanitize_html(content_html, entry.url)
            if not html.strip():
                raise NewsdeskError("the entry content cannot be empty")
            values.update(content_html=html, content_text=html_to_text(html))
        with write_transaction(self.store.engine) as conn:
            conn.execute(update(entries).where(entries.c.id == entry_id).values(**values))

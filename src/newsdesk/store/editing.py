"""Edits the reader APIs make beyond read and starred flags: categories created, renamed and
removed, and an entry's title and content rewritten by its reader (Miniflux's
``PUT /v1/entries/{id}``). Every edit of an entry moves its ``changed_at``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from newsdesk.errors import NewsdeskError
from newsdesk.process.sanitize import html_to_text, one_line, sanitize_html
from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import categories, entries, feeds

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
    """Category and entry edits of the reader APIs (``store.editing``)."""

    def __init__(self, store: CoreStore) -> None:
        self.store = store

    def create_category(self, raw_title: str) -> tuple[int, str]:
        """A new category's (id, title); one of the same name is refused."""
        title = category_title(raw_title)
        try:
            with write_transaction(self.store.engine) as conn:
                if conn.execute(select(categories.c.id).where(categories.c.title == title)).first():
                    raise NewsdeskError("this category already exists")
                result = conn.execute(insert(categories).values(title=title))
                return int(result.inserted_primary_key[0]), title  # type: ignore[index]
        except IntegrityError:
            raise NewsdeskError("this category already exists") from None

    def rename_category(self, category_id: int, raw_title: str) -> str:
        """Rename; a name another category has is refused. Returns the stored title."""
        title = category_title(raw_title)
        with write_transaction(self.store.engine) as conn:
            other = conn.execute(
                select(categories.c.id).where(
                    categories.c.title == title, categories.c.id != category_id
                )
            ).first()
            if other is not None:
                raise NewsdeskError("this category already exists")
            conn.execute(
                update(categories).where(categories.c.id == category_id).values(title=title)
            )
        return title

    def remove_category(self, category_id: int) -> None:
        """Remove a category; its feeds stay subscribed, without a category (Miniflux removes them
        with it: unsubscribing is kept a deliberate act here)."""
        with write_transaction(self.store.engine) as conn:
            conn.execute(
                update(feeds).where(feeds.c.category_id == category_id).values(category_id=None)
            )
            conn.execute(delete(categories).where(categories.c.id == category_id))

    def edit_entry(
        self, entry_id: int, *, title: str | None = None, content_html: str | None = None
    ) -> None:
        """Rewrite an entry's title (plain text) and content (sanitized, its text re-derived)."""
        values: dict[str, object] = {"changed_at": datetime.now(UTC)}
        if title is not None:
            clean = one_line(title) or ""
            if not clean:
                raise NewsdeskError("the entry title cannot be empty")
            values["title"] = clean[:1000]  # as ingest keeps titles
        if content_html is not None:
            base = self.store.get_entry(entry_id).url
            html = sanitize_html(content_html, base)
            if not html.strip():
                raise NewsdeskError("the entry content cannot be empty")
            values.update(content_html=html, content_text=html_to_text(html))
        with write_transaction(self.store.engine) as conn:
            conn.execute(update(entries).where(entries.c.id == entry_id).values(**values))

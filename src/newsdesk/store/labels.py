"""User labels on entries (Google Reader's ``user/-/label/NAME`` put on an item with
``edit-tag``), and renaming or removing a category or a label (``rename-tag``, ``disable-tag``).

A user label is a row of ``entry_tags`` whose tag is ``USER_LABEL`` + the name. Feed tags are
casefolded at ingest (``process.classify.normalize_tags``), so none starts with the capital
``L`` of the prefix: the two kinds never mix, a tag filter (casefolded) never matches a label,
and a refresh that rewrites an entry's feed tags keeps its labels (``CoreStore``). Comparisons
on the prefix use ``substr`` and ``=``, never ``LIKE``, which SQLite matches without case.
Labels are not in exports (``store.portable`` writes feed tags only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, delete, func, select, update

from newsdesk.errors import NewsdeskError
from newsdesk.process.sanitize import one_line
from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import USER_LABEL, categories, entries, entry_tags, feeds
from newsdesk.store.values import aware_utc

if TYPE_CHECKING:
    from newsdesk.store.core import CoreStore

MAX_LABEL = 100 - len(USER_LABEL)  # entry_tags.tag is 100 characters


def is_user_label(column: Any) -> Any:
    """SQL: this ``entry_tags.tag`` is a user label (case-sensitive on every database)."""
    return func.substr(column, 1, len(USER_LABEL)) == USER_LABEL


def is_feed_tag(column: Any) -> Any:
    return func.substr(column, 1, len(USER_LABEL)) != USER_LABEL


def clean_label(name: str) -> str:
    """A label name as stored: plain text on one line, at most ``MAX_LABEL`` characters."""
    clean = one_line(name) or ""
    if not clean:
        raise NewsdeskError("a label needs a name")
    if len(clean) > MAX_LABEL:
        raise NewsdeskError(f"a label name has at most {MAX_LABEL} characters")
    return clean


def label_filter(name: str) -> Any:
    """SQL: the entry carries user label ``name`` or the feed tag of that name."""
    wanted = [USER_LABEL + name, name.casefold()]
    return entries.c.id.in_(select(entry_tags.c.entry_id).where(entry_tags.c.tag.in_(wanted)))


@dataclass(frozen=True, slots=True)
class LabelCount:
    name: str
    unread: int
    newest: datetime | None


def _category_named(conn: Any, title: str) -> int | None:
    found = conn.execute(select(categories.c.id).where(categories.c.title == title)).scalar()
    return None if found is None else int(found)


class LabelStore:
    """User labels, and renaming or removing a category or label (``store.labels``)."""

    def __init__(self, store: CoreStore) -> None:
        self.store = store

    def add_label(self, ids: list[int], name: str) -> int:
        """Put label ``name`` on the entries ``ids`` (unknown ids and ones already labelled are
        skipped); returns how many were labelled."""
        tag = USER_LABEL + clean_label(name)
        with write_transaction(self.store.engine) as conn:
            known = set(conn.execute(select(entries.c.id).where(entries.c.id.in_(ids))).scalars())
            have = set(
                conn.execute(
                    select(entry_tags.c.entry_id).where(
                        entry_tags.c.tag == tag, entry_tags.c.entry_id.in_(ids)
                    )
                ).scalars()
            )
            rows = [{"entry_id": i, "tag": tag} for i in dict.fromkeys(ids) if i in known - have]
            if rows:
                conn.execute(entry_tags.insert(), rows)
        return len(rows)

    def remove_label(self, ids: list[int], name: str) -> int:
        tag = USER_LABEL + clean_label(name)
        with write_transaction(self.store.engine) as conn:
            return int(
                conn.execute(
                    delete(entry_tags).where(
                        entry_tags.c.tag == tag, entry_tags.c.entry_id.in_(ids)
                    )
                ).rowcount
            )

    def labels_of(self, ids: list[int]) -> dict[int, list[str]]:
        """The user labels of each entry (entries without any left out), names sorted."""
        found: dict[int, list[str]] = {}
        if not ids:
            return found
        stmt = (
            select(entry_tags.c.entry_id, entry_tags.c.tag)
            .where(entry_tags.c.entry_id.in_(ids), is_user_label(entry_tags.c.tag))
            .order_by(entry_tags.c.tag)
        )
        with self.store.engine.connect() as conn:
            for entry_id, tag in conn.execute(stmt):
                found.setdefault(int(entry_id), []).append(str(tag)[len(USER_LABEL) :])
        return found

    def label_counts(self) -> list[LabelCount]:
        """Every user label in use, by name: its unread entries and newest publication time."""
        stmt = (
            select(
                entry_tags.c.tag,
                func.sum(case((entries.c.read.is_(False), 1), else_=0)),
                func.max(entries.c.published),
            )
            .select_from(entry_tags.join(entries, entries.c.id == entry_tags.c.entry_id))
            .where(is_user_label(entry_tags.c.tag))
            .group_by(entry_tags.c.tag)
            .order_by(entry_tags.c.tag)
        )
        with self.store.engine.connect() as conn:
            return [
                LabelCount(str(tag)[len(USER_LABEL) :], int(unread or 0), aware_utc(newest))
                for tag, unread, newest in conn.execute(stmt)
            ]

    def rename(self, old: str, new: str) -> bool:
        """Rename category ``old`` (into ``new``'s feeds when that category exists), else user
        label ``old`` (merged into ``new`` on entries that carry both). False when neither
        exists."""
        new = clean_label(new)[:300]
        with write_transaction(self.store.engine) as conn:
            source = _category_named(conn, old)
            if source is not None:
                target = _category_named(conn, new)
                if target is None:
                    conn.execute(
                        update(categories).where(categories.c.id == source).values(title=new)
                    )
                elif target != source:
                    conn.execute(
                        update(feeds)
                        .where(feeds.c.category_id == source)
                        .values(category_id=target)
                    )
                    conn.execute(delete(categories).where(categories.c.id == source))
                return True
            old_tag, new_tag = USER_LABEL + old, USER_LABEL + new
            both = select(entry_tags.c.entry_id).where(entry_tags.c.tag == new_tag)
            merged = conn.execute(
                delete(entry_tags).where(
                    entry_tags.c.tag == old_tag, entry_tags.c.entry_id.in_(both)
                )
            ).rowcount
            moved = conn.execute(
                update(entry_tags).where(entry_tags.c.tag == old_tag).values(tag=new_tag)
            ).rowcount
            return bool(merged or moved)

    def remove(self, name: str) -> bool:
        """Remove category ``name`` (its feeds go to the default category; the default category
        itself stays, as FreshRSS keeps its own), else user label ``name`` from every entry.
        False when neither exists."""
        with write_transaction(self.store.engine) as conn:
            source = _category_named(conn, name)
            if source is not None:
                if name == self.store.default_category:
                    return True
                default = self.store._category_id(
                    conn, self.store.default_category
                )  # found or made
                conn.execute(
                    update(feeds).where(feeds.c.category_id == source).values(category_id=default)
                )
                conn.execute(delete(categories).where(categories.c.id == source))
                return True
            gone = conn.execute(delete(entry_tags).where(entry_tags.c.tag == USER_LABEL + name))
            return bool(gone.rowcount)

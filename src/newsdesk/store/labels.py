"""User labels on entries (Google Reader's ``user/-/label/NAME`` put on an item with
``edit-tag``), and renaming or removing a category or a label (``rename-tag``, ``disable-tag``).

A user label is a row of ``entry_labels``: a person's own (issue 15), on entries they see.
Feed tags (``entry_tags``) are the feed's, casefolded at ingest, and shared by everyone who
sees the entry; a label filter matches the person's label of that name (with case) or the
feed tag of that name. Labels are not in exports (``store.portable`` writes feed tags only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, case, delete, func, insert, literal, or_, select, update

from newsdesk.errors import NewsdeskError
from newsdesk.process.sanitize import one_line
from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import (
    USER_LABEL,
    categories,
    entries,
    entry_labels,
    entry_tags,
    subscriptions,
)
from newsdesk.store.values import aware_utc
from newsdesk.store.visibility import is_read, sees_feed, state_join

if TYPE_CHECKING:
    from newsdesk.store.core import CoreStore

MAX_LABEL = 100 - len(USER_LABEL)  # as before migration 11, when labels were entry tags


def clean_label(name: str) -> str:
    """A label name as stored: plain text on one line, at most ``MAX_LABEL`` characters."""
    clean = one_line(name) or ""
    if not clean:
        raise NewsdeskError("a label needs a name")
    if len(clean) > MAX_LABEL:
        raise NewsdeskError(f"a label name has at most {MAX_LABEL} characters")
    return clean


def label_filter(name: str, person_id: int | None) -> Any:
    """SQL: the entry carries the person's label ``name`` (anyone's, with no person) or the
    feed tag of that name."""
    labelled = select(entry_labels.c.entry_id).where(entry_labels.c.label == name)
    if person_id is not None:
        labelled = labelled.where(entry_labels.c.user_id == person_id)
    tagged = select(entry_tags.c.entry_id).where(entry_tags.c.tag == name.casefold())
    return or_(entries.c.id.in_(labelled), entries.c.id.in_(tagged))


@dataclass(frozen=True, slots=True)
class LabelCount:
    name: str
    unread: int
    newest: datetime | None


class LabelStore:
    """A person's labels, and renaming or removing their categories or labels
    (``store.labels``)."""

    def __init__(self, store: CoreStore) -> None:
        self.store = store

    def _own_category(self, conn: Connection, title: str) -> int | None:
        found = conn.execute(
            select(categories.c.id).where(
                categories.c.title == title, categories.c.user_id == self.store.require_person()
            )
        ).scalar()
        return None if found is None else int(found)

    def add_label(self, ids: list[int], name: str) -> int:
        """Put label ``name`` on the entries ``ids`` the person sees (others and ones already
        labelled are skipped); returns how many were labelled."""
        label = clean_label(name)
        person = self.store.require_person()
        with write_transaction(self.store.engine) as conn:
            known = set(
                conn.execute(
                    select(entries.c.id).where(entries.c.id.in_(ids), sees_feed(person))
                ).scalars()
            )
            have = set(
                conn.execute(
                    select(entry_labels.c.entry_id).where(
                        entry_labels.c.user_id == person,
                        entry_labels.c.label == label,
                        entry_labels.c.entry_id.in_(ids),
                    )
                ).scalars()
            )
            rows = [
                {"user_id": person, "entry_id": i, "label": label}
                for i in dict.fromkeys(ids)
                if i in known - have
            ]
            if rows:
                conn.execute(insert(entry_labels), rows)
        return len(rows)

    def remove_label(self, ids: list[int], name: str) -> int:
        label = clean_label(name)
        person = self.store.require_person()
        with write_transaction(self.store.engine) as conn:
            return int(
                conn.execute(
                    delete(entry_labels).where(
                        entry_labels.c.user_id == person,
                        entry_labels.c.label == label,
                        entry_labels.c.entry_id.in_(ids),
                    )
                ).rowcount
            )

    def labels_of(self, ids: list[int]) -> dict[int, list[str]]:
        """The person's labels of each entry (entries without any left out), names sorted."""
        found: dict[int, list[str]] = {}
        person = self.store.person_id
        if not ids or person is None:
            return found
        stmt = (
            select(entry_labels.c.entry_id, entry_labels.c.label)
            .where(entry_labels.c.user_id == person, entry_labels.c.entry_id.in_(ids))
            .order_by(entry_labels.c.label)
        )
        with self.store.engine.connect() as conn:
            for entry_id, label in conn.execute(stmt):
                found.setdefault(int(entry_id), []).append(str(label))
        return found

    def label_counts(self) -> list[LabelCount]:
        """Every label the person uses on entries they see, by name: its unread entries (for
        them) and newest publication time."""
        person = self.store.person_id
        if person is None:
            return []
        source = state_join(
            entry_labels.join(entries, entries.c.id == entry_labels.c.entry_id), person
        )
        stmt = (
            select(
                entry_labels.c.label,
                func.sum(case((is_read(person, False), 1), else_=0)),
                func.max(entries.c.published),
            )
            .select_from(source)
            .where(entry_labels.c.user_id == person, sees_feed(person))
            .group_by(entry_labels.c.label)
            .order_by(entry_labels.c.label)
        )
        with self.store.engine.connect() as conn:
            return [
                LabelCount(str(label), int(unread or 0), aware_utc(newest))
                for label, unread, newest in conn.execute(stmt)
            ]

    def rename(self, old: str, new: str) -> bool:
        """Rename the person's category ``old`` (into their ``new`` when that category exists),
        else their label ``old`` (merged into ``new`` on entries that carry both). False when
        neither exists."""
        new = clean_label(new)[:300]
        person = self.store.require_person()
        with write_transaction(self.store.engine) as conn:
            source = self._own_category(conn, old)
            if source is not None:
                target = self._own_category(conn, new)
                if target is None:
                    conn.execute(
                        update(categories).where(categories.c.id == source).values(title=new)
                    )
                elif target != source:
                    conn.execute(
                        update(subscriptions)
                        .where(subscriptions.c.category_id == source)
                        .values(category_id=target)
                    )
                    conn.execute(delete(categories).where(categories.c.id == source))
                return True
            mine = entry_labels.c.user_id == person
            both = select(entry_labels.c.entry_id).where(mine, entry_labels.c.label == new)
            merged = conn.execute(
                delete(entry_labels).where(
                    mine, entry_labels.c.label == old, entry_labels.c.entry_id.in_(both)
                )
            ).rowcount
            moved = conn.execute(
                update(entry_labels)
                .where(mine, entry_labels.c.label == old)
                .values(label=literal(new))
            ).rowcount
            return bool(merged or moved)

    def remove(self, name: str) -> bool:
        """Remove the person's category ``name`` (its feeds go to their default category; the
        default category itself stays, as FreshRSS keeps its own), else their label ``name``
        from every entry. False when neither exists."""
        person = self.store.require_person()
        with write_transaction(self.store.engine) as conn:
            source = self._own_category(conn, name)
            if source is not None:
                if name == self.store.default_category:
                    return True
                default = self.store._category_id(conn, self.store.default_category)
                conn.execute(
                    update(subscriptions)
                    .where(subscriptions.c.category_id == source)
                    .values(category_id=default)
                )
                conn.execute(delete(categories).where(categories.c.id == source))
                return True
            gone = conn.execute(
                delete(entry_labels).where(
                    entry_labels.c.user_id == person, entry_labels.c.label == name
                )
            )
            return bool(gone.rowcount)

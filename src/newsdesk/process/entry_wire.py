"""Entries as plain tuples, for the trip from a parse worker process to the writer: pickling
dataclasses calls Python code for every object (slotted dataclasses restore their state field
by field), tuples of strings, numbers and dates load in C, several times faster; the writer's
process rebuilds the objects from them in a fraction of that.

``pack_entries`` runs where the entries were made, ``unpack_entries`` where they are stored;
the result is equal to what went in, stored forms (``ProcessedEntries.forms``) included."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from operator import attrgetter
from typing import Any, cast

from newsdesk.model import Enclosure, Entry
from newsdesk.process.pipeline import ProcessedEntries, StoredForm

_ENTRY_FIELDS = tuple(f.name for f in fields(Entry))
_ENCLOSURES = _ENTRY_FIELDS.index("enclosures")
_entry_values = attrgetter(*_ENTRY_FIELDS)
_form_values = attrgetter(*(f.name for f in fields(StoredForm)))
_enclosure_values = attrgetter(*(f.name for f in fields(Enclosure)))

Packed = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]] | None]


def pack_entries(entries: Sequence[Entry]) -> Packed:
    """The entries' field values (enclosures as tuples too), and their stored forms when they
    came with them."""
    rows: list[tuple[Any, ...]] = []
    for e in entries:
        row = _entry_values(e)
        if e.enclosures:
            values = list(row)
            values[_ENCLOSURES] = [_enclosure_values(x) for x in e.enclosures]
            row = tuple(values)
        rows.append(row)
    forms: list[StoredForm] | None = getattr(entries, "forms", None)
    return rows, None if forms is None else [_form_values(f) for f in forms]


def unpack_entries(packed: Packed) -> list[Entry]:
    """The entries ``pack_entries`` was given (a ``ProcessedEntries`` when forms came)."""
    rows, forms = packed
    entries = ProcessedEntries() if forms is not None else []
    for row in rows:
        entry = Entry(*row)
        if entry.enclosures:
            values = cast(list[tuple[Any, ...]], entry.enclosures)
            entry.enclosures = [Enclosure(*x) for x in values]
        entries.append(entry)
    if forms is not None:
        entries.forms = [StoredForm(*f) for f in forms]  # type: ignore[attr-defined]
    return entries

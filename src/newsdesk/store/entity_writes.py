"""Writing entities and their mentions, per entry, in the intel stage's transaction
(``replace_mentions``). The counters on ``entities`` (mention_count, entry_count, first_seen,
last_seen) are kept here in the same transaction as the mention rows, so re-reading an entry
never counts it twice. They count every entry (the system's view): a person's counts are read
over the entries they see (``store.entities``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from newsdesk.errors import NewsdeskError
from newsdesk.model import KINDS, FoundEntity
from newsdesk.process.names import fold
from newsdesk.store.schema import entities, entity_mentions
from newsdesk.util import chunks

MAX_ALIASES = 50


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- writing --


def _insert_ignoring_conflicts(conn: Connection, rows: list[dict[str, Any]]) -> None:
    # The dialect in use only: importing PostgreSQL's costs every SQLite process start-up.
    dialect = conn.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        conn.execute(postgresql.insert(entities).on_conflict_do_nothing(), rows)
    elif dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        conn.execute(sqlite.insert(entities).on_conflict_do_nothing(), rows)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        conn.execute(insert(entities), rows)


def _merge_found(found: Sequence[FoundEntity]) -> dict[tuple[str, str], FoundEntity]:
    merged: dict[tuple[str, str], FoundEntity] = {}
    for f in found:
        if f.kind not in KINDS:
            raise NewsdeskError(f"unknown entity kind {f.kind!r} (expected one of {KINDS})")
        key = f.key.strip()[:200]
        if not key or not f.name.strip() or f.count < 1:
            continue
        old = merged.get((f.kind, key))
        if old is None:
            merged[(f.kind, key)] = FoundEntity(
                f.kind, key, f.name.strip(), f.surfaces, f.count, max(f.first_offset, 0)
            )
        else:
            merged[(f.kind, key)] = FoundEntity(
                f.kind,
                key,
                old.name,
                tuple(dict.fromkeys(old.surfaces + f.surfaces)),
                old.count + f.count,
                min(old.first_offset, max(f.first_offset, 0)),
            )
    return merged


def _known_person_by_surname(conn: Connection, surname_key: str) -> int | None:
    """The one person already known whose full name ends with this surname, if exactly one:
    "Smirnov" in a tweet is the "Alexander Smirnov" of earlier articles."""
    rows = conn.execute(
        select(entities.c.id)
        .where(
            entities.c.kind == "person",
            entities.c.key.like(f"% {_like_escape(surname_key)}", escape="\\"),
            entities.c.entry_count > 0,
        )
        .limit(2)
    ).all()
    return rows[0][0] if len(rows) == 1 else None


def replace_mentions(
    conn: Connection, entry_id: int, published: datetime, found: Sequence[FoundEntity]
) -> dict[str, int]:
    """Replace the entry's mentions with ``found`` and keep the entities' counters right.

    Run it inside the caller's write transaction. Returns every surface form (and name) of the
    entry's entities -> entity id, for linking events to entities."""
    old = _drop_mentions(conn, entry_id)
    wanted = _merge_found(found)
    ids = _entity_ids(conn, wanted) if wanted else {}
    per_entity = _per_entity(wanted, ids)
    _insert_mentions(conn, entry_id, published, per_entity)
    _count_mentions(conn, old, per_entity)
    touched = sorted(set(old) | set(per_entity))
    if touched:
        _refresh_seen(conn, touched)
        _add_aliases(conn, {eid: names for eid, (_c, _o, names) in per_entity.items()})
    surfaces: dict[str, int] = {}
    for (kind, key), f in wanted.items():
        for surface in (*f.surfaces, f.name):
            surfaces.setdefault(surface, ids[(kind, key)])
    return surfaces


def _drop_mentions(conn: Connection, entry_id: int) -> dict[int, int]:
    """Delete the entry's mentions; entity id -> the count each had."""
    old: dict[int, int] = {
        int(entity_id): int(count)
        for entity_id, count in conn.execute(
            select(entity_mentions.c.entity_id, entity_mentions.c.count).where(
                entity_mentions.c.entry_id == entry_id
            )
        )
    }
    if old:
        conn.execute(delete(entity_mentions).where(entity_mentions.c.entry_id == entry_id))
    return old


def _entity_ids(
    conn: Connection, wanted: dict[tuple[str, str], FoundEntity]
) -> dict[tuple[str, str], int]:
    """The stored entity of each found (kind, key): an existing one, a known person a lone
    surname stands for, or a new row."""
    keys = sorted({key for _, key in wanted})
    rows = conn.execute(
        select(entities.c.id, entities.c.kind, entities.c.key).where(entities.c.key.in_(keys))
    ).all()
    ids = {(r.kind, r.key): r.id for r in rows if (r.kind, r.key) in wanted}
    for kind, key in wanted:
        if (kind, key) not in ids and kind == "person" and " " not in key:
            linked = _known_person_by_surname(conn, key)
            if linked is not None:
                ids[(kind, key)] = linked
    missing = [wanted[k] for k in wanted if k not in ids]
    if missing:
        counters = {"mention_count": 0, "entry_count": 0, "first_seen": None, "last_seen": None}
        rows_in = [{"kind": f.kind, "key": f.key, "name": f.name, "aliases": []} for f in missing]
        _insert_ignoring_conflicts(conn, [{**r, **counters} for r in rows_in])
        rows = conn.execute(
            select(entities.c.id, entities.c.kind, entities.c.key).where(
                entities.c.key.in_(sorted({f.key for f in missing}))
            )
        ).all()
        ids.update({(r.kind, r.key): r.id for r in rows if (r.kind, r.key) in wanted})
    return ids


_PerEntity = dict[int, tuple[int, int, list[str]]]  # entity id -> (count, first offset, names)


def _per_entity(
    wanted: dict[tuple[str, str], FoundEntity], ids: dict[tuple[str, str], int]
) -> _PerEntity:
    """Two found entities may land on one stored entity (a surname linked to a full name)."""
    per_entity: _PerEntity = {}
    for (kind, key), f in wanted.items():
        entity_id = ids[(kind, key)]
        count, offset, names = per_entity.get(entity_id, (0, f.first_offset, []))
        per_entity[entity_id] = (
            count + f.count,
            min(offset, f.first_offset),
            [*names, f.name, *f.surfaces],
        )
    return per_entity


def _insert_mentions(
    conn: Connection, entry_id: int, published: datetime, per_entity: _PerEntity
) -> None:
    if not per_entity:
        return
    conn.execute(
        insert(entity_mentions),
        [
            {
                "entry_id": entry_id,
                "entity_id": entity_id,
                "count": count,
                "first_offset": offset,
                "published": published,
            }
            for entity_id, (count, offset, _names) in per_entity.items()
        ],
    )


def _count_mentions(conn: Connection, old: dict[int, int], per_entity: _PerEntity) -> None:
    """Move the entities' mention and entry counters from the old mentions to the new."""
    deltas: dict[int, tuple[int, int]] = {}
    for entity_id, count in old.items():
        deltas[entity_id] = (-count, -1)
    for entity_id, (count, _offset, _names) in per_entity.items():
        d_mentions, d_entries = deltas.get(entity_id, (0, 0))
        deltas[entity_id] = (d_mentions + count, d_entries + 1)
    changed = sorted(eid for eid, delta in deltas.items() if delta != (0, 0))
    if not changed:
        return
    conn.execute(
        update(entities)
        .where(entities.c.id == bindparam("b_id"))
        .values(
            mention_count=entities.c.mention_count + bindparam("b_mentions"),
            entry_count=entities.c.entry_count + bindparam("b_entries"),
        ),
        [
            {"b_id": eid, "b_mentions": deltas[eid][0], "b_entries": deltas[eid][1]}
            for eid in changed
        ],
    )


def _refresh_seen(conn: Connection, entity_ids: Sequence[int]) -> None:
    """first_seen/last_seen from the mentions (an index lookup each, on entity_id, published)."""
    first = (
        select(func.min(entity_mentions.c.published))
        .where(entity_mentions.c.entity_id == entities.c.id)
        .scalar_subquery()
    )
    last = (
        select(func.max(entity_mentions.c.published))
        .where(entity_mentions.c.entity_id == entities.c.id)
        .scalar_subquery()
    )
    for chunk in chunks(entity_ids):
        conn.execute(
            update(entities)
            .where(entities.c.id.in_(chunk))
            .values(first_seen=first, last_seen=last)
        )


def _add_aliases(conn: Connection, names: dict[int, list[str]]) -> None:
    """Record the other names seen for each entity (a capped list)."""
    if not names:
        return
    rows = conn.execute(
        select(entities.c.id, entities.c.name, entities.c.aliases)
        .where(entities.c.id.in_(sorted(names)))
        .with_for_update()
    ).all()
    updates = []
    for row in rows:
        current = list(row.aliases or [])
        seen = {fold(a) for a in current} | {fold(row.name)}
        for name in names[row.id]:
            if fold(name) not in seen and len(current) < MAX_ALIASES:
                current.append(name)
                seen.add(fold(name))
        if current != list(row.aliases or []):
            updates.append({"b_id": row.id, "b_aliases": current})
    if updates:
        conn.execute(
            update(entities)
            .where(entities.c.id == bindparam("b_id"))
            .values(aliases=bindparam("b_aliases", type_=entities.c.aliases.type)),
            updates,
        )

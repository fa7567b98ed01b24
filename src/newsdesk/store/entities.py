"""Entities and their mentions in the store: written per entry by the intel stage, read by the
entity pages, the API, watchlists and timelines. SQLAlchemy Core, SQLite and PostgreSQL alike.

Counters on ``entities`` (mention_count, entry_count, first_seen, last_seen) are kept by
``replace_mentions`` in the same transaction as the mention rows, so re-reading an entry never
counts it twice."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Row

from newsdesk.errors import AmbiguousEntityError, EntityNotFoundError, NewsdeskError
from newsdesk.model import KINDS, FoundEntity
from newsdesk.process.names import fold, make_key
from newsdesk.store.schema import entities, entity_mentions, entries, stories
from newsdesk.util import chunks, iso

MAX_ALIASES = 50
BUCKETS = ("day", "week", "month")


@dataclass(frozen=True, slots=True)
class Entity:
    """A person, organisation or place, with how often and when it is mentioned."""

    id: int
    kind: str
    key: str
    name: str
    aliases: list[str]
    mention_count: int
    entry_count: int
    first_seen: datetime | None
    last_seen: datetime | None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "key": self.key,
            "name": self.name,
            "aliases": list(self.aliases),
            "mention_count": self.mention_count,
            "entry_count": self.entry_count,
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
        }


_COLUMNS = (
    entities.c.id,
    entities.c.kind,
    entities.c.key,
    entities.c.name,
    entities.c.aliases,
    entities.c.mention_count,
    entities.c.entry_count,
    entities.c.first_seen,
    entities.c.last_seen,
)


def _entity(row: Row[Any] | Any) -> Entity:
    return Entity(
        id=row.id,
        kind=row.kind,
        key=row.key,
        name=row.name,
        aliases=list(row.aliases or []),
        mention_count=row.mention_count,
        entry_count=row.entry_count,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
    )


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


# -- reading --


def _entities_by_id(conn: Connection, ids: Iterable[int]) -> dict[int, Entity]:
    wanted = sorted(set(ids))
    found: dict[int, Entity] = {}
    for chunk in chunks(wanted):
        for row in conn.execute(select(*_COLUMNS).where(entities.c.id.in_(chunk))):
            found[row.id] = _entity(row)
    return found


def _bucket_expression(dialect: str, bucket: str) -> Any:
    published = entity_mentions.c.published
    if dialect == "postgresql":
        return func.to_char(func.date_trunc(bucket, published), "YYYY-MM-DD")
    if bucket == "day":
        return func.date(published)
    if bucket == "week":  # the Monday on or before the day
        return func.date(published, "-6 days", "weekday 1")
    return func.strftime("%Y-%m-01", published)


def _co_counts(conn: Connection, entity_id: int, limit: int) -> list[tuple[int, int]]:
    a = entity_mentions.alias("a")
    b = entity_mentions.alias("b")
    weight = func.count().label("weight")
    query = (
        select(b.c.entity_id, weight)
        .select_from(a.join(b, and_(a.c.entry_id == b.c.entry_id, b.c.entity_id != entity_id)))
        .where(a.c.entity_id == entity_id)
        .group_by(b.c.entity_id)
        .order_by(weight.desc(), b.c.entity_id)
        .limit(max(limit, 0))
    )
    return [(int(eid), int(n)) for eid, n in conn.execute(query)]


class EntityStore:
    """Entities and their mentions as pages, the API and the CLI read them (``store.entities``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def resolve(self, ref: str | int) -> Entity:
        """The entity ``ref`` names, by the one rule every face uses: a number is an id; else an
        exact name, alias or key, ignoring case (among several, the most mentioned); else the
        single entity that matches loosely. Several loose matches and none exact raise
        ``AmbiguousEntityError`` (naming up to five); none raise ``EntityNotFoundError``."""
        text = " ".join(str(ref).split())
        if not text:
            raise EntityNotFoundError("give an entity's id or name")
        if text.isdigit():
            found = self.get_entity(int(text)) if len(text) < 18 else None
            if found is None:
                raise EntityNotFoundError(f"no entity with id {text}")
            return found
        exact = self._exact(text)
        if exact:
            return min(exact, key=lambda e: (-e.mention_count, -e.entry_count, e.id))
        loose = self.find_entities(text, limit=6)
        if len(loose) == 1:
            return loose[0]
        if not loose:
            raise EntityNotFoundError(f"no entity named {text!r} (see `newsdesk entities`)")
        listed = ", ".join(f"{e.id} ({e.kind} {e.name})" for e in loose[:5])
        more = ", …" if len(loose) > 5 else ""
        raise AmbiguousEntityError(
            f"{text!r} could be more than one entity: {listed}{more}; give its id or full name"
        )

    def _exact(self, text: str) -> list[Entity]:
        """Entities whose name, key or an alias is ``text``, ignoring case."""
        wanted = text.casefold()
        lowered = text.lower()  # lower() covers ASCII in SQL on SQLite: the test is made here
        needle = json.dumps(text, ensure_ascii=True)[1:-1].lower()
        query = select(*_COLUMNS).where(
            or_(
                func.lower(entities.c.name) == lowered,
                func.lower(entities.c.key) == lowered,
                entities.c.key == make_key(text),
                func.lower(cast(entities.c.aliases, Text)).contains(needle, autoescape=True),
                func.lower(cast(entities.c.aliases, Text)).contains(lowered, autoescape=True),
            )
        )
        with self.engine.connect() as conn:
            found = [_entity(r) for r in conn.execute(query)]
        return [
            e
            for e in found
            if wanted
            in {e.name.casefold(), e.key.casefold(), *(str(a).casefold() for a in e.aliases)}
        ]

    def get_entity(self, entity_id: int) -> Entity | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(*_COLUMNS).where(entities.c.id == entity_id)).first()
        return _entity(row) if row else None

    def find_entities(self, text: str, *, limit: int = 20) -> list[Entity]:
        """Entities whose key, name or an alias matches ``text`` (case-insensitive); exact matches
        first, then by how many entries mention them."""
        query = " ".join(text.split())
        if not query or limit <= 0:
            return []
        key = make_key(query)
        folded = fold(query)
        pattern = f"%{_like_escape(folded)}%"
        conditions: list[Any] = [
            func.lower(entities.c.name).like(pattern, escape="\\"),
            func.lower(cast(entities.c.aliases, Text)).like(pattern, escape="\\"),
        ]
        if key:
            conditions += [
                entities.c.key == key,
                entities.c.key.like(f"%{_like_escape(key)}%", escape="\\"),
            ]
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*_COLUMNS)
                .where(or_(*conditions))
                .order_by(entities.c.entry_count.desc(), entities.c.id)
                .limit(max(limit * 10, 200))
            ).all()
        found = [_entity(r) for r in rows]

        def rank(entity: Entity) -> tuple[int, int, int]:
            names = {fold(entity.name), *(fold(a) for a in entity.aliases)}
            if entity.key == key:
                level = 0
            elif folded in names or key in {make_key(n) for n in names}:
                level = 1
            elif entity.key.startswith(key) or f" {key}" in entity.key:
                level = 2
            else:
                level = 3
            return (level, -entity.entry_count, entity.id)

        found.sort(key=rank)
        return found[:limit]

    def list_entities(
        self, *, kind: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[Entity]:
        """Entities mentioned by at least one entry, most entries first."""
        if kind is not None and kind not in KINDS:
            raise NewsdeskError(f"unknown entity kind {kind!r}: use one of {', '.join(KINDS)}")
        query = select(*_COLUMNS).where(entities.c.entry_count > 0)
        if kind is not None:
            query = query.where(entities.c.kind == kind)
        query = query.order_by(
            entities.c.entry_count.desc(), entities.c.mention_count.desc(), entities.c.id
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(max(limit, 0)).offset(max(offset, 0))).all()
        return [_entity(r) for r in rows]

    def mentions_over_time(self, entity_id: int, *, bucket: str = "day") -> list[tuple[str, int]]:
        """Entries mentioning the entity per day, week (from Monday) or month: (ISO date of the
        bucket's first day, entries), oldest first; empty buckets are left out."""
        if bucket not in BUCKETS:
            raise NewsdeskError(f"unknown bucket {bucket!r}: use day, week or month")
        expression = _bucket_expression(self.engine.dialect.name, bucket).label("bucket")
        query = (
            select(expression, func.count())
            .where(entity_mentions.c.entity_id == entity_id)
            .group_by(expression)
            .order_by(expression)
        )
        with self.engine.connect() as conn:
            return [(str(b), int(n)) for b, n in conn.execute(query)]

    def co_mentions(self, entity_id: int, *, limit: int = 15) -> list[tuple[Entity, int]]:
        """The entities most often mentioned in the same entries, with how many entries."""
        with self.engine.connect() as conn:
            counts = _co_counts(conn, entity_id, limit)
            by_id = _entities_by_id(conn, [eid for eid, _ in counts])
        return [(by_id[eid], n) for eid, n in counts if eid in by_id]

    def co_mention_graph(
        self, entity_id: int, *, limit: int = 12
    ) -> tuple[list[Entity], list[tuple[int, int, int]]]:
        """The entity and its ``limit`` most co-mentioned entities (nodes, the entity first), and
        weighted edges (a, b, entries mentioning both, a < b) among them, counted over the
        entries that mention the entity."""
        with self.engine.connect() as conn:
            counts = _co_counts(conn, entity_id, limit)
            by_id = _entities_by_id(conn, [entity_id] + [eid for eid, _ in counts])
            if entity_id not in by_id:
                return [], []
            node_ids = [entity_id] + [eid for eid, _ in counts if eid in by_id]
            edges = [
                (min(entity_id, eid), max(entity_id, eid), n) for eid, n in counts if eid in by_id
            ]
            others = node_ids[1:]
            if len(others) >= 2:
                a = entity_mentions.alias("a")
                b = entity_mentions.alias("b")
                own = select(entity_mentions.c.entry_id).where(
                    entity_mentions.c.entity_id == entity_id
                )
                query = (
                    select(a.c.entity_id, b.c.entity_id, func.count())
                    .select_from(
                        a.join(b, and_(a.c.entry_id == b.c.entry_id, a.c.entity_id < b.c.entity_id))
                    )
                    .where(
                        a.c.entry_id.in_(own),
                        a.c.entity_id.in_(others),
                        b.c.entity_id.in_(others),
                    )
                    .group_by(a.c.entity_id, b.c.entity_id)
                )
                edges += [(int(x), int(y), int(n)) for x, y, n in conn.execute(query)]
        edges.sort(key=lambda e: (-e[2], e[0], e[1]))
        return [by_id[i] for i in node_ids], edges

    def entity_story_ids(self, entity_id: int, *, limit: int = 50) -> list[int]:
        """Stories with an entry that mentions the entity, newest (last published) first."""
        query = (
            select(stories.c.id)
            .select_from(
                entity_mentions.join(entries, entries.c.id == entity_mentions.c.entry_id).join(
                    stories, stories.c.id == entries.c.story_id
                )
            )
            .where(entity_mentions.c.entity_id == entity_id)
            .group_by(stories.c.id, stories.c.last_published)
            .order_by(stories.c.last_published.desc(), stories.c.id.desc())
            .limit(max(limit, 0))
        )
        with self.engine.connect() as conn:
            return [int(i) for i in conn.execute(query).scalars()]

    def entities_for_entries(self, entry_ids: Iterable[int]) -> dict[int, list[Entity]]:
        """Each entry's entities, most mentioned in it first (every asked id is a key)."""
        wanted = sorted(set(entry_ids))
        result: dict[int, list[Entity]] = {i: [] for i in wanted}
        with self.engine.connect() as conn:
            for chunk in chunks(wanted):
                rows = conn.execute(
                    select(entity_mentions.c.entry_id, *_COLUMNS)
                    .select_from(
                        entity_mentions.join(entities, entities.c.id == entity_mentions.c.entity_id)
                    )
                    .where(entity_mentions.c.entry_id.in_(chunk))
                    .order_by(
                        entity_mentions.c.entry_id,
                        entity_mentions.c.count.desc(),
                        entity_mentions.c.first_offset,
                        entities.c.id,
                    )
                )
                for row in rows:
                    result[row.entry_id].append(_entity(row))
        return result

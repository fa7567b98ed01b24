"""Entities and their mentions in the store: written per entry by the intel stage
(``entity_writes.replace_mentions``), read by the entity pages, the API, watchlists and
timelines. SQLAlchemy Core, SQLite and PostgreSQL alike.

Entities are extracted once over every entry; a person (issue 15) sees them over the entries
they see: an entity none of those mentions does not exist for them, and its counts, dates,
co-mentions and stories are counted over those entries only."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Text, and_, cast, func, or_, select
from sqlalchemy.engine import Row

from newsdesk.errors import AmbiguousEntityError, EntityNotFoundError, NewsdeskError
from newsdesk.model import KINDS
from newsdesk.process.names import fold, make_key
from newsdesk.store.entity_writes import _like_escape
from newsdesk.store.entity_writes import replace_mentions as replace_mentions
from newsdesk.store.schema import entities, entity_mentions, entries, stories
from newsdesk.store.visibility import visible_feeds
from newsdesk.util import chunks, iso

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


# -- reading --


def _mentions(person: int | None) -> Any:
    """``entity_mentions`` (joined to the entries, for a person: those they see)."""
    if person is None:
        return entity_mentions
    return entity_mentions.join(
        entries,
        and_(
            entries.c.id == entity_mentions.c.entry_id,
            entries.c.feed_id.in_(visible_feeds(person)),
        ),
    )


def _seen(conn: Connection, found: Sequence[Entity], person: int | None) -> list[Entity]:
    """``found`` as the person sees them: counted over the entries they see; one that only
    entries they do not see mention is left out (no person: as stored)."""
    if person is None or not found:
        return list(found)
    counts: dict[int, Any] = {}
    query = select(
        entity_mentions.c.entity_id,
        func.sum(entity_mentions.c.count).label("mentions"),
        func.count().label("entries"),
        func.min(entity_mentions.c.published).label("first"),
        func.max(entity_mentions.c.published).label("last"),
    ).select_from(_mentions(person))
    for chunk in chunks(sorted({e.id for e in found})):
        rows = conn.execute(
            query.where(entity_mentions.c.entity_id.in_(chunk)).group_by(
                entity_mentions.c.entity_id
            )
        )
        counts.update((int(r.entity_id), r) for r in rows)
    out = []
    for e in found:
        c = counts.get(e.id)
        if c is not None:
            out.append(
                replace(
                    e,
                    mention_count=int(c.mentions or 0),
                    entry_count=int(c.entries),
                    first_seen=c.first,
                    last_seen=c.last,
                )
            )
        elif e.entry_count == 0:  # mentioned nowhere (yet): nothing to hide
            out.append(e)
    return out


def _entities_by_id(
    conn: Connection, ids: Iterable[int], person: int | None = None
) -> dict[int, Entity]:
    wanted = sorted(set(ids))
    found: list[Entity] = []
    for chunk in chunks(wanted):
        found.extend(
            _entity(r) for r in conn.execute(select(*_COLUMNS).where(entities.c.id.in_(chunk)))
        )
    return {e.id: e for e in _seen(conn, found, person)}


def seen_entity_ids(conn: Connection, ids: Iterable[int], person: int | None) -> set[int]:
    """Those of ``ids`` that exist for the person (``_seen``: mentioned by an entry they see,
    or by none at all yet)."""
    return set(_entities_by_id(conn, ids, person))


def _bucket_expression(dialect: str, bucket: str) -> Any:
    published = entity_mentions.c.published
    if dialect == "postgresql":
        return func.to_char(func.date_trunc(bucket, published), "YYYY-MM-DD")
    if bucket == "day":
        return func.date(published)
    if bucket == "week":  # the Monday on or before the day
        return func.date(published, "-6 days", "weekday 1")
    return func.strftime("%Y-%m-01", published)


def _own_entries(entity_id: int, person: int | None) -> Any:
    """A select of the entries that mention the entity (that the person sees)."""
    return (
        select(entity_mentions.c.entry_id)
        .select_from(_mentions(person))
        .where(entity_mentions.c.entity_id == entity_id)
    )


def _co_counts(
    conn: Connection, entity_id: int, limit: int, person: int | None
) -> list[tuple[int, int]]:
    b = entity_mentions.alias("b")
    weight = func.count().label("weight")
    query = (
        select(b.c.entity_id, weight)
        .where(b.c.entry_id.in_(_own_entries(entity_id, person)), b.c.entity_id != entity_id)
        .group_by(b.c.entity_id)
        .order_by(weight.desc(), b.c.entity_id)
        .limit(max(limit, 0))
    )
    return [(int(eid), int(n)) for eid, n in conn.execute(query)]


class EntityStore:
    """Entities and their mentions as pages, the API and the CLI read them (``store.entities``),
    as the store's person sees them (None: every entry)."""

    def __init__(self, engine: Engine, person_id: int | None = None) -> None:
        self.engine = engine
        self.person_id = person_id

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
            found = [
                e
                for e in found
                if wanted
                in {e.name.casefold(), e.key.casefold(), *(str(a).casefold() for a in e.aliases)}
            ]
            return _seen(conn, found, self.person_id)

    def get_entity(self, entity_id: int) -> Entity | None:
        with self.engine.connect() as conn:
            return _entities_by_id(conn, [entity_id], self.person_id).get(entity_id)

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
            found = _seen(conn, [_entity(r) for r in rows], self.person_id)

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
        """Entities mentioned by at least one entry (the person sees), most entries first."""
        if kind is not None and kind not in KINDS:
            raise NewsdeskError(f"unknown entity kind {kind!r}: use one of {', '.join(KINDS)}")
        if self.person_id is not None:
            return self._list_seen(kind, limit, offset)
        query = select(*_COLUMNS).where(entities.c.entry_count > 0)
        if kind is not None:
            query = query.where(entities.c.kind == kind)
        query = query.order_by(
            entities.c.entry_count.desc(), entities.c.mention_count.desc(), entities.c.id
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(max(limit, 0)).offset(max(offset, 0))).all()
        return [_entity(r) for r in rows]

    def _list_seen(self, kind: str | None, limit: int, offset: int) -> list[Entity]:
        """``list_entities`` counted over the entries the person sees."""
        entry_n = func.count().label("entry_n")
        mention_n = func.sum(entity_mentions.c.count).label("mention_n")
        query = select(entity_mentions.c.entity_id, entry_n, mention_n).select_from(
            _mentions(self.person_id)
        )
        if kind is not None:
            query = query.where(
                entity_mentions.c.entity_id.in_(
                    select(entities.c.id).where(entities.c.kind == kind)
                )
            )
        query = (
            query.group_by(entity_mentions.c.entity_id)
            .order_by(entry_n.desc(), mention_n.desc(), entity_mentions.c.entity_id)
            .limit(max(limit, 0))
            .offset(max(offset, 0))
        )
        with self.engine.connect() as conn:
            ids = [int(r[0]) for r in conn.execute(query)]
            by_id = _entities_by_id(conn, ids, self.person_id)
        return [by_id[i] for i in ids if i in by_id]

    def mentions_over_time(self, entity_id: int, *, bucket: str = "day") -> list[tuple[str, int]]:
        """Entries mentioning the entity per day, week (from Monday) or month: (ISO date of the
        bucket's first day, entries), oldest first; empty buckets are left out."""
        if bucket not in BUCKETS:
            raise NewsdeskError(f"unknown bucket {bucket!r}: use day, week or month")
        expression = _bucket_expression(self.engine.dialect.name, bucket).label("bucket")
        query = (
            select(expression, func.count())
            .select_from(_mentions(self.person_id))
            .where(entity_mentions.c.entity_id == entity_id)
            .group_by(expression)
            .order_by(expression)
        )
        with self.engine.connect() as conn:
            return [(str(b), int(n)) for b, n in conn.execute(query)]

    def co_mentions(self, entity_id: int, *, limit: int = 15) -> list[tuple[Entity, int]]:
        """The entities most often mentioned in the same entries, with how many entries."""
        with self.engine.connect() as conn:
            counts = _co_counts(conn, entity_id, limit, self.person_id)
            by_id = _entities_by_id(conn, [eid for eid, _ in counts], self.person_id)
        return [(by_id[eid], n) for eid, n in counts if eid in by_id]

    def co_mention_graph(
        self, entity_id: int, *, limit: int = 12
    ) -> tuple[list[Entity], list[tuple[int, int, int]]]:
        """The entity and its ``limit`` most co-mentioned entities (nodes, the entity first), and
        weighted edges (a, b, entries mentioning both, a < b) among them, counted over the
        entries that mention the entity (that the person sees)."""
        person = self.person_id
        with self.engine.connect() as conn:
            counts = _co_counts(conn, entity_id, limit, person)
            by_id = _entities_by_id(conn, [entity_id] + [eid for eid, _ in counts], person)
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
                query = (
                    select(a.c.entity_id, b.c.entity_id, func.count())
                    .select_from(
                        a.join(b, and_(a.c.entry_id == b.c.entry_id, a.c.entity_id < b.c.entity_id))
                    )
                    .where(
                        a.c.entry_id.in_(_own_entries(entity_id, person)),
                        a.c.entity_id.in_(others),
                        b.c.entity_id.in_(others),
                    )
                    .group_by(a.c.entity_id, b.c.entity_id)
                )
                edges += [(int(x), int(y), int(n)) for x, y, n in conn.execute(query)]
        edges.sort(key=lambda e: (-e[2], e[0], e[1]))
        return [by_id[i] for i in node_ids], edges

    def entity_story_ids(self, entity_id: int, *, limit: int = 50) -> list[int]:
        """Stories with an entry (the person sees) that mentions the entity, newest (last
        published) first."""
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
        if self.person_id is not None:
            query = query.where(entries.c.feed_id.in_(visible_feeds(self.person_id)))
        with self.engine.connect() as conn:
            return [int(i) for i in conn.execute(query).scalars()]

    def entities_for_entries(self, entry_ids: Iterable[int]) -> dict[int, list[Entity]]:
        """Each entry's entities, most mentioned in it first (every asked id is a key; an entry
        the person does not see has none)."""
        wanted = sorted(set(entry_ids))
        result: dict[int, list[Entity]] = {i: [] for i in wanted}
        query = (
            select(entity_mentions.c.entry_id, *_COLUMNS)
            .select_from(
                _mentions(self.person_id).join(
                    entities, entities.c.id == entity_mentions.c.entity_id
                )
            )
            .order_by(
                entity_mentions.c.entry_id,
                entity_mentions.c.count.desc(),
                entity_mentions.c.first_offset,
                entities.c.id,
            )
        )
        with self.engine.connect() as conn:
            for chunk in chunks(wanted):
                for row in conn.execute(query.where(entity_mentions.c.entry_id.in_(chunk))):
                    result[row.entry_id].append(_entity(row))
            if self.person_id is not None:
                listed = {e.id: e for found in result.values() for e in found}
                seen = {e.id: e for e in _seen(conn, list(listed.values()), self.person_id)}
                result = {
                    i: [seen[e.id] for e in found if e.id in seen] for i, found in result.items()
                }
        return result

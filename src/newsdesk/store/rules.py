"""A person's rules (``store.rules``, issue 16): when an entry matches a query (docs/query.md),
do some actions — ``block``, ``read``, ``star``, ``tag:NAME``, ``category:NAME``,
``alert:WATCHLIST`` — in the order of the rules' ``position``.

This part keeps the rules (each person's own: another person's rule is "no rule with id N"),
checks them when they are saved (the query parses, every action is known, the watchlist of an
``alert:`` exists), and carries the actions out on entries (``act``). Deciding which entries a
rule takes, and when, is ``newsdesk.rules``'s (at ingest, in the intel stage before alerts; or
on demand over the stored entries).

A blocked entry is hidden from the person (``entry_states.hidden``, read as well): every
person-facing query skips it (``store/visibility.py``), and the refresh never stores an entry
twice, so a refetch does not bring it back.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, insert, select, update

from newsdesk.errors import NewsdeskError
from newsdesk.process.sanitize import one_line
from newsdesk.store.alerts import AlertStore
from newsdesk.store.editing import category_title
from newsdesk.store.engine import write_transaction
from newsdesk.store.labels import clean_label
from newsdesk.store.protocols.alerts import NewAlert
from newsdesk.store.schema import (
    alerts,
    categories,
    entries,
    entry_filings,
    entry_labels,
    entry_states,
    rules,
    watchlists,
)
from newsdesk.store.visibility import sees_feed, upsert_states
from newsdesk.util import chunks, iso

if TYPE_CHECKING:
    from newsdesk.store.sql import SqlStore

# The actions a rule may take: a word alone, or a word and a name ("tag:NAME").
PLAIN_ACTIONS = ("block", "read", "star")
NAMED_ACTIONS = ("tag", "category", "alert")
MAX_NAME = 200
MAX_QUERY = 2000
MAX_ACTIONS = 20
_EDITABLE = frozenset({"name", "query", "actions", "enabled"})


class RuleNotFoundError(NewsdeskError):
    """No rule of the person has that id."""


@dataclass(frozen=True, slots=True)
class Rule:
    """A person's rule: when an entry matches ``query``, do ``actions``."""

    id: int
    user_id: int
    name: str
    query: str
    actions: tuple[str, ...]
    position: int
    enabled: bool
    matched: int  # entries it changed, ever
    created_at: datetime
    updated_at: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "query": self.query,
            "actions": list(self.actions),
            "position": self.position,
            "enabled": self.enabled,
            "matched": self.matched,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


@dataclass(slots=True)
class _Plan:
    """What a list of actions does, parsed once."""

    block: bool = False
    read: bool = False
    star: bool = False
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)


def _rule(row: Any) -> Rule:
    m = row._mapping
    return Rule(
        id=int(m["id"]),
        user_id=int(m["user_id"]),
        name=str(m["name"]),
        query=str(m["query"]),
        actions=tuple(str(a) for a in m["actions"] or ()),
        position=int(m["position"]),
        enabled=bool(m["enabled"]),
        matched=int(m["matched"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


# -- checking ---------------------------------------------------------------------------------


def check_name(raw: str) -> str:
    name = one_line(raw or "") or ""
    if not name:
        raise NewsdeskError("a rule needs a name")
    if len(name) > MAX_NAME:
        raise NewsdeskError(f"a rule's name has at most {MAX_NAME} characters")
    return name


def check_query(raw: str) -> str:
    """The query as stored: it must parse (``QueryError`` says where it does not) and say
    something (an empty query would take every entry)."""
    from newsdesk.query import parse

    query = (raw or "").strip()
    if len(query) > MAX_QUERY:
        raise NewsdeskError(f"a rule's query has at most {MAX_QUERY} characters")
    if parse(query).is_empty:
        raise NewsdeskError("a rule needs a query: which entries it acts on")
    return query


def check_action(raw: str) -> str:
    """One action as stored: ``block``, ``read``, ``star``, or ``tag:``/``category:``/
    ``alert:`` and a name."""
    text = (raw or "").strip()
    kind, colon, value = text.partition(":")
    kind = kind.strip().casefold()
    if not colon:
        if kind in PLAIN_ACTIONS:
            return kind
        if kind in NAMED_ACTIONS:
            raise NewsdeskError(f"the action {kind!r} needs a name: {kind}:NAME")
        raise NewsdeskError(f"unknown action {text[:60]!r}: {_KNOWN}")
    if kind in PLAIN_ACTIONS:
        raise NewsdeskError(f"the action {kind!r} takes no name")
    if kind == "tag":
        return f"tag:{clean_label(value)}"
    if kind == "category":
        return f"category:{category_title(value)}"
    if kind == "alert":
        name = " ".join(value.split())
        if not name:
            raise NewsdeskError("the action 'alert' needs a watchlist: alert:WATCHLIST")
        return f"alert:{name}"
    raise NewsdeskError(f"unknown action {text[:60]!r}: {_KNOWN}")


_KNOWN = "block, read, star, tag:NAME, category:NAME or alert:WATCHLIST"


def check_actions(actions: Iterable[str]) -> tuple[str, ...]:
    checked = tuple(dict.fromkeys(check_action(a) for a in actions))
    if not checked:
        raise NewsdeskError(f"a rule needs at least one action: {_KNOWN}")
    if len(checked) > MAX_ACTIONS:
        raise NewsdeskError(f"a rule has at most {MAX_ACTIONS} actions")
    return checked


def _watchlist_id(conn: Connection, person: int, name: str) -> int | None:
    """The person's watchlist of that name (exact, else ignoring case), or by id."""
    mine = select(watchlists.c.id, watchlists.c.name).where(watchlists.c.user_id == person)
    rows = conn.execute(mine.order_by(watchlists.c.id)).all()
    for wanted in (name, name.casefold()):
        for wid, wname in rows:
            if wname == wanted or str(wname).casefold() == wanted:
                return int(wid)
    if name.isdigit() and any(int(wid) == int(name) for wid, _ in rows):
        return int(name)
    return None


def _check_watchlists(conn: Connection, person: int, actions: Sequence[str]) -> None:
    for action in actions:
        if action.startswith("alert:"):
            name = action.partition(":")[2]
            if _watchlist_id(conn, person, name) is None:
                raise NewsdeskError(f"no watchlist {name!r} (see `newsdesk watch list`)")


def _plan(actions: Sequence[str]) -> _Plan:
    plan = _Plan()
    for action in actions:
        kind, _, value = action.partition(":")
        if kind == "block":
            plan.block = True
        elif kind == "read":
            plan.read = True
        elif kind == "star":
            plan.star = True
        elif kind == "tag":
            plan.tags.append(value)
        elif kind == "category":
            plan.categories.append(value)
        elif kind == "alert":
            plan.alerts.append(value)
    return plan


# -- the part ---------------------------------------------------------------------------------


class RuleStore:
    """A person's rules (``store.rules``), and carrying their actions out. On the system's
    store (the intel stage) ``enabled_rules`` gives every person's, and ``act``/``matching``
    take the person whose rule it is."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.engine = store.engine

    # -- a person's rules --

    def _mine(self) -> Any:
        return rules.c.user_id == self.store.require_person()

    def list(self) -> list[Rule]:
        """The person's rules, in the order they apply."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(rules).where(self._mine()).order_by(rules.c.position, rules.c.id)
            )
            return [_rule(r) for r in rows]

    def get(self, rule_id: int) -> Rule:
        with self.engine.connect() as conn:
            row = conn.execute(select(rules).where(rules.c.id == rule_id, self._mine())).first()
        if row is None:
            raise RuleNotFoundError(f"no rule with id {rule_id}")
        return _rule(row)

    def add(self, name: str, query: str, actions: Iterable[str], *, enabled: bool = True) -> Rule:
        """A new rule of the person's, after their others."""
        person = self.store.require_person()
        values: dict[str, Any] = {"query": check_query(query)}  # first: the name may be it
        values["name"] = check_name(name)
        values["actions"] = list(check_actions(actions))
        now = datetime.now(UTC)
        with write_transaction(self.engine) as conn:
            _check_watchlists(conn, person, values["actions"])
            last = conn.execute(
                select(func.max(rules.c.position)).where(rules.c.user_id == person)
            ).scalar()
            result = conn.execute(
                insert(rules).values(
                    user_id=person,
                    position=0 if last is None else int(last) + 1,
                    enabled=bool(enabled),
                    matched=0,
                    created_at=now,
                    updated_at=now,
                    **values,
                )
            )
            key = result.inserted_primary_key
        if key is None:
            raise NewsdeskError("the database did not return the new rule's id")
        return self.get(int(key[0]))

    def update(self, rule_id: int, **changes: Any) -> Rule:
        """Change some of ``name``, ``query``, ``actions``, ``enabled``, checked as when added."""
        unknown = sorted(set(changes) - _EDITABLE)
        if unknown:
            raise NewsdeskError(f"a rule has no field {unknown[0]!r} that can be changed")
        values: dict[str, Any] = {}
        if changes.get("name") is not None:
            values["name"] = check_name(changes["name"])
        if changes.get("query") is not None:
            values["query"] = check_query(changes["query"])
        if changes.get("actions") is not None:
            values["actions"] = list(check_actions(changes["actions"]))
        if changes.get("enabled") is not None:
            values["enabled"] = bool(changes["enabled"])
        person = self.store.require_person()
        with write_transaction(self.engine) as conn:
            if "actions" in values:
                _check_watchlists(conn, person, values["actions"])
            done = conn.execute(
                update(rules)
                .where(rules.c.id == rule_id, self._mine())
                .values(updated_at=datetime.now(UTC), **values)
            ).rowcount
        if not done:
            raise RuleNotFoundError(f"no rule with id {rule_id}")
        return self.get(rule_id)

    def remove(self, rule_id: int, *, unblock: bool = False) -> int:
        """Delete one of the person's rules; with ``unblock``, the entries it blocked are
        shown again (how many)."""
        with write_transaction(self.engine) as conn:
            done = conn.execute(delete(rules).where(rules.c.id == rule_id, self._mine())).rowcount
            if not done:
                raise RuleNotFoundError(f"no rule with id {rule_id}")
            return self._unblock(conn, rule_id) if unblock else 0

    def unblock(self, rule_id: int) -> int:
        """Show again the entries one of the person's rules blocked (they stay read); how
        many. The rule stays: turn it off first, or it blocks new matches again."""
        with write_transaction(self.engine) as conn:
            mine = select(rules.c.id).where(rules.c.id == rule_id, self._mine())
            if conn.execute(mine).first() is None:
                raise RuleNotFoundError(f"no rule with id {rule_id}")
            return self._unblock(conn, rule_id)

    def _unblock(self, conn: Connection, rule_id: int) -> int:
        return int(
            conn.execute(
                update(entry_states)
                .where(
                    entry_states.c.user_id == self.store.require_person(),
                    entry_states.c.hidden.is_(True),
                    entry_states.c.hidden_by == rule_id,
                )
                .values(hidden=False, hidden_by=None, changed_at=datetime.now(UTC))
            ).rowcount
            or 0
        )

    def reorder(self, ids: Sequence[int]) -> builtins.list[Rule]:
        """Put the person's rules in the order of ``ids`` (their other rules follow, in their
        order); an id that is not one of theirs is refused."""
        wanted = [int(i) for i in ids]
        if len(set(wanted)) != len(wanted):
            raise NewsdeskError("a rule appears twice in the new order")
        with write_transaction(self.engine) as conn:
            have = [
                int(i)
                for i in conn.execute(
                    select(rules.c.id).where(self._mine()).order_by(rules.c.position, rules.c.id)
                ).scalars()
            ]
            for rule_id in wanted:
                if rule_id not in have:
                    raise RuleNotFoundError(f"no rule with id {rule_id}")
            order = wanted + [i for i in have if i not in wanted]
            for position, rule_id in enumerate(order):
                conn.execute(update(rules).where(rules.c.id == rule_id).values(position=position))
        return self.list()

    # -- applying (the stage: every person's rules) --

    def enabled_rules(self) -> builtins.list[Rule]:
        """Every person's enabled rules (the person's alone on a person's store), by person
        then position: one query, cheap when there are none."""
        query = select(rules).where(rules.c.enabled.is_(True))
        person = self.store.person_id
        if person is not None:
            query = query.where(rules.c.user_id == person)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(rules.c.user_id, rules.c.position, rules.c.id))
            return [_rule(r) for r in rows]

    def matching(
        self, person_id: int, query: str, among: Sequence[int] | None = None
    ) -> builtins.list[int]:
        """The entries ``person_id`` sees (and has not blocked) that ``query`` matches, among
        ``among`` when given (the new entries at ingest), newest first."""
        view = self.store.as_person(person_id)
        return [int(i) for i in view.matching_ids(query, among=among)]

    def add_matched(self, rule_id: int, count: int) -> None:
        if count <= 0:
            return
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(rules).where(rules.c.id == rule_id).values(matched=rules.c.matched + count)
            )

    def act(
        self,
        person_id: int,
        actions: Sequence[str],
        ids: Sequence[int],
        rule_id: int | None = None,
    ) -> int:
        """Carry ``actions`` out for ``person_id`` on the entries ``ids`` they see; returns
        how many entries changed (an entry already read, starred, tagged… is not counted).
        The states, labels and filings are written in one transaction; alerts go through the
        alerts store (the usual delivery sends them)."""
        plan = _plan(actions)
        changed: set[int] = set()
        alerting: builtins.list[NewAlert] = []
        with write_transaction(self.engine) as conn:
            for chunk in chunks(sorted(set(ids))):
                seen = dict(
                    conn.execute(
                        select(entries.c.id, entries.c.feed_id).where(
                            entries.c.id.in_(chunk), sees_feed(person_id)
                        )
                    ).all()
                )
                if not seen:
                    continue
                changed |= _set_states(conn, person_id, plan, seen, rule_id)
                changed |= _label(conn, person_id, plan.tags, list(seen))
                changed |= _file(conn, person_id, plan.categories, list(seen))
                if plan.alerts:
                    alerting.extend(_alerts(conn, person_id, plan.alerts, list(seen)))
        if alerting:
            changed |= self._record_alerts(alerting)
        return len(changed)

    def _record_alerts(self, new: builtins.list[NewAlert]) -> set[int]:
        """Record the alerts through the alerts store (once per watchlist, entry and
        channel; the usual delivery sends them); the entries that got a new one."""
        before = self._alert_pairs(new)
        AlertStore(self.engine).record_alerts(new, datetime.now(UTC))
        return {entry_id for _, entry_id in self._alert_pairs(new) - before}

    def _alert_pairs(self, new: Sequence[NewAlert]) -> set[tuple[int, int]]:
        found: set[tuple[int, int]] = set()
        lists = sorted({a.watchlist_id for a in new})
        with self.engine.connect() as conn:
            for chunk in chunks(sorted({a.entry_id for a in new})):
                rows = conn.execute(
                    select(alerts.c.watchlist_id, alerts.c.entry_id).where(
                        alerts.c.watchlist_id.in_(lists), alerts.c.entry_id.in_(chunk)
                    )
                )
                found.update((int(w), int(e)) for w, e in rows)
        return found


def _alerts(
    conn: Connection, person: int, names: Sequence[str], ids: Sequence[int]
) -> list[NewAlert]:
    """The alerts of ``alert:`` actions: one per (watchlist, entry, channel)."""
    new: list[NewAlert] = []
    for name in names:
        wid = _watchlist_id(conn, person, name)
        if wid is None:
            continue  # the watchlist went away since the rule was saved
        channels = conn.execute(
            select(watchlists.c.channels).where(watchlists.c.id == wid)
        ).scalar()
        for entry_id in ids:
            new.extend(NewAlert(wid, entry_id, str(c)) for c in dict(channels or {}))
    return new


def _set_states(
    conn: Connection, person: int, plan: _Plan, seen: dict[int, int], rule_id: int | None
) -> set[int]:
    """block (hidden and read, and by which rule), read and star, on the entries not in that
    state yet."""
    if not (plan.block or plan.read or plan.star):
        return set()
    old = {
        int(r.entry_id): r
        for r in conn.execute(
            select(
                entry_states.c.entry_id,
                entry_states.c.read,
                entry_states.c.starred,
                entry_states.c.hidden,
                entry_states.c.hidden_by,
                entry_states.c.read_at,
                entry_states.c.starred_at,
            ).where(entry_states.c.user_id == person, entry_states.c.entry_id.in_(list(seen)))
        )
    }
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for entry_id, feed_id in seen.items():
        was = old.get(entry_id)
        read, starred, hidden = (
            (bool(was.read), bool(was.starred), bool(was.hidden)) if was else (False,) * 3
        )
        want_read = read or plan.read or plan.block
        want_star = starred or plan.star
        want_hidden = hidden or plan.block
        if (want_read, want_star, want_hidden) == (read, starred, hidden):
            continue
        rows.append(
            {
                "user_id": person,
                "entry_id": entry_id,
                "feed_id": feed_id,
                "read": want_read,
                "starred": want_star,
                "hidden": want_hidden,
                "hidden_by": (was.hidden_by if was and hidden else rule_id)
                if want_hidden
                else None,
                "read_at": (was.read_at if was and read else now) if want_read else None,
                "starred_at": (was.starred_at if was and starred else now) if want_star else None,
                "changed_at": now,
            }
        )
    if rows:
        conn.execute(upsert_states(conn.dialect.name, rows[0].keys()), rows)
    return {int(r["entry_id"]) for r in rows}


def _label(conn: Connection, person: int, tags: Sequence[str], ids: list[int]) -> set[int]:
    changed: set[int] = set()
    for tag in tags:
        have = set(
            conn.execute(
                select(entry_labels.c.entry_id).where(
                    entry_labels.c.user_id == person,
                    entry_labels.c.label == tag,
                    entry_labels.c.entry_id.in_(ids),
                )
            ).scalars()
        )
        new = [i for i in ids if i not in have]
        if new:
            conn.execute(
                insert(entry_labels),
                [{"user_id": person, "entry_id": i, "label": tag} for i in new],
            )
            changed.update(new)
    return changed


def _category_id(conn: Connection, person: int, title: str) -> int:
    """The person's category of that title, made if missing."""
    found = conn.execute(
        select(categories.c.id).where(categories.c.title == title, categories.c.user_id == person)
    ).scalar()
    if found is not None:
        return int(found)
    result = conn.execute(insert(categories).values(title=title, user_id=person))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def _file(conn: Connection, person: int, titles: Sequence[str], ids: list[int]) -> set[int]:
    changed: set[int] = set()
    for title in titles:
        category_id = _category_id(conn, person, title)
        have = set(
            conn.execute(
                select(entry_filings.c.entry_id).where(
                    entry_filings.c.user_id == person,
                    entry_filings.c.category_id == category_id,
                    entry_filings.c.entry_id.in_(ids),
                )
            ).scalars()
        )
        new = [i for i in ids if i not in have]
        if new:
            rows = [{"user_id": person, "entry_id": i, "category_id": category_id} for i in new]
            conn.execute(insert(entry_filings), rows)
            changed.update(new)
    return changed

"""Watchlists (saved queries that raise alerts) and the alerts they raised.

A watchlist names what to watch (search words, entity ids, category titles, feed ids; all given
criteria must hold) and where to say so (``channels``: webhook, e-mail, ntfy). Everything is
checked here, so the CLI, the web pages and the API share one set of rules and messages.
``WatchlistStore`` is the part ``SqlStore.watchlists``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from yarl import URL

from newsdesk.errors import NewsdeskError
from newsdesk.query import parse as parse_query
from newsdesk.store.engine import write_transaction
from newsdesk.store.entities import seen_entity_ids
from newsdesk.store.schema import (
    alerts,
    categories,
    category_shares,
    entries,
    feeds,
    watchlists,
)
from newsdesk.store.visibility import visible_feeds
from newsdesk.util import iso

MODES = ("instant", "hourly", "daily")
CHANNELS = ("webhook", "email", "ntfy")
ALERT_STATUSES = ("pending", "sending", "sent", "failed")
MASK = "********"  # what as_dict() shows instead of a secret or token
_NTFY_PRIORITIES = {"min": 1, "low": 2, "default": 3, "high": 4, "max": 5, "urgent": 5}
_EDITABLE = frozenset(
    {"name", "query", "entity_ids", "categories", "feed_ids", "channels", "mode", "enabled"}
)


class WatchlistNotFoundError(NewsdeskError):
    """No watchlist has the given id or name."""


@dataclass(frozen=True, slots=True)
class Watchlist:
    id: int
    name: str
    query: str
    entity_ids: tuple[int, ...]
    categories: tuple[str, ...]
    feed_ids: tuple[int, ...]
    channels: dict[str, dict[str, Any]]
    mode: str
    enabled: bool
    created_at: datetime
    last_digest_at: datetime | None = None
    user_id: int | None = None  # whose it is: it matches only the entries they see

    def as_dict(self, *, reveal_secrets: bool = False) -> dict[str, object]:
        """JSON-ready; the webhook secret and the ntfy token are masked unless asked for."""
        shown: dict[str, dict[str, Any]] = {}
        for kind, conf in self.channels.items():
            copy = dict(conf)
            for secret in ("secret", "token"):
                if copy.get(secret) and not reveal_secrets:
                    copy[secret] = MASK
            shown[kind] = copy
        return {
            "id": self.id,
            "name": self.name,
            "query": self.query,
            "entity_ids": list(self.entity_ids),
            "categories": list(self.categories),
            "feed_ids": list(self.feed_ids),
            "channels": shown,
            "mode": self.mode,
            "enabled": self.enabled,
            "created_at": iso(self.created_at),
            "last_digest_at": iso(self.last_digest_at),
        }


@dataclass(frozen=True, slots=True)
class AlertRecord:
    id: int
    watchlist_id: int
    watchlist_name: str
    entry_id: int
    entry_title: str | None
    entry_url: str | None
    channel: str
    status: str
    attempts: int
    error: str | None
    created_at: datetime
    sent_at: datetime | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "watchlist_id": self.watchlist_id,
            "watchlist": self.watchlist_name,
            "entry_id": self.entry_id,
            "entry_title": self.entry_title,
            "entry_url": self.entry_url,
            "channel": self.channel,
            "status": self.status,
            "attempts": self.attempts,
            "error": self.error,
            "created_at": iso(self.created_at),
            "sent_at": iso(self.sent_at),
        }


def watchlist_from_row(row: Any) -> Watchlist:
    m = row._mapping
    return Watchlist(
        id=int(m["id"]),
        name=str(m["name"]),
        query=str(m["query"] or ""),
        entity_ids=tuple(int(i) for i in m["entity_ids"] or ()),
        categories=tuple(str(c) for c in m["categories"] or ()),
        feed_ids=tuple(int(i) for i in m["feed_ids"] or ()),
        channels={str(k): dict(v) for k, v in (m["channels"] or {}).items()},
        mode=str(m["mode"]),
        enabled=bool(m["enabled"]),
        created_at=m["created_at"],
        last_digest_at=m["last_digest_at"],
        user_id=None if m["user_id"] is None else int(m["user_id"]),
    )


# -- validation -------------------------------------------------------------------------------


def _check_name(name: object) -> str:
    clean = " ".join(str(name or "").split())
    if not clean:
        raise NewsdeskError("a watchlist needs a name")
    if len(clean) > 200 or not clean.isprintable():
        raise NewsdeskError("a watchlist name is 1 to 200 printable characters")
    if clean.isdigit():
        # `watch remove 12` means the watchlist with id 12: a name of digits would be ambiguous.
        raise NewsdeskError("a watchlist name cannot be only digits")
    return clean


def _check_query(query: object) -> str:
    """The query, spaces tidied, once the query language reads it (``QueryError`` else)."""
    clean = " ".join(str(query or "").split())
    if clean and parse_query(clean).is_empty:
        raise NewsdeskError(f"the query {clean!r} has no words to search for")
    if len(clean) > 1000:
        raise NewsdeskError("a watchlist query is at most 1000 characters")
    return clean


def _check_mode(mode: object) -> str:
    if mode not in MODES:
        raise NewsdeskError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    return str(mode)


def _ints(values: Iterable[object], what: str) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)):
        values = [values]
    out: list[int] = []
    for value in values:
        if isinstance(value, bool):
            raise NewsdeskError(f"{what} ids are whole numbers, not {value!r}")
        try:
            number = int(str(value).strip()) if isinstance(value, str) else int(value)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise NewsdeskError(f"{what} ids are whole numbers, not {value!r}") from None
        if number not in out:
            out.append(number)
    return tuple(out)


def _check_http_url(value: object, what: str) -> str:
    text = str(value or "").strip()
    if not text:
        raise NewsdeskError(f"the {what} channel needs a URL")
    try:
        url = URL(text)
    except (ValueError, TypeError):
        raise NewsdeskError(f"the {what} URL {text!r} is not a URL") from None
    if url.scheme not in ("http", "https") or not url.raw_host:
        raise NewsdeskError(f"the {what} URL {text!r} must be an http:// or https:// URL")
    return text


def _check_priority(value: object) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.strip().lower() in _NTFY_PRIORITIES:
        return _NTFY_PRIORITIES[value.strip().lower()]
    try:
        number = int(str(value))
    except ValueError:
        number = 0
    if not 1 <= number <= 5:
        raise NewsdeskError(
            f"ntfy priority {value!r} is not 1-5 or one of min, low, default, high, max"
        )
    return number


def check_channels(
    channels: Mapping[str, Any], previous: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """The channels in stored form. A webhook given no secret keeps the one in ``previous``,
    else gets a random one (every delivery is signed); a masked secret or token (as
    ``as_dict`` shows it) keeps the one in ``previous``."""
    from newsdesk.process.addresses import check_address

    if not isinstance(channels, Mapping):
        raise NewsdeskError("channels must be an object such as {'webhook': {'url': …}}")
    unknown = sorted(set(channels) - set(CHANNELS))
    if unknown:
        raise NewsdeskError(f"unknown channel {unknown[0]!r}: channels are {', '.join(CHANNELS)}")
    previous = previous or {}
    out: dict[str, dict[str, Any]] = {}
    for kind in CHANNELS:
        conf = channels.get(kind)
        if conf is None:
            continue
        if not isinstance(conf, Mapping):
            raise NewsdeskError(f"the {kind} channel must be an object")
        old = previous.get(kind) or {}
        if kind == "webhook":
            secret = str(conf.get("secret") or "").strip()
            if secret == MASK or not secret:  # unchanged: rotating it would break receivers
                secret = str(old.get("secret") or "")
            if len(secret) > 500:
                raise NewsdeskError("a webhook secret is at most 500 characters")
            out[kind] = {
                "url": _check_http_url(conf.get("url"), "webhook"),
                "secret": secret or secrets.token_urlsafe(24),
            }
        elif kind == "ntfy":
            token = str(conf.get("token") or "").strip()
            if token == MASK:
                token = str(old.get("token") or "")
            if token and not token.isprintable():
                raise NewsdeskError("an ntfy token is printable characters only")
            ntfy: dict[str, Any] = {"url": _check_http_url(conf.get("url"), "ntfy")}
            if token:
                ntfy["token"] = token
            priority = _check_priority(conf.get("priority"))
            if priority is not None:
                ntfy["priority"] = priority
            tags = conf.get("tags") or []
            if isinstance(tags, str):
                tags = [t for t in tags.split(",")]
            clean_tags = [str(t).strip() for t in tags if str(t).strip()]
            if any(not t.isascii() or "," in t for t in clean_tags):
                raise NewsdeskError("ntfy tags are ASCII words, e.g. newspaper")
            if clean_tags:
                ntfy["tags"] = clean_tags
            out[kind] = ntfy
        else:
            to = conf.get("to")
            if isinstance(to, str):
                to = [to]
            if not to:
                raise NewsdeskError("the e-mail channel needs at least one address")
            addresses: list[str] = []
            for address in to:
                checked = check_address(str(address))
                if checked not in addresses:
                    addresses.append(checked)
            out[kind] = {"to": addresses}
    if not out:
        raise NewsdeskError("a watchlist needs at least one channel: webhook, e-mail or ntfy")
    return out


def _check_entities(conn: Connection, ids: tuple[int, ...], person: int | None) -> None:
    """Entities that exist for the person (one only others' entries mention is "no entity")."""
    if not ids:
        return
    found = seen_entity_ids(conn, ids, person)
    missing = [i for i in ids if i not in found]
    if missing:
        raise NewsdeskError(f"no entity with id {missing[0]} (see `newsdesk entities`)")


def _check_feeds(conn: Connection, ids: tuple[int, ...], person: int | None) -> None:
    """Feeds that exist and the person sees (one they do not see is "no feed")."""
    if not ids:
        return
    query = select(feeds.c.id).where(feeds.c.id.in_(ids))
    if person is not None:
        query = query.where(feeds.c.id.in_(visible_feeds(person)))
    found = set(conn.execute(query).scalars())
    missing = [i for i in ids if i not in found]
    if missing:
        raise NewsdeskError(f"no feed with id {missing[0]} (see `newsdesk feeds`)")


def _check_categories(
    conn: Connection, values: Iterable[object], person: int | None
) -> tuple[str, ...]:
    """Category titles; one the person has (their own or shared with them) under another case
    takes its spelling. A person names only categories they have ("no category" otherwise,
    as for a feed they do not see)."""
    if isinstance(values, str):
        values = [values]
    query = select(categories.c.title)
    if person is not None:
        shared = select(category_shares.c.category_id).where(category_shares.c.user_id == person)
        query = query.where(or_(categories.c.user_id == person, categories.c.id.in_(shared)))
    known = {t.casefold(): t for t in conn.execute(query).scalars()}
    out: list[str] = []
    for value in values:
        title = " ".join(str(value or "").split())
        if not title:
            raise NewsdeskError("a category name cannot be empty")
        if person is not None and title.casefold() not in known:
            raise NewsdeskError(f"no category named {title[:100]!r} (see `newsdesk feeds`)")
        title = known.get(title.casefold(), title)
        if title not in out:
            out.append(title)
    return tuple(out)


def _criteria_given(
    query: str, entity_ids: tuple[int, ...], cats: tuple[str, ...], feed_ids: tuple[int, ...]
) -> None:
    if not (query or entity_ids or cats or feed_ids):
        raise NewsdeskError(
            "a watchlist needs something to watch: words (query), entities, categories or feeds"
        )


# -- CRUD -------------------------------------------------------------------------------------


def _ref_where(ref: int | str) -> Any:
    if isinstance(ref, int):
        return watchlists.c.id == ref
    text = " ".join(str(ref).split())
    if text.isdigit() and len(text) < 18:
        return watchlists.c.id == int(text)
    return watchlists.c.name == text


class WatchlistStore:
    """Watchlists and the alerts they raised (``store.watchlists``), those of the store's
    person (issue 15): made for them, and another's is "no watchlist" (None: every one)."""

    def __init__(self, engine: Engine, person_id: int | None = None) -> None:
        self._engine = engine
        self._person = person_id

    def _mine(self) -> Any:
        if self._person is None:
            return literal(True)
        return watchlists.c.user_id == self._person

    def create_watchlist(
        self,
        *,
        name: str,
        query: str = "",
        entity_ids: Iterable[int] = (),
        categories: Iterable[str] = (),
        feed_ids: Iterable[int] = (),
        channels: Mapping[str, Any],
        mode: str = "instant",
        enabled: bool = True,
        now: datetime | None = None,
    ) -> Watchlist:
        """Check everything and store a new watchlist; only entries first seen from now on alert."""
        clean_name = _check_name(name)
        clean_query = _check_query(query)
        clean_mode = _check_mode(mode)
        ent = _ints(entity_ids, "entity")
        fids = _ints(feed_ids, "feed")
        chans = check_channels(channels)
        created = now or datetime.now(UTC)
        try:
            with write_transaction(self._engine) as conn:
                _check_entities(conn, ent, self._person)
                _check_feeds(conn, fids, self._person)
                cats = _check_categories(conn, categories, self._person)
                _criteria_given(clean_query, ent, cats, fids)
                result = conn.execute(
                    insert(watchlists).values(
                        user_id=self._person,
                        name=clean_name,
                        query=clean_query,
                        entity_ids=list(ent),
                        categories=list(cats),
                        feed_ids=list(fids),
                        channels=chans,
                        mode=clean_mode,
                        enabled=bool(enabled),
                        created_at=created,
                    )
                )
                key = result.inserted_primary_key
        except IntegrityError:
            raise NewsdeskError(f"there is already a watchlist named {clean_name!r}") from None
        if key is None:
            raise NewsdeskError("the database did not return the new watchlist's id")
        return Watchlist(
            id=int(key[0]),
            name=clean_name,
            query=clean_query,
            entity_ids=ent,
            categories=cats,
            feed_ids=fids,
            channels=chans,
            mode=clean_mode,
            enabled=bool(enabled),
            created_at=created,
            user_id=self._person,
        )

    def get_watchlist(self, ref: int | str) -> Watchlist | None:
        """By id (an int or a string of digits) or by name (exact, else ignoring case)."""
        with self._engine.connect() as conn:
            mine = select(watchlists).where(self._mine())
            row = conn.execute(mine.where(_ref_where(ref))).first()
            if row is None and isinstance(ref, str) and not ref.strip().isdigit():
                wanted = " ".join(ref.split()).casefold()
                for candidate in conn.execute(mine.order_by(watchlists.c.id)):
                    if str(candidate.name).casefold() == wanted:
                        row = candidate
                        break
        return watchlist_from_row(row) if row is not None else None

    def require_watchlist(self, ref: int | str) -> Watchlist:
        found = self.get_watchlist(ref)
        if found is None:
            raise WatchlistNotFoundError(f"no watchlist {ref!r} (see `newsdesk watch list`)")
        return found

    def list_watchlists(self) -> list[Watchlist]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(watchlists).where(self._mine()).order_by(watchlists.c.name, watchlists.c.id)
            )
            return [watchlist_from_row(r) for r in rows]

    def update_watchlist(self, watchlist_id: int, **changes: Any) -> Watchlist:
        """Change some fields (name, query, entity_ids, categories, feed_ids, channels, mode,
        enabled), checked as on creation."""
        unknown = sorted(set(changes) - _EDITABLE)
        if unknown:
            raise NewsdeskError(f"a watchlist has no field {unknown[0]!r} that can be changed")
        try:
            with write_transaction(self._engine) as conn:
                row = conn.execute(
                    select(watchlists).where(watchlists.c.id == watchlist_id, self._mine())
                ).first()
                if row is None:
                    raise WatchlistNotFoundError(f"no watchlist with id {watchlist_id}")
                current = watchlist_from_row(row)
                values: dict[str, Any] = {}
                if "name" in changes:
                    values["name"] = _check_name(changes["name"])
                if "query" in changes:
                    values["query"] = _check_query(changes["query"])
                if "mode" in changes:
                    values["mode"] = _check_mode(changes["mode"])
                if "enabled" in changes:
                    values["enabled"] = bool(changes["enabled"])
                if "entity_ids" in changes:
                    ent = _ints(changes["entity_ids"] or (), "entity")
                    _check_entities(conn, ent, self._person)
                    values["entity_ids"] = list(ent)
                if "feed_ids" in changes:
                    fids = _ints(changes["feed_ids"] or (), "feed")
                    _check_feeds(conn, fids, self._person)
                    values["feed_ids"] = list(fids)
                if "categories" in changes:
                    values["categories"] = list(
                        _check_categories(conn, changes["categories"] or (), self._person)
                    )
                if "channels" in changes:
                    values["channels"] = check_channels(changes["channels"], current.channels)
                _criteria_given(
                    values.get("query", current.query),
                    tuple(values.get("entity_ids", current.entity_ids)),
                    tuple(values.get("categories", current.categories)),
                    tuple(values.get("feed_ids", current.feed_ids)),
                )
                if values:
                    conn.execute(
                        update(watchlists).where(watchlists.c.id == watchlist_id).values(**values)
                    )
                row = conn.execute(select(watchlists).where(watchlists.c.id == watchlist_id)).one()
        except IntegrityError:
            raise NewsdeskError(
                f"there is already a watchlist named {changes.get('name')!r}"
            ) from None
        return watchlist_from_row(row)

    def delete_watchlist(self, watchlist_id: int) -> bool:
        """Delete it and its alerts; False when there was none (of this person's)."""
        with write_transaction(self._engine) as conn:
            owned = conn.execute(
                select(watchlists.c.id).where(watchlists.c.id == watchlist_id, self._mine())
            ).first()
            if owned is None:
                return False
            conn.execute(delete(alerts).where(alerts.c.watchlist_id == watchlist_id))
            deleted = conn.execute(delete(watchlists).where(watchlists.c.id == watchlist_id))
            return bool(deleted.rowcount)

    def list_alerts(
        self,
        *,
        watchlist_id: int | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AlertRecord]:
        """Newest first, with the watchlist's name and the entry's title and URL."""
        if status is not None and status not in ALERT_STATUSES:
            raise NewsdeskError(
                f"alert status {status!r} is not one of {', '.join(ALERT_STATUSES)}"
            )
        stmt = (
            select(
                alerts,
                watchlists.c.name.label("watchlist_name"),
                entries.c.title.label("entry_title"),
                entries.c.url.label("entry_url"),
            )
            .select_from(
                alerts.join(watchlists, watchlists.c.id == alerts.c.watchlist_id).join(
                    entries, entries.c.id == alerts.c.entry_id
                )
            )
            .where(self._mine())
            .order_by(alerts.c.created_at.desc(), alerts.c.id.desc())
            .limit(max(0, limit))
            .offset(max(0, offset))
        )
        if watchlist_id is not None:
            stmt = stmt.where(alerts.c.watchlist_id == watchlist_id)
        if status is not None:
            stmt = stmt.where(alerts.c.status == status)
        with self._engine.connect() as conn:
            return [
                AlertRecord(
                    id=int(r.id),
                    watchlist_id=int(r.watchlist_id),
                    watchlist_name=str(r.watchlist_name),
                    entry_id=int(r.entry_id),
                    entry_title=r.entry_title,
                    entry_url=r.entry_url,
                    channel=str(r.channel),
                    status=str(r.status),
                    attempts=int(r.attempts),
                    error=r.error,
                    created_at=r.created_at,
                    sent_at=r.sent_at,
                )
                for r in conn.execute(stmt)
            ]

    def alert_counts(self, watchlist_id: int | None = None) -> dict[str, int]:
        """Alerts per status (every status present, zero when none)."""
        stmt = (
            select(alerts.c.status, func.count())
            .select_from(alerts.join(watchlists, watchlists.c.id == alerts.c.watchlist_id))
            .where(self._mine())
            .group_by(alerts.c.status)
        )
        if watchlist_id is not None:
            stmt = stmt.where(alerts.c.watchlist_id == watchlist_id)
        counts = dict.fromkeys(ALERT_STATUSES, 0)
        with self._engine.connect() as conn:
            for status, count in conn.execute(stmt):
                counts[str(status)] = int(count)
        return counts

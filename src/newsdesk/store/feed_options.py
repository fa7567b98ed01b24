"""Per-feed control (issue 16): how one feed is fetched and enriched.

- What is not secret (``model.FeedOptions``: user agent, full text on/off, an extraction rule,
  ignoring the server's cache hints, unwrapping redirect links) is kept as JSON in
  ``feeds.fetch_options``; the refresh interval in ``feeds.check_interval``, as before.
- What is secret (``FeedSecrets``: a cookie, extra headers, Basic credentials) is kept sealed
  under the server key (``store.sealing``) in ``feeds.fetch_secret``, and never shown back: the
  options only name the secrets that are set (``FeedOptions.sealed``), and the faces say "set".
- A feed is fetched once for all its followers, so its options are everyone's: an admin, or its
  only follower, may change them. Secrets make a feed private: setting one on a feed that others
  follow too moves the person's subscription to their own copy of the URL (``feeds.owner_key``
  = their id), fetched with their secrets, which nobody else follows; on a feed they alone
  follow, the feed itself becomes theirs.

``FeedOptionStore`` is the store's ``feed_options`` part; ``check_changes`` validates what a face
asks for (every face: CLI, pages, APIs), ``request_headers`` is what a fetch sends.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select, update

import newsdesk.store.sealing as sealing
from newsdesk.errors import NewsdeskError
from newsdesk.model import SECRET_NAMES, Feed, FeedOptions
from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import feeds, subscriptions, users

if TYPE_CHECKING:
    from newsdesk.store.sql import SqlStore

_LOG = logging.getLogger(__name__)
OPTION_NAMES = (
    "user_agent",
    "fulltext",
    "extract_body",
    "extract_drop",
    "ignore_cache_hints",
    "unwrap_redirects",
)
CHANGE_NAMES = (*OPTION_NAMES, *SECRET_NAMES, "interval")
_PURPOSE = "feed-secret"
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# Headers a feed may not set: the client's own, or ones that would change the request's framing.
_RESERVED = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "upgrade",
        "te",
        "trailer",
        "accept-encoding",
        "if-none-match",
        "if-modified-since",
        "user-agent",
        "cookie",
        "authorization",
    }
)
MAX_HEADERS = 20
MAX_TEXT = 4096
MAX_INTERVAL = 30 * 86400
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_INTERVAL = re.compile(r"^\s*(\d{1,9})\s*(s|m|min|h|d)?\s*$", re.I)


class FeedOptionError(NewsdeskError):
    """A per-feed option that cannot be used, or a change the person may not make."""


@dataclass(frozen=True, slots=True)
class FeedSecrets:
    """What a feed is fetched with that must not be shown: a cookie, extra headers, Basic
    credentials."""

    cookie: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    username: str | None = None
    password: str | None = None

    def names(self) -> tuple[str, ...]:
        return tuple(name for name in SECRET_NAMES if getattr(self, name))


NO_SECRETS = FeedSecrets()


# -- checking what a face asks for ---------------------------------------------------------------


def parse_interval(value: Any) -> int | None:
    """Seconds between checks from ``90``, ``90s``, ``30m``, ``2h``, ``1d`` (a bare number is
    seconds); 0, "" or None go back to the adaptive schedule (None)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise FeedOptionError("interval: a number of seconds, or 30m, 2h, 1d")
    if isinstance(value, int):
        seconds = value
    else:
        found = _INTERVAL.match(str(value))
        if not found:
            raise FeedOptionError(f"interval: {value!r} is not 90, 90s, 30m, 2h or 1d")
        seconds = int(found.group(1)) * _UNITS[(found.group(2) or "s").lower()]
    if seconds < 0 or seconds > MAX_INTERVAL:
        raise FeedOptionError(f"interval: between 0 and {MAX_INTERVAL // 86400} days")
    return seconds or None


def _text(name: str, value: Any, *, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FeedOptionError(f"{name}: a text is expected")
    value = value.strip()
    if _CONTROL.search(value):
        raise FeedOptionError(f"{name}: no line breaks or control characters")
    if len(value) > limit:
        raise FeedOptionError(f"{name}: at most {limit} characters")
    return value or None


def _flag(name: str, value: Any, *, tri: bool = False) -> bool | None:
    if value is None and tri:
        return None
    if isinstance(value, bool):
        return value
    raise FeedOptionError(f"{name}: true or false" + (" (or null: the setting)" if tri else ""))


def _selector(name: str, value: Any) -> str | None:
    from newsdesk.process.extract_rules import ExtractRuleError, css_to_xpath

    css = _text(name, value, limit=1000)
    if css is not None:
        try:
            css_to_xpath(css)
        except ExtractRuleError as exc:
            raise FeedOptionError(f"{name}: {exc}") from None
    return css


def _list(name: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return list(value)
    raise FeedOptionError(f"{name}: a list is expected")


def parse_header(line: Any) -> tuple[str, str]:
    """``"Name: value"`` (or a pair) as a checked header."""
    if isinstance(line, list | tuple) and len(line) == 2:
        name, value = str(line[0]), str(line[1])
    elif isinstance(line, str) and ":" in line:
        name, _, value = line.partition(":")
    else:
        raise FeedOptionError(f"headers: {line!r} is not 'Name: value'")
    name, value = name.strip(), value.strip()
    if not _TOKEN.match(name):
        raise FeedOptionError(f"headers: {name!r} is not a header name")
    if name.lower() in _RESERVED:
        raise FeedOptionError(
            f"headers: {name} cannot be set this way"
            + (" (use its own option)" if name.lower() in ("user-agent", "cookie") else "")
        )
    if _CONTROL.search(value) or len(value) > MAX_TEXT:
        raise FeedOptionError(f"headers: the value of {name} is too long or holds line breaks")
    return name, value


def _headers(value: Any) -> tuple[tuple[str, str], ...]:
    items = list(value.items()) if isinstance(value, Mapping) else _list("headers", value)
    found = tuple(parse_header(item) for item in items if item not in ("", None))
    if len(found) > MAX_HEADERS:
        raise FeedOptionError(f"headers: at most {MAX_HEADERS}")
    return found


def check_changes(raw: Mapping[str, Any]) -> dict[str, Any]:
    """What a face asks to change, checked and normalised: only the names given change; None,
    "" or [] clears an option. Raises ``FeedOptionError`` saying which option and why."""
    unknown = sorted(set(raw) - set(CHANGE_NAMES))
    if unknown:
        raise FeedOptionError(f"unknown feed options {unknown} (known: {', '.join(CHANGE_NAMES)})")
    checked: dict[str, Any] = {}
    for name, value in raw.items():
        if name in ("user_agent", "cookie", "username"):
            checked[name] = _text(name, value, limit=500 if name == "user_agent" else MAX_TEXT)
            if name == "username" and checked[name] and ":" in checked[name]:
                raise FeedOptionError("username: no ':' in a Basic user name")
        elif name == "password":
            if value is not None and not isinstance(value, str):
                raise FeedOptionError("password: a text is expected")
            if value and (_CONTROL.search(value) or len(value) > MAX_TEXT):
                raise FeedOptionError("password: no line breaks, at most 4096 characters")
            checked[name] = value or None
        elif name == "headers":
            checked[name] = _headers(value)
        elif name == "fulltext":
            checked[name] = _flag(name, value, tri=True)
        elif name in ("ignore_cache_hints", "unwrap_redirects"):
            checked[name] = bool(_flag(name, False if value is None else value))
        elif name == "extract_body":
            checked[name] = _selector(name, value)
        elif name == "extract_drop":
            drops = tuple(d for d in (_selector(name, v) for v in _list(name, value)) if d)
            checked[name] = drops
        else:  # interval
            checked[name] = parse_interval(value)
    return checked


def holds_secret(changes: Mapping[str, Any]) -> bool:
    """Whether ``changes`` set a secret (clearing one is not setting it)."""
    return any(changes.get(name) for name in SECRET_NAMES)


# -- stored forms ---------------------------------------------------------------------------------


def options_from_json(data: Any) -> FeedOptions:
    """The options a ``fetch_options`` value holds (defaults for what it lacks)."""
    if not isinstance(data, dict):
        return FeedOptions()
    fulltext = data.get("fulltext")
    return FeedOptions(
        user_agent=data.get("user_agent") or None,
        fulltext=fulltext if isinstance(fulltext, bool) else None,
        extract_body=data.get("extract_body") or None,
        extract_drop=tuple(str(d) for d in data.get("extract_drop") or ()),
        ignore_cache_hints=bool(data.get("ignore_cache_hints")),
        unwrap_redirects=bool(data.get("unwrap_redirects")),
        sealed=tuple(n for n in data.get("sealed") or () if n in SECRET_NAMES),
    )


def options_json(options: FeedOptions) -> dict[str, Any] | None:
    """``fetch_options`` for these options: only what differs from the defaults (None if all)."""
    data: dict[str, Any] = {}
    for name in (*OPTION_NAMES, "sealed"):
        value = getattr(options, name)
        if value is not None and (name == "fulltext" or value not in (False, ())):
            data[name] = list(value) if isinstance(value, tuple) else value
    return data or None


def seal_secrets(server_key: bytes, found: FeedSecrets) -> str | None:
    if not found.names():
        return None
    data = {
        "cookie": found.cookie,
        "headers": [list(h) for h in found.headers],
        "username": found.username,
        "password": found.password,
    }
    return sealing.seal(server_key, json.dumps(data).encode(), _PURPOSE)


def unseal_secrets(server_key: bytes, sealed: str | None) -> FeedSecrets:
    if not sealed:
        return NO_SECRETS
    data = json.loads(sealing.unseal(server_key, sealed, _PURPOSE, "a feed's secrets"))
    return FeedSecrets(
        cookie=data.get("cookie"),
        headers=tuple((str(k), str(v)) for k, v in data.get("headers") or ()),
        username=data.get("username"),
        password=data.get("password"),
    )


def request_headers(options: FeedOptions, found: FeedSecrets) -> dict[str, str]:
    """The headers a fetch of the feed adds to the client's own."""
    headers = dict(found.headers)
    if options.user_agent:
        headers["User-Agent"] = options.user_agent
    if found.cookie:
        headers["Cookie"] = found.cookie
    if found.username:
        pair = f"{found.username}:{found.password or ''}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    return headers


class FetchKeys:
    """The headers of each feed a refresh fetches: the server key is read once, and only when
    some feed holds secrets."""

    def __init__(self, key: Any) -> None:
        self._key_source = key  # a callable giving the server key
        self._key: bytes | None = None

    def headers(self, feed: Feed) -> dict[str, str] | None:
        found = NO_SECRETS
        if feed.secret:
            try:
                if self._key is None:
                    self._key = self._key_source()
                found = unseal_secrets(self._key, feed.secret)
            except NewsdeskError as exc:  # fetched without them: its error will say why
                _LOG.warning("feed %s is fetched without its secrets: %s", feed.id, exc)
        return request_headers(feed.options, found) or None


def merged(
    options: FeedOptions, found: FeedSecrets, changes: Mapping[str, Any]
) -> tuple[FeedOptions, FeedSecrets]:
    """``options`` and ``found`` with ``changes`` (checked) applied."""
    option_changes = {k: v for k, v in changes.items() if k in OPTION_NAMES}
    secret_changes = {k: v for k, v in changes.items() if k in SECRET_NAMES}
    if secret_changes:
        found = replace(found, **secret_changes)
        option_changes["sealed"] = found.names()
    options = replace(options, **option_changes)
    return options, found


# -- the store's part ---------------------------------------------------------------------------


class FeedOptionStore:
    """``store.feed_options``: a person changes how a feed they follow is fetched."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.engine = store.engine

    def change(self, feed_id: int, changes: Mapping[str, Any], *, server_key: bytes) -> Feed:
        """Apply checked ``changes`` (``check_changes``) to a feed the person follows: returns
        the feed as they now see it, whose id differs when the change made them a private
        copy. Raises ``FeedOptionError`` when the person may not change a shared feed's
        options, ``FeedNotFoundError`` when they do not follow it."""
        person = self.store.require_person()
        with write_transaction(self.engine) as conn:
            subscription = self.store._subscription(conn, feed_id, manage=True)
            row: Any = conn.execute(
                select(feeds.c.owner_key, feeds.c.fetch_options, feeds.c.fetch_secret).where(
                    feeds.c.id == feed_id
                )
            ).one()
            owner_key = int(row.owner_key or 0)
            if owner_key not in (0, person):
                raise FeedOptionError(
                    f"feed {feed_id} is another person's private feed: only they can change "
                    "how it is fetched"
                )
            target = feed_id
            if owner_key == 0:
                target = self._public(conn, feed_id, subscription, person, changes)
            if target != feed_id:
                row = conn.execute(
                    select(feeds.c.fetch_options, feeds.c.fetch_secret).where(feeds.c.id == target)
                ).one()
            self._write(conn, target, row, changes, server_key)
        return self.store.get_feed(target)

    def _public(
        self,
        conn: Connection,
        feed_id: int,
        subscription: int,
        person: int,
        changes: Mapping[str, Any],
    ) -> int:
        """Where a change of a public feed goes: the feed itself (an admin's or its only
        follower's change), or, for secrets on a feed others follow, the person's private
        copy."""
        followers = conn.execute(
            select(func.count()).where(subscriptions.c.feed_id == feed_id)
        ).scalar_one()
        alone = followers <= 1
        if holds_secret(changes):
            mine = conn.execute(
                select(subscriptions.c.user_id).where(subscriptions.c.id == subscription)
            ).scalar()
            if mine != person:  # a feed seen through a shared category: its owner's
                raise FeedOptionError(
                    "a cookie, headers or credentials go only on a feed you follow yourself"
                )
            if alone:
                conn.execute(update(feeds).where(feeds.c.id == feed_id).values(owner_key=person))
                return feed_id
            return self._private_copy(conn, feed_id, subscription, person)
        role = conn.execute(select(users.c.role).where(users.c.id == person)).scalar()
        if not alone and role != "admin":
            raise FeedOptionError(
                "others follow this feed too: only an admin can change how it is fetched "
                "(a cookie, headers or credentials make your own private copy)"
            )
        return feed_id

    @staticmethod
    def _private_copy(conn: Connection, feed_id: int, subscription: int, person: int) -> int:
        """The person's private copy of a public feed (made with its options, first fetched at
        the next refresh); their subscription moves to it."""
        source = conn.execute(select(feeds).where(feeds.c.id == feed_id)).one()._mapping
        existing = conn.execute(
            select(feeds.c.id).where(feeds.c.url == source["url"], feeds.c.owner_key == person)
        ).scalar()
        if existing is not None:
            raise FeedOptionError(f"you already follow a private copy of {source['url']}")
        copied = {
            "url": source["url"],
            "title": source["title"],
            "site_url": source["site_url"],
            "check_interval": source["check_interval"],
            "fetch_options": source["fetch_options"],
            "owner_key": person,
            "created_at": datetime.now(UTC),
            "error_count": 0,
            "paused": False,
            "pending_count": 0,
        }
        made: Any = conn.execute(feeds.insert().values(**copied)).inserted_primary_key
        new_id = int(made[0])
        conn.execute(
            update(subscriptions).where(subscriptions.c.id == subscription).values(feed_id=new_id)
        )
        return new_id

    @staticmethod
    def _write(
        conn: Connection,
        feed_id: int,
        row: Any,
        changes: Mapping[str, Any],
        server_key: bytes,
    ) -> None:
        options = options_from_json(row.fetch_options)
        touches_secrets = any(name in changes for name in SECRET_NAMES)
        found = unseal_secrets(server_key, row.fetch_secret) if touches_secrets else NO_SECRETS
        options, found = merged(options, found, changes)
        values: dict[str, Any] = {"fetch_options": options_json(options)}
        if touches_secrets:
            values["fetch_secret"] = seal_secrets(server_key, found)
        if "interval" in changes:
            values["check_interval"] = changes["interval"]
        # Asked again soon with what changed (and without validators another header earned).
        values.update(next_check=None, etag=None, last_modified=None)
        conn.execute(update(feeds).where(feeds.c.id == feed_id).values(**values))

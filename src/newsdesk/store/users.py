"""The desk's people (issue 15: roles, last login), login sessions and server secrets.

``UserStore`` is the store's ``users`` part (``store.users``). Passwords are stored as argon2
hashes. Fever is off until the user turns it on (with the password): its API key (md5 of
``username:password``, as Fever defines it) is then stored only as an HMAC under the server key,
which lives outside the database (``newsdesk.store.server_key``). Session cookies are random
tokens of which only the sha256 is stored. So a copy of the database does not let anyone log in.

A person's reading habits (issue 16) live in ``users.preferences`` (JSON, shared with the
two-factor step counter): ``Preferences`` names each one with its default, ``User.preferences``
carries them, and ``set_preferences`` changes some of them without touching the rest.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, delete, insert, select, update

from newsdesk.errors import NewsdeskError
from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import users, web_secrets, web_sessions
from newsdesk.store.server_key import keyed

DEFAULT_USERNAME = "admin"
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a wrong name costs as long as a wrong
    password. Made on first use: hashing takes 0.1 s and 64 MiB, which a refresh never needs."""
    return _hasher.hash("newsdesk-no-such-user")


ROLES = ("admin", "member")


@dataclass(frozen=True, slots=True)
class Preferences:
    """A person's reading habits, each with its default (what a person who never chose has).

    - ``mark_read_on_scroll``: in the river, an entry scrolled past (out the top of the window)
      is marked read.
    - ``mark_read_on_open``: opening an entry's page marks it read (Miniflux's
      ``mark_read_on_view``).
    """

    mark_read_on_scroll: bool = False
    mark_read_on_open: bool = True

    @classmethod
    def from_json(cls, raw: object) -> Preferences:
        """The preferences stored in ``users.preferences``; a value missing or not a bool
        (an older row, another key's value) is the default."""
        stored = raw if isinstance(raw, dict) else {}
        names = [f.name for f in fields(cls)]
        return cls(**{n: stored[n] for n in names if isinstance(stored.get(n), bool)})

    def as_dict(self) -> dict[str, bool]:
        return {f.name: bool(getattr(self, f.name)) for f in fields(self)}

    def changed(self, changes: Mapping[str, object]) -> Preferences:
        """These preferences with ``changes`` (names and bools) applied; an unknown name or a
        value that is not a bool is a ``NewsdeskError`` naming it."""
        known = [f.name for f in fields(self)]
        for name, value in changes.items():
            if name not in known:
                raise NewsdeskError(f"no preference named {name!r} (there are: {', '.join(known)})")
            if not isinstance(value, bool):
                raise NewsdeskError(f"the preference {name} is true or false, not {value!r}")
        return replace(self, **dict(changes))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    created_at: datetime
    fever: bool = False  # the Fever API is turned on for this user
    role: str = "member"  # "admin" manages people and settings
    last_login_at: datetime | None = None
    two_factor: bool = False  # a TOTP login code is asked for at web login
    has_password: bool = True
    preferences: Preferences = field(default_factory=Preferences)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.username,
            "role": self.role,
            "created": self.created_at.isoformat(),
            "last_login": self.last_login_at.isoformat() if self.last_login_at else None,
            "two_factor": self.two_factor,
            "fever": self.fever,
        }


def fever_key(username: str, password: str) -> str:
    """Fever's ``api_key``: what a Fever client computes from the name and password typed in."""
    return hashlib.md5(f"{username}:{password}".encode()).hexdigest()


def fever_verifier(key: bytes, api_key: str) -> str:
    return keyed(key, "fever", api_key.strip().lower())


def _user(row: object) -> User:
    m = row._mapping  # type: ignore[attr-defined]
    return User(
        id=int(m["id"]),
        username=str(m["username"]),
        created_at=m["created_at"],
        fever=m["fever_verifier"] is not None,
        role=str(m["role"] or "member"),
        last_login_at=m["last_login_at"],
        two_factor=m["totp_secret"] is not None,
        has_password=bool(m["password_hash"]),
        preferences=Preferences.from_json(m["preferences"]),
    )


def check_role(role: str) -> str:
    if role not in ROLES:
        raise NewsdeskError(f"a role is one of {', '.join(ROLES)}, not {role!r}")
    return role


def _check_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 150 or any(c.isspace() or not c.isprintable() for c in name):
        raise NewsdeskError("a user name is 1 to 150 printable characters without spaces")
    return name


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise NewsdeskError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise NewsdeskError("the password must be at most 1024 characters")


# -- sessions -------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- secrets --------------------------------------------------------------------------------


class UserStore:
    """The user, its login sessions and the server secrets (``store.users``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add_user(self, username: str, password: str, role: str = "member") -> User:
        """A new person, with their password."""
        name = _check_username(username)
        check_password_strength(password)
        check_role(role)
        with write_transaction(self.engine) as conn:
            if conn.execute(select(users.c.id).where(users.c.username == name)).first():
                raise NewsdeskError(f"there is already a user named {name!r}")
            conn.execute(
                insert(users).values(
                    username=name,
                    password_hash=_hasher.hash(password),
                    created_at=_now(),
                    role=role,
                    recovery_codes=[],
                    preferences={},
                )
            )
        found = self.get_user(name)
        assert found is not None
        return found

    def setup_owner(self, username: str, password: str) -> None:
        """The first-run page: the desk's first admin, who has no password yet, takes this name
        and password (a desk with a password set refuses)."""
        name = _check_username(username)
        check_password_strength(password)
        with write_transaction(self.engine) as conn:
            owner = conn.execute(
                select(users.c.id, users.c.password_hash)
                .where(users.c.role == "admin")
                .order_by(users.c.id)
                .limit(1)
            ).first()
            if owner is None or owner.password_hash:
                raise NewsdeskError("this desk is set up already: log in")
            conn.execute(
                update(users)
                .where(users.c.id == owner.id)
                .values(username=name, password_hash=_hasher.hash(password))
            )

    def set_password(
        self, username: str, password: str, *, server_key: bytes | None = None
    ) -> None:
        """Change a person's password (their sessions end: log in again), or add them as a
        member when there is no one of that name. Fever's key changes with the password: with
        ``server_key`` a user who had Fever on keeps it on (with the new key), without it Fever
        is turned off."""
        name = _check_username(username)
        check_password_strength(password)
        values: dict[str, object] = {"password_hash": _hasher.hash(password)}
        with write_transaction(self.engine) as conn:
            row = conn.execute(
                select(users.c.id, users.c.fever_verifier).where(users.c.username == name)
            ).first()
            if row is None:
                conn.execute(
                    insert(users).values(
                        username=name,
                        created_at=_now(),
                        role="member",
                        recovery_codes=[],
                        preferences={},
                        **values,
                    )
                )
                return
            on = row.fever_verifier is not None and server_key is not None
            values["fever_verifier"] = (
                fever_verifier(server_key, fever_key(name, password)) if on and server_key else None
            )
            conn.execute(update(users).where(users.c.id == row.id).values(**values))
            conn.execute(delete(web_sessions).where(web_sessions.c.user_id == row.id))

    def set_fever(
        self, username: str, *, on: bool, password: str = "", server_key: bytes = b""
    ) -> None:
        """Turn the Fever API on (the password is needed: Fever's key is made from it) or off."""
        name = username.strip()
        if self.get_user(name) is None:
            raise NewsdeskError(f"no user named {name!r}")
        verifier = None
        if on:
            if not server_key:
                raise NewsdeskError("turning Fever on needs the server key")
            if not self.verify_password(name, password):
                raise NewsdeskError("wrong password: Fever's key is made from the password")
            verifier = fever_verifier(server_key, fever_key(name, password))
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(users).where(users.c.username == name).values(fever_verifier=verifier)
            )

    def credential_stamp(self, user_id: int) -> str:
        """Something that changes whenever the user's password does (its argon2 hash, salted
        afresh each time): tokens derived from it end with a password change."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(users.c.password_hash).where(users.c.id == user_id)
            ).scalar()
        return str(found or "")

    def verify_password(self, username: str, password: str) -> bool:
        with self.engine.connect() as conn:
            stored = conn.execute(
                select(users.c.password_hash).where(users.c.username == username.strip())
            ).scalar()
        try:
            return _hasher.verify(stored or _dummy_hash(), password) and bool(stored)
        except (VerificationError, InvalidHashError):
            return False

    def get_user(self, username: str | None = None) -> User | None:
        """The named user; without a name, the desk's first admin (the one a single-user desk
        has)."""
        query = select(users).order_by(users.c.id).limit(1)
        if username is not None:
            query = query.where(users.c.username == username.strip())
        else:
            query = query.where(users.c.role == "admin")
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _user(row) if row is not None else None

    def user_by_id(self, user_id: int) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        return _user(row) if row is not None else None

    def person(self, username: str | None = None) -> User:
        """The named person, or the first admin; a clear error when there is no such person."""
        found = self.get_user(username)
        if found is None:
            raise NewsdeskError(
                f"no user named {username!r} (see `newsdesk user list`)"
                if username
                else "this desk has no admin: add one with `newsdesk user add NAME --role admin`"
            )
        return found

    def list_users(self) -> list[User]:
        with self.engine.connect() as conn:
            return [_user(r) for r in conn.execute(select(users).order_by(users.c.id))]

    def set_role(self, username: str, role: str) -> User:
        """Make a person an admin or a member; the last admin stays one."""
        check_role(role)
        person = self.person(username)
        with write_transaction(self.engine) as conn:
            if role != "admin" and person.is_admin:
                self._keep_an_admin(conn, person.id)
            conn.execute(update(users).where(users.c.id == person.id).values(role=role))
        return self.person(person.username)

    def remove_user(self, username: str) -> User:
        """A person goes with their private data (subscriptions, state, labels, saved searches,
        keys, watchlists, shares, categories); a feed stays while anyone follows it. The last
        admin stays."""
        from newsdesk.store.schema import categories, feeds, subscriptions

        person = self.person(username)
        with write_transaction(self.engine) as conn:
            if person.is_admin:
                self._keep_an_admin(conn, person.id)
            conn.execute(delete(users).where(users.c.id == person.id))  # the rest cascades
            conn.execute(delete(categories).where(categories.c.user_id == person.id))
            followed = select(subscriptions.c.id).where(subscriptions.c.feed_id == feeds.c.id)
            conn.execute(delete(feeds).where(~followed.exists()))
        return person

    @staticmethod
    def _keep_an_admin(conn: Connection, leaving: int) -> None:
        others = conn.execute(
            select(users.c.id).where(users.c.role == "admin", users.c.id != leaving).limit(1)
        ).first()
        if others is None:
            raise NewsdeskError("a desk keeps at least one admin: make someone else admin first")

    def preferences(self, user_id: int) -> Preferences:
        """A person's reading habits (the defaults for one who never chose)."""
        with self.engine.connect() as conn:
            raw = conn.execute(select(users.c.preferences).where(users.c.id == user_id)).scalar()
        return Preferences.from_json(raw)

    def set_preferences(self, user_id: int, changes: Mapping[str, object]) -> Preferences:
        """Change some of a person's reading habits (checked first: ``Preferences.changed``);
        the other keys of ``users.preferences`` (the two-factor step) stay as they are. Returns
        the preferences now."""
        with write_transaction(self.engine) as conn:
            raw = conn.execute(select(users.c.preferences).where(users.c.id == user_id)).first()
            if raw is None:
                raise NewsdeskError("no such user")
            stored = dict(raw.preferences) if isinstance(raw.preferences, dict) else {}
            now = Preferences.from_json(stored).changed(changes)
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(preferences={**stored, **now.as_dict()})
            )
        return now

    def logged_in(self, user_id: int) -> None:
        """Remember when the person last logged in (shown on the admin page)."""
        with write_transaction(self.engine) as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(last_login_at=_now()))

    def user_by_fever_key(self, api_key: str, server_key: bytes) -> User | None:
        """The user whose Fever is on with this ``api_key``; None otherwise."""
        if not api_key or not server_key:
            return None
        verifier = fever_verifier(server_key, api_key)
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.fever_verifier == verifier)).first()
        return _user(row) if row is not None else None

    def has_users(self) -> bool:
        """Whether anyone can log in (someone has a password): until then, the first-run
        page."""
        with self.engine.connect() as conn:
            query = select(users.c.id).where(users.c.password_hash != "").limit(1)
            return conn.execute(query).first() is not None

    def create_session(self, user_id: int, lifetime: timedelta) -> str:
        """A new session for the user; returns the token to put in the cookie."""
        token = secrets.token_urlsafe(32)
        now = _now()
        with write_transaction(self.engine) as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now))
            conn.execute(
                insert(web_sessions).values(
                    token_hash=_token_hash(token),
                    user_id=user_id,
                    created_at=now,
                    expires_at=now + lifetime,
                )
            )
        return token

    def session_user(self, token: str) -> User | None:
        if not token:
            return None
        query = (
            select(users)
            .join(web_sessions, web_sessions.c.user_id == users.c.id)
            .where(web_sessions.c.token_hash == _token_hash(token))
            .where(web_sessions.c.expires_at > _now())
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _user(row) if row is not None else None

    def end_session(self, token: str) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(
                delete(web_sessions).where(web_sessions.c.token_hash == _token_hash(token))
            )

    def server_secret(self, name: str) -> str:
        """A random secret made on first use and kept in the database (CSRF and feed-link keys)."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(web_secrets.c.value).where(web_secrets.c.name == name)
            ).scalar()
        if found is not None:
            return str(found)
        with write_transaction(self.engine) as conn:
            found = conn.execute(
                select(web_secrets.c.value).where(web_secrets.c.name == name)
            ).scalar()
            if found is None:
                found = secrets.token_urlsafe(32)
                conn.execute(insert(web_secrets).values(name=name, value=found))
        return str(found)

    def rotate_server_secret(self, name: str) -> str:
        """Replace a secret with a new random one (what it keyed stops working); return it."""
        value = secrets.token_urlsafe(32)
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                update(web_secrets).where(web_secrets.c.name == name).values(value=value)
            )
            if done.rowcount == 0:
                conn.execute(insert(web_secrets).values(name=name, value=value))
        return value

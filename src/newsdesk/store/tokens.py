"""API keys: made and revoked by name (``newsdesk token create NAME`` / ``token revoke``), sent
by reader apps as ``Authorization: Bearer KEY`` or ``X-Auth-Token: KEY``.

Only the sha256 of a key is stored: the key is shown once, when it is made, so a copy of the
database does not let anyone in. Keys are long random strings (256 bits), so a plain hash is
enough; a slow password hash would only slow every API request down. ``TokenStore`` is the
store's ``tokens`` part (``store.tokens``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError

from newsdesk.errors import NewsdeskError
from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import api_tokens
from newsdesk.util import iso

KEY_PREFIX = "nd_"
# last_used_at is written at most this often per key, so reads stay reads.
_TOUCH_EVERY = timedelta(minutes=5)


class TokenNotFoundError(NewsdeskError):
    """No API key has the given name or id."""


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    user_id: int | None = None  # whose key: the API acts as this person

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "created_at": iso(self.created_at),
            "last_used_at": iso(self.last_used_at),
        }


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _token(row: object) -> ApiToken:
    m = row._mapping  # type: ignore[attr-defined]
    return ApiToken(
        id=int(m["id"]),
        name=str(m["name"]),
        prefix=str(m["prefix"]),
        created_at=m["created_at"],
        last_used_at=m["last_used_at"],
        user_id=m["user_id"],
    )


def _check_name(name: str) -> str:
    clean = name.strip()
    if not clean or len(clean) > 200 or not clean.isprintable():
        raise NewsdeskError("an API key name is 1 to 200 printable characters")
    if clean.isdigit():
        # `token revoke 12` means the key with id 12: a name made of digits would be ambiguous.
        raise NewsdeskError("an API key name cannot be only digits")
    return clean


class TokenStore:
    """API keys (``store.tokens``): each is one person's; a store made for a person
    (``SqlStore.as_person``) makes, lists and revokes that person's keys."""

    def __init__(self, engine: Engine, person_id: int | None = None) -> None:
        self.engine = engine
        self.person_id = person_id

    def _mine(self) -> Any:
        return true() if self.person_id is None else api_tokens.c.user_id == self.person_id

    def create_token(self, name: str) -> tuple[ApiToken, str]:
        """A new key named ``name``; returns it and the key itself (shown once, never stored)."""
        clean = _check_name(name)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        try:
            with write_transaction(self.engine) as conn:
                inserted = conn.execute(
                    insert(api_tokens).values(
                        name=clean,
                        token_hash=hash_key(key),
                        prefix=key[:8],
                        created_at=now,
                        user_id=self._owner(conn),
                    )
                )
                key_id = inserted.inserted_primary_key
        except IntegrityError:
            raise NewsdeskError(f"an API key named {clean!r} already exists") from None
        if key_id is None:
            raise NewsdeskError("the database did not return the new key's id")
        return ApiToken(int(key_id[0]), clean, key[:8], now, None, self.person_id), key

    def _owner(self, conn: Any) -> int:
        """The person a new key is for: the store's, else the first admin."""
        if self.person_id is not None:
            return self.person_id
        from newsdesk.store.schema import users

        first = conn.execute(
            select(users.c.id).where(users.c.role == "admin").order_by(users.c.id).limit(1)
        ).scalar()
        if first is None:
            raise NewsdeskError("an API key needs a person: there is no admin")
        return int(first)

    def list_tokens(self) -> list[ApiToken]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_tokens).where(self._mine()).order_by(api_tokens.c.id))
            return [_token(r) for r in rows]

    def revoke_token(self, ref: str | int) -> ApiToken:
        """Delete the key with this id (digits) or name."""
        text = str(ref).strip()
        where = api_tokens.c.name == text
        if text.isdigit() and len(text) < 18:
            where = or_(where, api_tokens.c.id == int(text))
        with write_transaction(self.engine) as conn:
            row = conn.execute(
                select(api_tokens).where(where, self._mine()).order_by(api_tokens.c.id)
            ).first()
            if row is None:
                raise TokenNotFoundError(f"no API key named {text!r} (see `newsdesk token list`)")
            conn.execute(delete(api_tokens).where(api_tokens.c.id == row.id))
        return _token(row)

    def token_for_key(self, key: str) -> ApiToken | None:
        """The key's record when ``key`` is a valid API key, else None."""
        if not key or len(key) > 200:
            return None
        digest = hash_key(key.strip())
        with self.engine.connect() as conn:
            row = conn.execute(select(api_tokens).where(api_tokens.c.token_hash == digest)).first()
        if row is None:
            return None
        token = _token(row)
        now = datetime.now(UTC)
        if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
            with write_transaction(self.engine) as conn:
                conn.execute(
                    update(api_tokens).where(api_tokens.c.id == token.id).values(last_used_at=now)
                )
        return token

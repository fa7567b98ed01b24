"""Two-factor login (issue 15): TOTP codes (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, one
step of clock drift either way) and recovery codes, per person, asked for at web login.

- The TOTP secret is stored encrypted under the server key (``newsdesk.store.server_key``, a
  file outside the database): a keystream of HMAC-SHA-256 blocks XORed over it, with an
  HMAC tag over the result (encrypt-then-MAC), so a copy of the database does not hold it.
- Enrolment keeps nothing until the person types a valid code: the page carries the new
  secret sealed (``seal``) and ``enable`` checks the code against it before storing it.
- Ten recovery codes are made when two-factor is turned on (shown once); only their sha256
  is stored, and each is struck out when used.
- The last accepted time step is remembered in the person's preferences, so a code seen once
  (over a shoulder, in a proxy log) cannot log in again.

``TwoFactorStore`` is the store's ``two_factor`` part (``store.two_factor``); its methods take
the person's id, since the login page asks before anyone is logged in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import Engine, select, update

import newsdesk.store.sealing as sealing
from newsdesk.errors import NewsdeskError
from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import users

DIGITS = 6
STEP_SECONDS = 30
DRIFT_STEPS = 1
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends
RECOVERY_CODES = 10
ISSUER = "Newsdesk"
_LAST_STEP = "totp_last_step"  # key in users.preferences
_PURPOSE = "two-factor"


# -- TOTP (RFC 4226 / RFC 6238) -------------------------------------------------------------


def hotp(secret: bytes, counter: int, digits: int = DIGITS, digest: str = "sha1") -> str:
    """RFC 4226's HOTP value of ``counter``: dynamic truncation of an HMAC, ``digits`` long."""
    mac = hmac.new(secret, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def totp(secret: bytes, at: float, digits: int = DIGITS, digest: str = "sha1") -> str:
    """RFC 6238's TOTP value at Unix time ``at`` (T0 = 0, X = 30 s)."""
    return hotp(secret, int(at) // STEP_SECONDS, digits, digest)


def matching_step(secret: bytes, code: str, at: float) -> int | None:
    """The time step (within ±``DRIFT_STEPS`` of ``at``) whose code is ``code``, else None."""
    clean = code.strip().replace(" ", "")
    if len(clean) != DIGITS or not clean.isdigit():
        return None
    now = int(at) // STEP_SECONDS
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(hotp(secret, step), clean):
            found = step
    return found


def new_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def secret_text(secret: bytes) -> str:
    """The secret as authenticator apps take it typed in: base32, without padding."""
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def secret_from_text(text: str) -> bytes:
    clean = text.strip().replace(" ", "").upper()
    try:
        return base64.b32decode(clean + "=" * (-len(clean) % 8))
    except ValueError:
        raise NewsdeskError("that is not a two-factor secret") from None


def otpauth_uri(username: str, secret: bytes) -> str:
    """The ``otpauth://totp/`` URI authenticator apps read (Key Uri Format)."""
    label = quote(f"{ISSUER}:{username}", safe="")
    params = {
        "secret": secret_text(secret),
        "issuer": ISSUER,
        "algorithm": "SHA1",
        "digits": DIGITS,
        "period": STEP_SECONDS,
    }
    return f"otpauth://totp/{label}?{urlencode(params)}"


# -- the secret, encrypted under the server key ---------------------------------------------


def seal(server_key: bytes, secret: bytes) -> str:
    """``secret`` encrypted and authenticated under the server key (text, URL-safe)."""
    return sealing.seal(server_key, secret, _PURPOSE)


def unseal(server_key: bytes, sealed: str) -> bytes:
    """The secret ``seal`` encrypted; an error when it was altered or sealed under another key."""
    return sealing.unseal(server_key, sealed, _PURPOSE, "the two-factor secret")


# -- recovery codes -------------------------------------------------------------------------


def _code_hash(code: str) -> str:
    clean = code.strip().replace("-", "").replace(" ", "").lower()
    return hashlib.sha256(clean.encode()).hexdigest()


def new_recovery_codes() -> list[str]:
    """Ten codes like ``4f9a-c21e-77b0`` (48 bits each)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(6)
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return codes


class TwoFactorStore:
    """Turning two-factor on and off, and checking a login code (``store.two_factor``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _row(self, user_id: int) -> Any:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users.c.totp_secret, users.c.recovery_codes, users.c.preferences).where(
                    users.c.id == user_id
                )
            ).first()
        if row is None:
            raise NewsdeskError("no such user")
        return row

    def is_on(self, user_id: int) -> bool:
        return self._row(user_id).totp_secret is not None

    def recovery_codes_left(self, user_id: int) -> int:
        return len(self._row(user_id).recovery_codes or [])

    def enable(
        self, user_id: int, sealed: str, code: str, server_key: bytes, at: float | None = None
    ) -> list[str]:
        """Turn two-factor on with the secret offered at enrolment (``sealed``), once ``code``
        shows the person's app has it; returns the recovery codes (shown once)."""
        secret = unseal(server_key, sealed)
        now = time.time() if at is None else at
        step = matching_step(secret, code, now)
        if step is None:
            raise NewsdeskError("that code is not right: check the app's clock and try again")
        codes = new_recovery_codes()
        with write_transaction(self.engine) as conn:
            prefs = conn.execute(select(users.c.preferences).where(users.c.id == user_id)).scalar()
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(
                    totp_secret=seal(server_key, secret),
                    recovery_codes=[_code_hash(c) for c in codes],
                    preferences={**(prefs or {}), _LAST_STEP: step},
                )
            )
        return codes

    def disable(self, user_id: int) -> None:
        """Turn two-factor off (the page asks for the password first)."""
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(totp_secret=None, recovery_codes=[])
            )

    def renew_recovery_codes(self, user_id: int) -> list[str]:
        """New recovery codes (the old ones stop working); two-factor must be on."""
        if not self.is_on(user_id):
            raise NewsdeskError("two-factor login is off")
        codes = new_recovery_codes()
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(recovery_codes=[_code_hash(c) for c in codes])
            )
        return codes

    def verify(self, user_id: int, code: str, server_key: bytes, at: float | None = None) -> bool:
        """Whether ``code`` (a current TOTP code not used before, or an unused recovery code)
        completes this person's login; a recovery code is struck out."""
        now = time.time() if at is None else at
        with write_transaction(self.engine) as conn:
            row = conn.execute(
                select(users.c.totp_secret, users.c.recovery_codes, users.c.preferences).where(
                    users.c.id == user_id
                )
            ).first()
            if row is None or row.totp_secret is None:
                return False
            prefs = dict(row.preferences or {})
            step = matching_step(unseal(server_key, row.totp_secret), code, now)
            if step is not None:
                if step <= int(prefs.get(_LAST_STEP) or -1):
                    return False  # replayed
                prefs[_LAST_STEP] = step
                conn.execute(update(users).where(users.c.id == user_id).values(preferences=prefs))
                return True
            hashes = list(row.recovery_codes or [])
            digest = _code_hash(code)
            if not code.strip() or digest not in hashes:
                return False
            hashes.remove(digest)
            conn.execute(update(users).where(users.c.id == user_id).values(recovery_codes=hashes))
            return True

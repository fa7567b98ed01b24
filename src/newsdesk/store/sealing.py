"""Secrets kept in the database encrypted under the server key (``store.server_key``, a file
outside the database): a keystream of HMAC-SHA-256 blocks XORed over the secret, with an
HMAC tag over the result (encrypt-then-MAC), each sealing with a fresh random nonce. A
``purpose`` derives the keys, so a secret sealed for one use (a two-factor secret, a feed's
credentials) cannot be passed off as another's. A copy of the database without the key file
holds none of them in clear."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct

from newsdesk.errors import NewsdeskError

_NONCE = 16
_TAG = 32


def _subkey(key: bytes, purpose: str, use: str) -> bytes:
    return hmac.new(key, f"{purpose}\x00{use}".encode(), hashlib.sha256).digest()


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = []
    for counter in range((length + 31) // 32):
        blocks.append(hmac.new(key, nonce + struct.pack(">I", counter), hashlib.sha256).digest())
    return b"".join(blocks)[:length]


def seal(server_key: bytes, secret: bytes, purpose: str) -> str:
    """``secret`` encrypted and authenticated under the server key (text, URL-safe)."""
    nonce = secrets.token_bytes(_NONCE)
    stream = _keystream(_subkey(server_key, purpose, "encrypt"), nonce, len(secret))
    body = nonce + bytes(a ^ b for a, b in zip(secret, stream, strict=True))
    tag = hmac.new(_subkey(server_key, purpose, "mac"), body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(body + tag).decode("ascii")


def unseal(server_key: bytes, sealed: str, purpose: str, what: str) -> bytes:
    """The secret ``seal`` encrypted; a ``NewsdeskError`` naming ``what`` when it was altered
    or sealed under another key."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise NewsdeskError(f"{what} is damaged") from None
    body, tag = raw[:-_TAG], raw[-_TAG:]
    if len(body) <= _NONCE:
        raise NewsdeskError(f"{what} is damaged")
    expected = hmac.new(_subkey(server_key, purpose, "mac"), body, hashlib.sha256).digest()
    if not hmac.compare_digest(tag, expected):
        raise NewsdeskError(
            f"{what} cannot be read with this server key (was the key file replaced?)"
        )
    nonce, data = body[:_NONCE], body[_NONCE:]
    stream = _keystream(_subkey(server_key, purpose, "encrypt"), nonce, len(data))
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))

"""Who is calling: API keys (``X-Auth-Token`` or ``Authorization: Bearer``), HTTP Basic with
the reading room's user name and password, Google Reader's ``GoogleLogin auth=`` tokens and
Fever's ``api_key``.

Failed attempts that carried credentials count against the caller's address (the reading
room's login limit); past the limit the answer is 429 until the window passes. A failure never
says which part was wrong.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

from starlette.requests import Request

from newsdesk.store.server_key import keyed, server_key
from newsdesk.store.tokens import token_for_key
from newsdesk.store.users import User, credential_stamp, get_user, verify_password
from newsdesk.web.api.errors import ApiError, Unauthorized
from newsdesk.web.api.state import ApiState


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def api_key_from(request: Request) -> str | None:
    key = request.headers.get("x-auth-token")
    if key:
        return key.strip()
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ("", "")  # present but unreadable: a failed attempt
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else ("", "")


def check_rate(api: ApiState, request: Request) -> None:
    wait = api.limiter.retry_after(client_address(request))
    if wait:
        raise ApiError(
            429, f"too many failed logins: try again in {wait} s", {"Retry-After": str(wait)}
        )


def _failed(api: ApiState, request: Request) -> Unauthorized:
    api.limiter.failed(client_address(request))
    return Unauthorized()


async def key_user(api: ApiState, key: str) -> User | None:
    token = await api.run(token_for_key, api.engine, key)
    return await api.run(api.user) if token is not None else None


async def require_user(api: ApiState, request: Request, *, allow_basic: bool = True) -> User:
    """The caller's user, from an API key or (``allow_basic``) HTTP Basic; else 401."""
    check_rate(api, request)
    key = api_key_from(request)
    if key:
        user = await key_user(api, key)
        if user is None:
            raise _failed(api, request)
        return user
    credentials = basic_credentials(request) if allow_basic else None
    if credentials is not None:
        name, password = credentials
        remembered = _remembered(api, name, password)
        if remembered is not None:
            return remembered
        ok = bool(name and password) and await api.run(verify_password, api.engine, name, password)
        if not ok:
            raise _failed(api, request)
        found = await api.run(get_user, api.engine, name)
        if found is None:
            raise _failed(api, request)
        api.limiter.succeeded(client_address(request))
        _remember(api, name, password, found)
        return found
    raise Unauthorized()


# Clients using HTTP Basic (newsboat's Miniflux back end) send the password with every request,
# one per feed; checking it is deliberately slow (argon2), so a good pair is remembered for a
# minute, keyed by a hash of the pair (the password itself is not kept).
_REMEMBER_SECONDS = 60.0
_REMEMBER_MAX = 64


def _pair_key(name: str, password: str) -> str:
    return hashlib.sha256(f"{name}\x00{password}".encode("utf-8", "surrogatepass")).hexdigest()


def _remembered(api: ApiState, name: str, password: str) -> User | None:
    cache: dict[str, tuple[float, User]] = api.extras.setdefault("api_basic_cache", {})
    found = cache.get(_pair_key(name, password))
    if found is None or found[0] < time.monotonic():
        return None
    return found[1]


def _remember(api: ApiState, name: str, password: str, user: User) -> None:
    cache: dict[str, tuple[float, User]] = api.extras.setdefault("api_basic_cache", {})
    if len(cache) >= _REMEMBER_MAX:
        cache.clear()
    cache[_pair_key(name, password)] = (time.monotonic() + _REMEMBER_SECONDS, user)


# -- Google Reader --------------------------------------------------------------------------


def google_mac(api: ApiState, user: User, purpose: str) -> str:
    """An HMAC under the server key of the user and its password hash (see ``google_token``)."""
    stamp = credential_stamp(api.engine, user.id)
    return keyed(server_key(api.settings), purpose, f"{user.id}:{stamp}")


def google_token(api: ApiState, user: User) -> str:
    """The ``Auth`` token ClientLogin hands out: the user name and an HMAC, under the server
    key (kept outside the database), of the user's password hash (salted afresh at every
    change), so changing the password ends every token, nothing needs storing, and nothing a
    copy of the database holds lets anyone make one."""
    return f"{user.username}/{google_mac(api, user, 'google-reader')[:40]}"


def _google_user(api: ApiState, token: str) -> User | None:
    name, sep, _ = token.rpartition("/")
    if not sep or not name:
        return None
    user = get_user(api.engine, name)
    if user is None:
        return None
    return user if hmac.compare_digest(google_token(api, user), token) else None


async def google_user(api: ApiState, request: Request) -> User:
    """``Authorization: GoogleLogin auth=TOKEN`` with a ClientLogin token or an API key (also
    accepted: ``X-Auth-Token``/``Bearer`` API keys)."""
    check_rate(api, request)
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    token: str | None = None
    if scheme.lower() == "googlelogin":
        name, _, token = value.strip().partition("=")
        if name.strip().lower() != "auth":
            token = None
    if token:
        token = token.strip()
        user = await api.run(_google_user, api, token)
        if user is None:
            user = await key_user(api, token)
        if user is None:
            raise _failed(api, request)
        return user
    key = api_key_from(request)
    if key:
        user = await key_user(api, key)
        if user is None:
            raise _failed(api, request)
        return user
    raise Unauthorized()

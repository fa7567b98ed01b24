"""Who is calling: API keys (``X-Auth-Token`` or ``Authorization: Bearer``), HTTP Basic with
the reading room's user name and password, Google Reader's ``GoogleLogin auth=`` tokens and
Fever's ``api_key``.

Passwords and Fever keys are counted against the caller's address and the account before they
are checked (``web.limiter.LoginLimiter``, one budget with the login form); unguessable secrets
(API keys, ClientLogin tokens) are looked up first and a failure counted after. Past the limit
the answer is 429 with a growing wait. A failure never says which part was wrong.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

from starlette.requests import Request

from newsdesk.store.server_key import keyed, server_key
from newsdesk.store.users import User
from newsdesk.web.api.errors import ApiError, Forbidden, Unauthorized
from newsdesk.web.api.state import ApiState

# A Fever key does not name its person: failed guesses are counted against this one budget
# (and the caller's address). No user name has a space; PostgreSQL keeps no NUL in text.
FEVER_ACCOUNT = "fever api"


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


def _too_many(wait: int) -> ApiError:
    return ApiError(
        429, f"too many failed logins: try again in {wait} s", {"Retry-After": str(wait)}
    )


async def check_rate(api: ApiState, request: Request) -> None:
    """Refuse an address whose failed-login budget is spent (before an unguessable secret,
    an API key or a ClientLogin token, is looked up)."""
    wait = await api.limiter.retry_after(client_address(request))
    if wait:
        raise _too_many(wait)


async def _failed(api: ApiState, request: Request) -> Unauthorized:
    await api.limiter.failed(client_address(request))
    return Unauthorized()


async def key_user(api: ApiState, key: str) -> User | None:
    """The person whose API key this is (the request acts as them from now on), or None."""
    token = await api.run(api.system_store.tokens.token_for_key, key)
    if token is None or token.user_id is None:
        return None
    found = await api.run(api.system_store.users.user_by_id, token.user_id)
    return api.act_as(found) if found is not None else None


async def password_user(api: ApiState, request: Request, name: str, password: str) -> User | None:
    """The user whose name and password these are, or None. The attempt is counted against
    the caller's address and the account *before* the password is checked (429 when either
    budget is spent), so parallel guesses cannot outrun the limit; a good pair clears both."""
    remembered = await api.run(_still_good, api, name, password)
    if remembered is not None:
        return api.act_as(remembered)
    client = client_address(request)
    account = name.replace("\x00", "\ufffd") or None  # PostgreSQL keeps no NUL in text
    wait = await api.limiter.reserve(client, account)
    if wait:
        raise _too_many(wait)
    ok = bool(name and password) and await api.run(
        api.system_store.users.verify_password, name, password
    )
    found = await api.run(api.system_store.users.get_user, name) if ok else None
    if found is None:
        return None
    await api.limiter.succeeded(client, account)
    stamp = await api.run(api.system_store.users.credential_stamp, found.id)
    _remember(api, name, password, found, stamp)
    return api.act_as(found)


def _still_good(api: ApiState, name: str, password: str) -> User | None:
    """A pair checked a moment ago, read again (cheap: no password hash is computed): the
    person as they are now (their role may have changed), or None when they are gone or their
    password changed since."""
    cached = _remembered(api, name, password)
    if cached is None:
        return None
    users = api.system_store.users
    now = users.user_by_id(cached.id)
    if now is None or api.basic_stamps.get(_pair_key(name, password)) != users.credential_stamp(
        cached.id
    ):
        api.basic_cache.pop(_pair_key(name, password), None)
        return None
    return now


async def fever_user(api: ApiState, request: Request, key: str) -> User | None:
    """The user whose Fever key this is (Fever on), or None. A Fever key stands for the
    password (md5 of name and password): it is counted like a password, against the address
    and the desk's account, before it is looked up."""
    known = server_key(api.settings)
    if _remembered(api, "\x00fever", key) is not None:
        # Good a moment ago: checked again (one read and an HMAC, no throttle writes), so
        # turning Fever off or changing the password ends it at once.
        again = await api.run(api.system_store.users.user_by_fever_key, key, known)
        if again is not None:
            return api.act_as(again)
    client = client_address(request)
    account = FEVER_ACCOUNT
    wait = await api.limiter.reserve(client, account)
    if wait:
        raise _too_many(wait)
    found = await api.run(api.system_store.users.user_by_fever_key, key, known)
    if found is None:
        return None
    await api.limiter.succeeded(client, account)
    _remember(api, "\x00fever", key, found)
    return api.act_as(found)


async def require_user(api: ApiState, request: Request, *, allow_basic: bool = True) -> User:
    """The caller's user, from an API key or (``allow_basic``) HTTP Basic; else 401."""
    key = api_key_from(request)
    if key:
        await check_rate(api, request)
        user = await key_user(api, key)
        if user is None:
            raise await _failed(api, request)
        return user
    credentials = basic_credentials(request) if allow_basic else None
    if credentials is not None:
        found = await password_user(api, request, *credentials)
        if found is None:
            raise Unauthorized()
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
    cache = api.basic_cache
    found = cache.get(_pair_key(name, password))
    if found is None or found[0] < time.monotonic():
        return None
    return found[1]


def _remember(
    api: ApiState, name: str, password: str, user: User, stamp: str | None = None
) -> None:
    cache = api.basic_cache
    if len(cache) >= _REMEMBER_MAX:
        cache.clear()
        api.basic_stamps.clear()
    pair = _pair_key(name, password)
    cache[pair] = (time.monotonic() + _REMEMBER_SECONDS, user)
    if stamp is not None:
        api.basic_stamps[pair] = stamp


async def require_admin(api: ApiState, request: Request, message: str = "Access Forbidden") -> User:
    """The caller (as ``require_user``) when they are an admin; 403 for a member."""
    user = await require_user(api, request)
    if not user.is_admin:
        raise Forbidden(message)
    return user


# -- Google Reader --------------------------------------------------------------------------


def google_mac(api: ApiState, user: User, purpose: str) -> str:
    """An HMAC under the server key of the user and its password hash (see ``google_token``)."""
    stamp = api.system_store.users.credential_stamp(user.id)
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
    user = api.system_store.users.get_user(name)
    if user is None:
        return None
    return user if hmac.compare_digest(google_token(api, user), token) else None


async def google_user(api: ApiState, request: Request) -> User:
    """``Authorization: GoogleLogin auth=TOKEN`` with a ClientLogin token or an API key (also
    accepted: ``X-Auth-Token``/``Bearer`` API keys)."""
    await check_rate(api, request)
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    token: str | None = None
    if scheme.lower() == "googlelogin":
        name, _, token = value.strip().partition("=")
        if name.strip().lower() != "auth":
            token = None
    if token:
        token = token.strip()
        user = await api.run(_google_user, api, token)
        if user is not None:
            return api.act_as(user)
        user = await key_user(api, token)
        if user is None:
            raise await _failed(api, request)
        return user
    key = api_key_from(request)
    if key:
        user = await key_user(api, key)
        if user is None:
            raise await _failed(api, request)
        return user
    raise Unauthorized()

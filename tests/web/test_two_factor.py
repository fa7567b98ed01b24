"""Two-factor login (issue 15): TOTP per RFC 6238 (its Appendix B test vectors), the secret
kept encrypted under the server key, enrolment confirmed by a code, login asking for the code
after the password, wrong codes throttled with the failed-login budget, recovery codes used
once, API keys unaffected."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from newsdesk.desk import Desk
from newsdesk.errors import NewsdeskError
from newsdesk.settings import Settings
from newsdesk.store.server_key import server_key
from newsdesk.store.two_factor import (
    STEP_SECONDS,
    hotp,
    matching_step,
    otpauth_uri,
    seal,
    secret_from_text,
    secret_text,
    totp,
    unseal,
)
from newsdesk.web.guard import SESSION_COOKIE

from .session import PASSWORD, Browser, csrf_of

SEED_SHA1 = b"12345678901234567890"
SEED_SHA256 = b"12345678901234567890123456789012"
SEED_SHA512 = b"1234567890" * 6 + b"1234"
# RFC 6238, Appendix B: (time, SHA-1, SHA-256, SHA-512), 8 digits.
VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize(("at", "sha1", "sha256", "sha512"), VECTORS)
def test_rfc_6238_test_vectors(at: int, sha1: str, sha256: str, sha512: str) -> None:
    assert totp(SEED_SHA1, at, digits=8) == sha1
    assert totp(SEED_SHA256, at, digits=8, digest="sha256") == sha256
    assert totp(SEED_SHA512, at, digits=8, digest="sha512") == sha512
    # The six digits an app shows are the last six of the same value.
    assert totp(SEED_SHA1, at) == sha1[-6:]


def test_rfc_4226_hotp_values() -> None:
    """RFC 4226, Appendix D (the HOTP TOTP is built on)."""
    expected = ["755224", "287082", "359152", "969429", "338314", "254676"]
    assert [hotp(SEED_SHA1, c) for c in range(6)] == expected


def test_a_code_is_accepted_one_step_either_way() -> None:
    at = 1111111111.0
    now = int(at) // STEP_SECONDS
    for drift in (-1, 0, 1):
        assert matching_step(SEED_SHA1, totp(SEED_SHA1, at + drift * STEP_SECONDS), at) == (
            now + drift
        )
    for drift in (-2, 2):
        assert matching_step(SEED_SHA1, totp(SEED_SHA1, at + drift * STEP_SECONDS), at) is None
    assert matching_step(SEED_SHA1, "12345", at) is None
    assert matching_step(SEED_SHA1, "abcdef", at) is None


def test_the_secret_is_sealed_under_the_server_key() -> None:
    key, other = b"k" * 32, b"o" * 32
    sealed = seal(key, SEED_SHA1)
    assert unseal(key, sealed) == SEED_SHA1
    assert seal(key, SEED_SHA1) != sealed  # a fresh nonce each time
    assert SEED_SHA1 not in sealed.encode() and secret_text(SEED_SHA1) not in sealed
    with pytest.raises(NewsdeskError, match="server key"):
        unseal(other, sealed)
    tampered = sealed[:10] + ("A" if sealed[10] != "A" else "B") + sealed[11:]
    with pytest.raises(NewsdeskError):
        unseal(key, tampered)
    assert secret_from_text(secret_text(SEED_SHA1).lower()) == SEED_SHA1
    uri = otpauth_uri("ann lee", SEED_SHA1)
    assert uri.startswith("otpauth://totp/Newsdesk%3Aann%20lee?secret=")
    assert "issuer=Newsdesk" in uri and "digits=6" in uri and "period=30" in uri


def _steady() -> float:
    """Now, at least a few seconds before the current step ends (the server's clock and the
    test's then agree on the step)."""
    left = STEP_SECONDS - time.time() % STEP_SECONDS
    if left < 4:
        time.sleep(left + 0.1)
    return time.time()


async def _enrol(user: Browser, web_settings: Settings) -> tuple[bytes, list[str]]:
    """Turn two-factor on from the Account page; the secret and the recovery codes."""
    started = await user.post("/account/two-factor/start")
    assert started.status_code == 200
    text = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', started.text)
    assert text is not None and "otpauth://totp/Newsdesk%3Aadmin?secret=" in started.text
    secret = secret_from_text(text.group(1))
    sealed = re.search(r'name="sealed" value="([^"]+)"', started.text)
    assert sealed is not None
    assert unseal(server_key(web_settings), sealed.group(1)) == secret
    wrong = await user.post(
        "/account/two-factor/confirm", {"sealed": sealed.group(1), "code": "000000"}
    )
    assert wrong.status_code == 400 and "not right" in wrong.text
    assert text.group(1) in wrong.text  # the same secret, to try again
    # The previous step's code (still accepted): a login then uses the current one.
    code = totp(secret, _steady() - STEP_SECONDS)
    done = await user.post("/account/two-factor/confirm", {"sealed": sealed.group(1), "code": code})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})</code></li>", done.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, codes


async def _password_step(client: httpx.AsyncClient, password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"csrf_token": csrf_of(page.text), "username": "admin", "password": password},
    )


def _pending(page: str) -> dict[str, str]:
    found = re.search(r'name="pending" value="([^"]+)"', page)
    assert found, "no code form"
    return {"csrf_token": csrf_of(page), "pending": found.group(1), "next": "/"}


def _stored(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return "\n".join(str(v) for row in conn.execute("SELECT * FROM users") for v in row)
    finally:
        conn.close()


async def test_enrol_then_login_asks_for_the_code(
    user: Browser, anon: httpx.AsyncClient, desk: Desk, web_settings: Settings, tmp_path: Path
) -> None:
    secret, _codes = await _enrol(user, web_settings)
    me = desk.store.users.get_user("admin")
    assert me is not None and me.two_factor
    stored = _stored(tmp_path / "newsdesk.db")
    assert secret_text(secret) not in stored and secret.hex() not in stored
    assert "Two-factor login is <strong>on</strong>" in (await user.get("/account")).text

    step = await _password_step(anon)
    assert step.status_code == 200 and "Two-factor code" in step.text
    assert not any(SESSION_COOKIE in c for c in step.headers.get_list("set-cookie"))
    assert (await anon.get("/")).status_code == 303  # not logged in yet
    wrong = await anon.post("/login/code", data={**_pending(step.text), "code": "000000"})
    assert wrong.status_code == 401 and "not right" in wrong.text
    good = await anon.post(
        "/login/code", data={**_pending(wrong.text), "code": totp(secret, time.time())}
    )
    assert good.status_code == 303 and good.headers["location"] == "/"
    assert (await anon.get("/")).status_code == 200
    # The same code again (seen over a shoulder) does not log in a second time.
    async with httpx.AsyncClient(transport=anon._transport, base_url="http://localhost") as other:  # type: ignore[attr-defined]
        again = await _password_step(other)
        replay = await other.post(
            "/login/code", data={**_pending(again.text), "code": totp(secret, time.time())}
        )
        assert replay.status_code == 401


async def test_a_pending_login_is_not_a_session_and_cannot_be_forged(
    user: Browser, anon: httpx.AsyncClient, web_settings: Settings, desk: Desk
) -> None:
    secret, _codes = await _enrol(user, web_settings)
    step = await _password_step(anon)
    form = _pending(step.text)
    user_id, expires, mac = form["pending"].split(".")
    code = totp(secret, time.time())
    for forged in (
        f"{user_id}.{int(expires) + 999}.{mac}",  # a later expiry
        f"{user_id}.{int(time.time()) - 1}.{mac}",
        f"{user_id}.{expires}.{'0' * 64}",
        "",
        "garbage",
    ):
        refused = await anon.post("/login/code", data={**form, "pending": forged, "code": code})
        assert refused.status_code == 400 and "log in again" in refused.text
    assert (await anon.get("/")).status_code == 303
    # A password change ends a pending login made with the old one.
    desk.store.users.set_password("admin", "a brand new password")
    ended = await anon.post("/login/code", data={**form, "code": code})
    assert ended.status_code == 400


async def test_wrong_codes_are_throttled(
    user: Browser, anon: httpx.AsyncClient, web_settings: Settings
) -> None:
    secret, _codes = await _enrol(user, web_settings)
    step = await _password_step(anon)  # the password counts as one attempt
    form = _pending(step.text)
    statuses = []
    for _ in range(web_settings.login_attempts):
        answer = await anon.post("/login/code", data={**form, "code": "000000"})
        statuses.append(answer.status_code)
    assert statuses[0] == 401 and statuses[-1] == 429
    blocked = await anon.post("/login/code", data={**form, "code": totp(secret, time.time())})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert "Too many failed logins" in blocked.text
    # A right password does not reset the budget while the code is still owed.
    assert (await _password_step(anon)).status_code == 429


async def test_a_recovery_code_works_once(
    user: Browser, anon: httpx.AsyncClient, web_settings: Settings, desk: Desk
) -> None:
    _secret, codes = await _enrol(user, web_settings)
    step = await _password_step(anon)
    used = await anon.post("/login/code", data={**_pending(step.text), "code": codes[3].upper()})
    assert used.status_code == 303
    page = await anon.get("/account")
    assert "9 recovery codes left" in page.text
    await anon.post("/logout", data={"csrf_token": csrf_of(page.text)})
    step = await _password_step(anon)
    again = await anon.post("/login/code", data={**_pending(step.text), "code": codes[3]})
    assert again.status_code == 401
    other = await anon.post("/login/code", data={**_pending(again.text), "code": codes[4]})
    assert other.status_code == 303
    # New codes (with the password) replace the old ones.
    wrong = await user.post("/account/two-factor/recovery-codes", {"password": "not it at all"})
    assert wrong.status_code == 400
    fresh = await user.post("/account/two-factor/recovery-codes", {"password": PASSWORD})
    assert fresh.status_code == 200 and "new recovery codes" in fresh.text
    me = desk.store.users.get_user("admin")
    assert me is not None
    assert not desk.store.two_factor.verify(me.id, codes[5], server_key(web_settings))


async def test_api_keys_are_not_affected(
    user: Browser, app: Starlette, web_settings: Settings
) -> None:
    await _enrol(user, web_settings)
    made = await user.post("/account/keys", {"name": "reader app"})
    key = re.search(r'<code id="new-key">([^<]+)</code>', made.text)
    assert key is not None
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://localhost"
    ) as client:
        me = await client.get("/v1/me", headers={"X-Auth-Token": key.group(1)})
        assert me.status_code == 200 and me.json()["username"] == "admin"


async def test_turning_it_off_needs_the_password(
    user: Browser, anon: httpx.AsyncClient, web_settings: Settings, desk: Desk
) -> None:
    await _enrol(user, web_settings)
    again = await user.post("/account/two-factor/start")
    assert again.status_code == 400 and "on already" in again.text
    wrong = await user.post("/account/two-factor/off", {"password": "not it at all"})
    assert wrong.status_code == 400 and "wrong password" in wrong.text
    assert desk.store.users.get_user("admin").two_factor  # type: ignore[union-attr]
    off = await user.post("/account/two-factor/off", {"password": PASSWORD})
    assert off.status_code == 303
    assert not desk.store.users.get_user("admin").two_factor  # type: ignore[union-attr]
    assert (await _password_step(anon)).status_code == 303  # straight in


async def test_an_admin_turns_off_someones_two_factor(
    user: Browser, web_settings: Settings, desk: Desk
) -> None:
    secret = SEED_SHA1
    bob = desk.store.users.add_user("bob", "bobs own password")
    key = server_key(web_settings)
    desk.store.two_factor.enable(bob.id, seal(key, secret), totp(secret, 1000.0), key, at=1000.0)
    page = await user.get("/admin/people")
    row = page.text.split(f'<tr id="person-{bob.id}">', 1)[1].split("</tr>", 1)[0]
    assert "two-factor-off" in row
    assert (await user.post(f"/admin/people/{bob.id}/two-factor-off")).status_code == 303
    assert not desk.store.users.get_user("bob").two_factor  # type: ignore[union-attr]

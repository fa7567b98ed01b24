"""Login, first run, sessions, CSRF and security headers of the reading room."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from newsdesk.desk import Desk
from newsdesk.settings import Settings
from newsdesk.store.users import fever_key
from newsdesk.web.app import create_app

from .session import PASSWORD, Browser, csrf_of, login

KEY = b"k" * 32


async def test_first_run_asks_for_a_password(anon: httpx.AsyncClient, desk: Desk) -> None:
    response = await anon.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/setup"
    page = await anon.get("/setup")
    assert "Choose the password" in page.text
    token = csrf_of(page.text)
    short = await anon.post(
        "/setup", data={"csrf_token": token, "username": "admin", "password": "x", "confirm": "x"}
    )
    assert short.status_code == 400
    assert "at least 8 characters" in short.text
    assert not desk.store.users.has_users()
    differ = await anon.post(
        "/setup",
        data={
            "csrf_token": token,
            "username": "admin",
            "password": PASSWORD,
            "confirm": "other1234",
        },
    )
    assert differ.status_code == 400 and "differ" in differ.text
    done = await anon.post(
        "/setup",
        data={"csrf_token": token, "username": "admin", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert done.status_code == 303
    cookie = next(c for c in done.headers.get_list("set-cookie") if "newsdesk_session" in c)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert (await anon.get("/")).status_code == 200
    # Once a user exists the setup page is closed.
    assert (await anon.get("/setup")).headers["location"] == "/login"


async def test_session_cookie_is_secure_behind_https(app: Starlette, desk: Desk) -> None:
    desk.store.users.set_password("admin", PASSWORD)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://desk.example"
    ) as client:
        response = await login(client)
    cookies = response.headers.get_list("set-cookie")
    assert any("newsdesk_session" in c and "Secure" in c for c in cookies)


async def test_users_store(desk: Desk) -> None:
    store = desk.store
    # The desk's first admin exists from the start, with no password: nobody can log in yet.
    owner = store.users.get_user()
    assert owner is not None and owner.is_admin and not owner.has_password
    assert not store.users.has_users() and not store.users.verify_password("admin", "")
    store.users.set_password("admin", PASSWORD)
    assert store.users.has_users()
    user = store.users.get_user()
    assert user is not None and user.username == "admin"
    assert (
        not user.fever and store.users.user_by_fever_key(fever_key("admin", PASSWORD), KEY) is None
    )
    store.users.set_fever("admin", on=True, password=PASSWORD, server_key=KEY)
    user = store.users.get_user()
    assert user is not None and user.fever
    assert store.users.user_by_fever_key(fever_key("admin", PASSWORD), KEY) == user
    assert store.users.user_by_fever_key(fever_key("admin", PASSWORD), b"another key" * 3) is None
    assert store.users.user_by_fever_key("0" * 32, KEY) is None
    assert store.users.verify_password("admin", PASSWORD)
    assert not store.users.verify_password("admin", "wrong password")
    assert not store.users.verify_password("nobody", PASSWORD)
    store.users.set_password("admin", "a new password")
    assert not store.users.verify_password("admin", PASSWORD)
    # Without the server key a password change turns Fever off (its key changed).
    assert not store.users.get_user("admin").fever  # type: ignore[union-attr]


async def test_login_redirects_back_and_logout_ends_session(
    anon: httpx.AsyncClient, desk: Desk
) -> None:
    desk.store.users.set_password("admin", PASSWORD)
    guarded = await anon.get("/categories")
    assert guarded.status_code == 303
    assert guarded.headers["location"] == "/login?next=%2Fcategories"
    page = await anon.get("/login?next=%2Fcategories")
    response = await anon.post(
        "/login",
        data={
            "csrf_token": csrf_of(page.text),
            "username": "admin",
            "password": PASSWORD,
            "next": "/categories",
        },
    )
    assert response.headers["location"] == "/categories"
    river = await anon.get("/")
    assert river.status_code == 200
    out = await anon.post("/logout", data={"csrf_token": csrf_of(river.text)})
    assert out.status_code == 303
    assert (await anon.get("/")).status_code == 303


async def test_login_never_redirects_off_site(anon: httpx.AsyncClient, desk: Desk) -> None:
    desk.store.users.set_password("admin", PASSWORD)
    page = await anon.get("/login")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = await anon.post(
            "/login",
            data={
                "csrf_token": csrf_of(page.text),
                "username": "admin",
                "password": PASSWORD,
                "next": target,
            },
        )
        assert response.headers["location"] == "/"


async def test_login_rate_limit(
    anon: httpx.AsyncClient, desk: Desk, web_settings: Settings
) -> None:
    desk.store.users.set_password("admin", PASSWORD)
    page = await anon.get("/login")
    token = csrf_of(page.text)
    for _ in range(web_settings.login_attempts):
        wrong = await anon.post(
            "/login", data={"csrf_token": token, "username": "admin", "password": "nope nope"}
        )
        assert wrong.status_code == 401
        assert "Wrong user name or password" in wrong.text
    blocked = await anon.post(
        "/login", data={"csrf_token": token, "username": "admin", "password": PASSWORD}
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "Too many failed logins" in blocked.text


async def test_csrf_required_on_state_changes(user: Browser) -> None:
    client = user.client
    missing = await client.post("/entry/1/star", data={"value": "1"})
    assert missing.status_code == 403
    assert "expired" in missing.text
    forged = await client.post("/entry/1/star", data={"value": "1", "csrf_token": "0" * 64})
    assert forged.status_code == 403
    by_header = await client.post(
        "/entry/1/star",
        data={"value": "1"},
        headers={"X-CSRF-Token": user.token, "HX-Request": "true"},
    )
    assert by_header.status_code == 200
    assert 'aria-pressed="true"' in by_header.text
    # Login forms are protected too (login CSRF).
    assert (
        await client.post("/login", data={"username": "admin", "password": "x"})
    ).status_code == 403


async def test_security_headers_on_every_page(user: Browser) -> None:
    for path in ("/", "/entry/1", "/no/such/page", "/static/app.css", "/login"):
        response = await user.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"]
    page = await user.get("/")
    # No inline script anywhere: every <script> has a src.
    assert "<script>" not in page.text and "<script " in page.text
    assert all("src=" in tag for tag in page.text.split("<script")[1:])


async def test_no_auth_mode(desk: Desk, web_settings: Settings) -> None:
    app = create_app(web_settings, desk=desk, no_auth=True)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://localhost"
    ) as c:
        page = await c.get("/")
        assert page.status_code == 200
        # CSRF still applies without login: another site must not be able to post.
        assert (await c.post("/entry/1/star", data={"value": "1"})).status_code == 403
        ok = await c.post("/entry/1/star", data={"value": "1", "csrf_token": csrf_of(page.text)})
        assert ok.status_code == 303


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "example.org"])
def test_serve_no_auth_refused_off_loopback(host: str, tmp_path: Path, cli: Any) -> None:
    result = cli("serve", "--no-auth", "--host", host, "--db", f"sqlite:///{tmp_path}/x.db")
    assert result.code == 1
    assert "loopback" in result.err

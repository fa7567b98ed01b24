"""Cross-site request forgery: the form token is bound to the login session (a token taken
with another session, or planted with a cookie, is refused), and a state-changing request
whose Origin or Referer names another site is refused whatever its token. With login off the
token stays bound to the browser's own cookie."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from newsdesk.desk import Desk
from newsdesk.web.guard import CSRF_COOKIE, SESSION_COOKIE

from .webapp import app_for, client, copy_db, csrf_of, make_user_db, settings_for

FOREIGN = "this request came from another site"


@pytest.fixture(scope="module")
def user_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_user_db(tmp_path_factory.mktemp("csrf"))


@pytest.fixture
def desk(user_db: Path, tmp_path: Path) -> Iterator[Desk]:
    desk = Desk(settings_for(copy_db(user_db, tmp_path)))
    yield desk
    desk.close()


@pytest.fixture
def app(desk: Desk) -> Starlette:
    return app_for(desk)


def _session(desk: Desk) -> str:
    user = desk.store.users.get_user()
    assert user is not None
    return desk.store.users.create_session(user.id, timedelta(hours=1))


async def _save(c: httpx.AsyncClient, token: str, **headers: str) -> httpx.Response:
    data = {"csrf_token": token, "name": "planted", "q": "x"}
    return await c.post("/saved-searches", data=data, headers=headers)


async def test_a_token_taken_with_another_cookie_is_refused_in_a_session(
    app: Starlette, desk: Desk
) -> None:
    # The attacker visits the login page and keeps its CSRF cookie and token...
    async with client(app) as attacker:
        page = await attacker.get("/login")
        seed, token = attacker.cookies[CSRF_COOKIE], csrf_of(page.text)
    # ...then plants that cookie in the victim's browser (a sibling subdomain can).
    async with client(app) as victim:
        victim.cookies.set(SESSION_COOKIE, _session(desk))
        victim.cookies.set(CSRF_COOKIE, seed)
        answer = await _save(victim, token)
    assert answer.status_code == 403


async def test_a_token_from_another_session_is_refused(app: Starlette, desk: Desk) -> None:
    async with client(app) as first:
        first.cookies.set(SESSION_COOKIE, _session(desk))
        token = csrf_of((await first.get("/")).text)
        seed = first.cookies[CSRF_COOKIE]
    async with client(app) as second:
        second.cookies.set(SESSION_COOKIE, _session(desk))
        second.cookies.set(CSRF_COOKIE, seed)
        assert (await _save(second, token)).status_code == 403
    async with client(app) as again:  # the same session, in another browser: still its token
        again.cookies.set(SESSION_COOKIE, first.cookies[SESSION_COOKIE])
        assert (await _save(again, token)).status_code == 303


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://localhost.evil.example"},
        {"Origin": "http://localhost:9999"},
        {"Origin": "null"},
        {"Referer": "http://evil.example/page"},
    ],
)
async def test_a_foreign_origin_is_refused_even_with_a_good_token(
    app: Starlette, desk: Desk, headers: dict[str, str]
) -> None:
    async with client(app) as c:
        c.cookies.set(SESSION_COOKIE, _session(desk))
        token = csrf_of((await c.get("/")).text)
        answer = await _save(c, token, **headers)
    assert answer.status_code == 403
    assert FOREIGN in answer.text
    assert answer.headers["content-security-policy"]


@pytest.mark.parametrize(
    "headers", [{}, {"Origin": "http://localhost"}, {"Referer": "http://localhost/search?q=x"}]
)
async def test_our_own_origin_passes(app: Starlette, desk: Desk, headers: dict[str, str]) -> None:
    async with client(app) as c:
        c.cookies.set(SESSION_COOKIE, _session(desk))
        token = csrf_of((await c.get("/")).text)
        assert (await _save(c, token, **headers)).status_code == 303


async def test_the_login_form_refuses_a_foreign_origin(app: Starlette) -> None:
    async with client(app) as c:
        token = csrf_of((await c.get("/login")).text)
        form = {"csrf_token": token, "username": "admin", "password": "x"}
        answer = await c.post("/login", data=form, headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403 and FOREIGN in answer.text


async def test_with_login_off_the_token_still_works_and_origin_is_checked(
    tmp_path: Path,
) -> None:
    desk = Desk(settings_for(tmp_path / "n.db"))
    try:
        app = app_for(desk, no_auth=True)
        async with client(app) as c:
            token = csrf_of((await c.get("/")).text)
            assert (await _save(c, token)).status_code == 303
            foreign = await _save(c, token, Origin="http://evil.example")
            assert foreign.status_code == 403
        async with client(app) as other:  # another browser: its own cookie, its own token
            await other.get("/")
            assert (await _save(other, token)).status_code == 403
    finally:
        desk.close()


async def test_a_listed_public_name_is_our_origin_behind_a_proxy_that_rewrites_host(
    user_db: Path, tmp_path: Path
) -> None:
    desk = Desk(settings_for(copy_db(user_db, tmp_path), allowed_hosts="news.example.org"))
    try:
        async with client(app_for(desk), base="http://127.0.0.1:8000") as c:
            c.cookies.set(SESSION_COOKIE, _session(desk))
            token = csrf_of((await c.get("/")).text)
            ours = await _save(c, token, Origin="https://news.example.org")
            assert ours.status_code == 303
            theirs = await _save(c, token, Origin="https://evil.example")
            assert theirs.status_code == 403
    finally:
        desk.close()

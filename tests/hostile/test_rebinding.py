"""DNS rebinding: a hostile page whose name is made to point at 127.0.0.1 talks to the server
with its own name in ``Host``. Whenever login is off (``--no-auth``, ``--demo``) or no user
exists yet (``/setup`` open to whoever comes first), only loopback names and the names listed
in ``allowed_hosts`` are answered; any other name gets our own 4xx page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from newsdesk.desk import Desk

from .webapp import app_for, client, copy_db, csrf_of, make_user_db, settings_for

WRONG_HOST = "does not answer to the name"
LOOPBACK_NAMES = ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000", "127.0.0.1"]
HOSTILE_NAMES = ["evil.example", "evil.example:8000", "localhost.evil.example", "127.0.0.1.nip.io"]


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Desk]:
    """A fresh install: no user yet."""
    desk = Desk(settings_for(tmp_path / "n.db"))
    yield desk
    desk.close()


@pytest.mark.parametrize("host", HOSTILE_NAMES)
async def test_login_off_refuses_a_foreign_host(fresh: Desk, host: str) -> None:
    async with client(app_for(fresh, no_auth=True)) as c:
        for path in ("/", "/subscriptions", "/opml", "/static/app.css"):
            answer = await c.get(path, headers={"Host": host})
            assert answer.status_code == 421, path
            assert WRONG_HOST in answer.text
            assert answer.headers["content-security-policy"]
            assert "set-cookie" not in answer.headers  # no CSRF cookie handed out


@pytest.mark.parametrize("host", LOOPBACK_NAMES)
async def test_login_off_answers_loopback_names(fresh: Desk, host: str) -> None:
    async with client(app_for(fresh, no_auth=True)) as c:
        assert (await c.get("/", headers={"Host": host})).status_code == 200


async def test_first_run_setup_cannot_be_claimed_through_a_foreign_host(fresh: Desk) -> None:
    app = app_for(fresh)
    async with client(app, base="http://evil.example:8000") as c:
        page = await c.get("/setup")
        assert page.status_code == 421 and WRONG_HOST in page.text
        form = {"username": "admin", "password": "a long password", "confirm": "a long password"}
        assert (await c.post("/setup", data=form)).status_code == 421
    assert not fresh.store.users.has_users()
    async with client(app) as local:  # the owner, on loopback, still can
        token = csrf_of((await local.get("/setup")).text)
        answer = await local.post("/setup", data={**form, "csrf_token": token})
        assert answer.status_code == 303
    assert fresh.store.users.has_users()


async def test_allowed_hosts_admits_the_public_name(tmp_path: Path) -> None:
    desk = Desk(settings_for(tmp_path / "n.db", allowed_hosts="desk.example.org"))
    try:
        async with client(app_for(desk), base="https://desk.example.org") as c:
            assert (await c.get("/setup")).status_code == 200
        async with client(app_for(desk), base="http://evil.example") as c:
            assert (await c.get("/setup")).status_code == 421
    finally:
        desk.close()


async def test_with_a_user_and_login_on_any_name_is_served_unless_names_are_listed(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    db = copy_db(make_user_db(tmp_path_factory.mktemp("rebind")), tmp_path)
    desk = Desk(settings_for(db))
    try:
        async with client(app_for(desk), base="http://newsdesk.lan") as c:
            assert (await c.get("/login")).status_code == 200
    finally:
        desk.close()
    desk = Desk(settings_for(db, allowed_hosts="news.example.org, .example.net"))
    try:
        app = app_for(desk)
        for base, status in [
            ("http://newsdesk.lan", 421),
            ("https://news.example.org", 200),
            ("https://a.example.net", 200),
            ("http://localhost:8000", 200),
        ]:
            async with client(app, base=base) as c:
                assert (await c.get("/login")).status_code == status, base
    finally:
        desk.close()

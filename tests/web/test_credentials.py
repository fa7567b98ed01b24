"""A copy of the database is not a credential (issue 12).

The database holds no Fever key (only, while Fever is on, an HMAC of it under a server key kept
in a file outside the database), Fever is off until the user turns it on, a Google Reader token
cannot be made from what a copy holds, and the syndication key can be rotated — from the CLI
and from the Account page.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from newsdesk.desk import Desk
from newsdesk.settings import Settings, load_settings
from newsdesk.store import open_store
from newsdesk.web.app import create_app

from .session import PASSWORD, Browser

MD5_KEY = hashlib.md5(f"admin:{PASSWORD}".encode()).hexdigest()


def _settings(db: Path) -> Settings:
    return load_settings(env={}, database_url=f"sqlite:///{db}", allow_private_networks=True)


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost")


def _everything_stored(db: Path) -> str:
    """Every value of every row of every table, as text: what a backup hands out."""
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        values = [
            str(value)
            for name in tables
            if not name.startswith("entries_fts")
            for row in conn.execute(f'SELECT * FROM "{name}"')
            for value in row
        ]
    finally:
        conn.close()
    return "\n".join(values)


@pytest.fixture
def desk_with_user(tmp_path: Path) -> Any:
    settings = _settings(tmp_path / "newsdesk.db")
    desk = Desk(settings)
    desk.store.users.set_password("admin", PASSWORD)
    yield desk
    desk.close()


async def _fever(client: httpx.AsyncClient, key: str = MD5_KEY) -> int:
    """Fever's ``auth``: 1, or 0 for a refused key (answered 200, as Fever clients expect)."""
    answer = await client.post("/fever/?api", data={"api_key": key})
    assert answer.status_code == 200
    return int(answer.json()["auth"])


def test_the_database_holds_no_fever_key(
    desk_with_user: Desk, tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = _everything_stored(tmp_path / "newsdesk.db")
    assert MD5_KEY not in stored
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    result = cli("user", "fever", "on", "--db", f"sqlite:///{tmp_path / 'newsdesk.db'}")
    assert result.code == 0, result.err
    assert MD5_KEY not in _everything_stored(tmp_path / "newsdesk.db")
    key_file = tmp_path / "newsdesk.db.key"
    assert key_file.exists() and key_file.stat().st_mode & 0o077 == 0


async def test_fever_is_off_until_the_user_turns_it_on(
    desk_with_user: Desk, tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 'newsdesk.db'}"
    app = create_app(desk_with_user.settings, desk=desk_with_user)
    async with _client(app) as client:
        assert await _fever(client) == 0
        monkeypatch.setattr(sys, "stdin", io.StringIO("not the password\n"))
        refused = cli("user", "fever", "on", "--db", db)
        assert refused.code == 1 and "wrong password" in refused.err
        assert await _fever(client) == 0
        monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
        assert cli("user", "fever", "on", "--db", db).code == 0
        assert await _fever(client) == 1
        assert await _fever(client, "0" * 32) == 0
        # A new password: Fever stays on, with the key the new password makes.
        monkeypatch.setattr(sys, "stdin", io.StringIO("another fine password\n"))
        assert cli("user", "set-password", "--db", db).code == 0
        assert await _fever(client) == 0
        new_key = hashlib.md5(b"admin:another fine password").hexdigest()
        assert await _fever(client, new_key) == 1
        assert cli("user", "fever", "off", "--db", db).code == 0
        assert await _fever(client, new_key) == 0


async def test_a_reader_token_made_from_a_copy_is_refused(
    desk_with_user: Desk, tmp_path: Path
) -> None:
    """Whoever holds a copy of the database (not the key file) runs their own Newsdesk on it
    and logs in there: the token they get must not open the real server."""
    login = {"Email": "admin", "Passwd": PASSWORD, "output": "json"}
    app = create_app(desk_with_user.settings, desk=desk_with_user)
    async with _client(app) as client:
        # The server has been in use (its secrets made) when the copy is taken.
        own = (await client.post("/accounts/ClientLogin", data=login)).json()["Auth"]
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("newsdesk.db", "newsdesk.db-wal", "newsdesk.db-shm"):  # not the key file
        if (tmp_path / name).exists():
            shutil.copyfile(tmp_path / name, copy / name)
    thief_desk = Desk(_settings(copy / "newsdesk.db"))
    try:
        async with _client(create_app(thief_desk.settings, desk=thief_desk)) as thief:
            stolen = (await thief.post("/accounts/ClientLogin", data=login)).json()["Auth"]
    finally:
        thief_desk.close()
    async with _client(app) as client:
        for token, status in ((own, 200), (stolen, 401)):
            answer = await client.get(
                "/reader/api/0/user-info", headers={"Authorization": f"GoogleLogin auth={token}"}
            )
            assert answer.status_code == status, token


def test_migration_7_drops_the_clear_fever_key(tmp_path: Path) -> None:
    """A database of version 6 (fever_key column, md5 in clear) comes out with Fever off and
    the md5 gone. Made from the bundled version-10 database (tests/data, made by version 10's
    code), its users table set back to version 6's."""
    from newsdesk.store.migrations import MIGRATIONS

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.executescript((Path(__file__).parents[1] / "data" / "version10.sqlite.sql").read_text())
    conn.close()  # the dump writes its FTS5 table into the schema: read it afresh
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE users DROP COLUMN fever_verifier")
    conn.execute("ALTER TABLE users ADD COLUMN fever_key VARCHAR(32) NOT NULL DEFAULT ''")
    conn.execute("UPDATE users SET fever_key = ? WHERE username = 'alice'", (MD5_KEY,))
    conn.execute("UPDATE schema_version SET version = 6")
    conn.commit()
    conn.close()
    store = open_store(f"sqlite:///{db}")
    people = store.users.list_users()
    store.close()
    assert [(u.username, u.role, u.fever) for u in people] == [
        ("alice", "admin", False),
        ("bob", "admin", False),
    ]
    conn = sqlite3.connect(db)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(users)")]
    version = conn.execute("SELECT version FROM schema_version").fetchone()[0]
    conn.close()
    assert "fever_key" not in columns and "fever_verifier" in columns
    assert version == len(MIGRATIONS) >= 7
    assert MD5_KEY not in _everything_stored(db)


async def test_the_account_page_turns_fever_on_and_off(user: Browser, desk: Desk) -> None:
    page = await user.get("/account")
    assert page.status_code == 200 and "Fever" in page.text
    wrong = await user.post("/account/fever", {"fever": "on", "password": "nope nope nope"})
    assert wrong.status_code == 400 and "wrong password" in wrong.text
    done = await user.post("/account/fever", {"fever": "on", "password": PASSWORD})
    assert done.status_code == 303
    assert await _fever(user.client) == 1
    await user.post("/account/fever", {"fever": "off"})
    assert await _fever(user.client) == 0


async def test_the_syndication_key_rotates_from_the_account_page(user: Browser, desk: Desk) -> None:
    page = (await user.get("/account")).text
    old = page.split("?key=", 1)[1][:32]
    anon = httpx.AsyncClient(transport=user.client._transport, base_url="http://localhost")  # type: ignore[attr-defined]
    async with anon:
        assert (await anon.get(f"/syndicate/all.atom?key={old}")).status_code == 200
        assert (await user.post("/account/syndication-key")).status_code == 303
        assert (await anon.get(f"/syndicate/all.atom?key={old}")).status_code == 401
        new = (await user.get("/account")).text.split("?key=", 1)[1][:32]
        assert new != old
        assert (await anon.get(f"/syndicate/all.atom?key={new}")).status_code == 200


async def test_the_syndication_key_rotates_from_the_cli(
    user: Browser, desk: Desk, cli: Any
) -> None:
    old = (await user.get("/account")).text.split("?key=", 1)[1][:32]
    result = cli("syndication", "rotate-key", "--db", desk.settings.resolved_database_url)
    assert result.code == 0, result.err
    new = result.out.split("?key=", 1)[1][:32]
    assert new != old
    app = create_app(desk.settings, desk=desk)  # a server started after the rotation
    async with _client(app) as anon:
        assert (await anon.get(f"/syndicate/all.atom?key={old}")).status_code == 401
        assert (await anon.get(f"/syndicate/all.atom?key={new}")).status_code == 200


def test_an_older_export_with_the_clear_fever_key_imports_with_fever_off(
    desk_with_user: Desk, tmp_path: Path
) -> None:
    """An export made before migration 7 carries users.fever_key: it still imports, and the
    md5 does not come back."""
    import json

    lines: list[str] = []
    for line in desk_with_user.store.portable.export_lines():
        record = json.loads(line)
        if record.get("table") == "users":
            record["row"]["fever_key"] = MD5_KEY
            record["row"].pop("fever_verifier", None)
        lines.append(json.dumps(record))
    target = open_store(f"sqlite:///{tmp_path / 'target.db'}")
    try:
        target.portable.import_all(lines)
        user = target.users.get_user("admin")
        assert user is not None and not user.fever
    finally:
        target.close()
    assert MD5_KEY not in _everything_stored(tmp_path / "target.db")

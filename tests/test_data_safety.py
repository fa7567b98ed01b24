"""Data safety: `newsdesk backup` (SQLite online backup, verified; pg_dump command for
PostgreSQL) and `newsdesk export-all` / `import-all` (JSON Lines, lossless: the round trip is
compared table by table, row by row, across SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import stat
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from newsdesk.demo.server import SampleServer
from newsdesk.errors import StoreError
from newsdesk.refresh import refresh_sync
from newsdesk.settings import Settings
from newsdesk.store import EntryQuery, SqlStore, open_store
from newsdesk.store.backup import backup
from newsdesk.store.portable import data_tables

POSTGRES_URL = os.environ.get("NEWSDESK_TEST_POSTGRES_URL")


def _postgres_database() -> Iterator[str]:
    """A fresh database on the test server, dropped afterwards."""
    import psycopg

    assert POSTGRES_URL
    name = f"newsdesk_portable_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_URL.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _populate(url: str, seed: SampleServer, social: SampleServer) -> None:
    """A desk with something in every table: feeds in categories, entries with links, tags,
    pages and expanded links, read and starred state, a user, a session, an API token."""
    store = open_store(url)
    try:
        for server, paths in ((seed, SEED_PATHS), (social, SOCIAL_PATHS)):
            for path in paths:
                store.add_feed(server.base + path, category="Über ✓" if "nitter" in path else None)
        settings = Settings(database_url=url, allow_private_networks=True)
        refresh_sync(store, settings)
        ids = [e.id for e in store.list_entries(EntryQuery(limit=1000))]
        store.set_flags(ids[::3], read=True)
        store.set_flags(ids[::5], starred=True)
        store.update_feed(store.list_feeds()[0].id, custom_title="Mine 🗞", check_interval=900)
        _add_people(store)
    finally:
        store.close()


def _add_people(store: SqlStore) -> None:
    """A second person (issue 15) with something in every per-person table: a subscription of
    their own title, entry states, a label, a saved search, an API key, a category shared with
    them; Fever, two-factor and preferences set on them; a login session."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert, update

    from newsdesk.store.schema import category_shares, entry_labels, saved_searches, users

    store.users.set_password("editor", "a long and careful passphrase")
    user = store.users.get_user("editor")
    assert user is not None
    store.users.create_session(user.id, timedelta(days=1))
    store.users.logged_in(user.id)
    store.users.server_secret("csrf")
    store.tokens.create_token("reader app")
    editor = store.as_person(user.id)
    editor.tokens.create_token("editor's app")
    feed = store.list_feeds()[-1]
    editor.add_feed(feed.url, category="Desk")
    editor.update_feed(feed.id, custom_title="Editor's 🗞")
    ids = [e.id for e in editor.list_entries(EntryQuery(limit=1000))]
    editor.set_flags(ids[::2], read=True)
    editor.set_flags(ids[:3], starred=True)
    now = datetime.now(UTC)
    shared_id = store.categories()[0][0]
    with store.engine.begin() as conn:
        conn.execute(insert(entry_labels).values(user_id=user.id, entry_id=ids[0], label="Keep"))
        conn.execute(
            insert(saved_searches).values(
                user_id=user.id, name="mine", query="the", filters={}, created_at=now
            )
        )
        conn.execute(
            insert(category_shares).values(
                category_id=shared_id, user_id=user.id, can_manage=True, created_at=now
            )
        )
        conn.execute(
            update(users)
            .where(users.c.id == user.id)
            .values(
                fever_verifier="f" * 64,
                totp_secret="sealed-secret",
                recovery_codes=["a" * 64, "b" * 64],
                preferences={"river": "compact", "émoji": "✓"},
            )
        )


SEED_PATHS = ("/feeds/mikenov.rss", "/feeds/favorites.atom")
SOCIAL_PATHS = ("/feeds/nitter.rss", "/feeds/mastodon.rss", "/feeds/bluesky.rss")


def _dump(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every data table, ordered by primary key, values normalised for
    comparison across databases."""
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            found: dict[str, list[dict[str, Any]]] = {}
            for table in data_tables(conn):
                columns = [c for c in table.columns if c.computed is None]
                order = list(table.primary_key.columns) or columns
                rows = conn.execute(select(*columns).order_by(*order))
                found[table.name] = [
                    {c.name: _normal(v) for c, v in zip(columns, row, strict=True)} for row in rows
                ]
            return found
    finally:
        store.close()


def _normal(value: Any) -> Any:
    from datetime import datetime

    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _round_trip(source: str, target: str) -> None:
    out = io.StringIO()
    report = open_store(source).portable.export_all(out)
    assert report.total > 0
    store = open_store(target)
    try:
        imported = store.portable.import_all(io.StringIO(out.getvalue()))
    finally:
        store.close()
    assert imported.rows == {k: v for k, v in report.rows.items() if v}
    before, after = _dump(source), _dump(target)
    assert before.keys() == after.keys()
    for name in before:
        assert before[name] == after[name], f"table {name} differs after the round trip"
    for expected in (
        *("feeds", "categories", "entries", "entry_links", "entry_tags", "pages", "users"),
        *("subscriptions", "entry_states", "entry_labels", "category_shares", "saved_searches"),
        "api_tokens",
    ):
        assert before[expected], f"the test data has no {expected}"


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One populated desk for the module (tests only read it)."""
    from newsdesk.demo import SEED_DIR, SOCIAL_DIR

    url = f"sqlite:///{tmp_path_factory.mktemp('portable')}/source.db"
    seed, social = SampleServer(SEED_DIR).start(), SampleServer(SOCIAL_DIR).start()
    try:
        _populate(url, seed, social)
    finally:
        seed.stop()
        social.stop()
    yield url


def test_export_import_round_trip_is_lossless(populated: str, tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path}/target.db"
    _round_trip(populated, target)
    store = open_store(target)
    try:
        assert store.search("the", EntryQuery()), "the search index was rebuilt"
        feed = store.add_feed("http://example.com/new-feed")  # ids continue past the import
        assert feed.id > max(f.id for f in store.list_feeds() if f.id != feed.id)
    finally:
        store.close()


@pytest.mark.skipif(not POSTGRES_URL, reason="NEWSDESK_TEST_POSTGRES_URL is not set")
def test_round_trip_through_postgresql_and_back(populated: str, tmp_path: Path) -> None:
    databases = _postgres_database()
    pg = next(databases)
    try:
        _round_trip(populated, pg)
        _round_trip(pg, f"sqlite:///{tmp_path}/back.db")
        store = open_store(pg)
        try:
            assert store.search("the", EntryQuery())
            feed = store.add_feed("http://example.com/new-feed")  # sequences moved on
            assert feed.id > 1
        finally:
            store.close()
    finally:
        databases.close()


def test_a_truncated_export_imports_nothing(populated: str, tmp_path: Path) -> None:
    out = io.StringIO()
    open_store(populated).portable.export_all(out)
    lines = out.getvalue().splitlines(keepends=True)
    target = f"sqlite:///{tmp_path}/target.db"
    for cut in (len(lines) - 1, len(lines) // 2, 1):
        store = open_store(target)
        try:
            with pytest.raises(StoreError, match=r"nothing was imported|incomplete"):
                store.portable.import_all(lines[:cut])
            assert store.list_feeds() == []
        finally:
            store.close()


def test_an_altered_export_imports_nothing(populated: str, tmp_path: Path) -> None:
    out = io.StringIO()
    open_store(populated).portable.export_all(out)
    lines = out.getvalue().splitlines(keepends=True)
    duplicate = [*lines[:3], lines[2], *lines[3:]]  # a feed row twice: a constraint breaks
    store = open_store(f"sqlite:///{tmp_path}/target.db")
    try:
        with pytest.raises(StoreError):
            store.portable.import_all(duplicate)
        with pytest.raises(StoreError, match="not JSON"):
            store.portable.import_all([lines[0], "{oops\n", lines[-1]])
        with pytest.raises(StoreError, match="not a Newsdesk export"):
            store.portable.import_all(['{"hello": 1}\n'])
        assert store.list_feeds() == []
    finally:
        store.close()


def test_import_refuses_a_database_that_has_data(populated: str) -> None:
    out = io.StringIO()
    open_store(populated).portable.export_all(out)
    store = open_store(populated)
    try:
        with pytest.raises(StoreError, match="not empty"):
            store.portable.import_all(io.StringIO(out.getvalue()))
    finally:
        store.close()


def test_cli_export_all_and_import_all(populated: str, tmp_path: Path, cli: Any) -> None:
    path = tmp_path / "all.jsonl"
    result = cli("export-all", "--output", str(path), "--db", populated)
    assert result.code == 0, result.err
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds password hashes
    header = json.loads(path.read_text().splitlines()[0])
    assert header["newsdesk_export"] == 1
    again = cli("export-all", "--output", str(path), "--db", populated)
    assert again.code == 1 and "exists" in again.err
    target = f"sqlite:///{tmp_path}/target.db"
    result = cli("import-all", str(path), "--db", target)
    assert result.code == 0, result.err
    assert "imported" in result.out
    assert cli("import-all", str(tmp_path / "missing.jsonl"), "--db", target).code == 1
    assert _dump(populated) == _dump(target)


def test_backup_while_a_writer_is_busy(populated: str, tmp_path: Path) -> None:
    """The online backup copies a consistent database while another connection writes."""
    source = populated.split("sqlite:///", 1)[1]
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        conn = sqlite3.connect(source, timeout=30)
        n = 0
        while not stop.is_set():
            with conn:
                conn.execute("UPDATE entries SET read = NOT read WHERE id = ?", (n % 20 + 1,))
            n += 1
        written.append(n)
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        copies = [backup(populated, tmp_path / f"copy{i}.db") for i in range(3)]
    finally:
        stop.set()
        thread.join()
    assert written and written[0] > 0
    for copy in copies:
        assert copy.path is not None and copy.size > 0
        conn = sqlite3.connect(copy.path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        finally:
            conn.close()
        assert stat.S_IMODE(copy.path.stat().st_mode) == 0o600
        restored = open_store(f"sqlite:///{copy.path}")
        try:
            assert restored.count_entries(EntryQuery()) == open_store(populated).count_entries(
                EntryQuery()
            )
        finally:
            restored.close()


def test_backup_cli(populated: str, tmp_path: Path, cli: Any) -> None:
    dest = tmp_path / "backup.db"
    result = cli("backup", str(dest), "--db", populated)
    assert result.code == 0, result.err
    assert "integrity check ok" in result.out and dest.exists()
    again = cli("backup", str(dest), "--db", populated)
    assert again.code == 1 and "--force" in again.err
    assert cli("backup", str(dest), "--force", "--db", populated).code == 0
    same = cli("backup", populated.split("sqlite:///", 1)[1], "--force", "--db", populated)
    assert same.code == 1
    nowhere = cli("backup", str(tmp_path / "no" / "such" / "dir.db"), "--db", populated)
    assert nowhere.code == 1 and "does not exist" in nowhere.err


def test_backup_of_postgresql_prints_the_pg_dump_command(tmp_path: Path, cli: Any) -> None:
    url = "postgresql://news:secret@db.example:5433/newsdesk"
    result = backup(url, tmp_path / "n.dump")
    assert result.path is None
    assert result.command == (
        f"pg_dump --format=custom --file={tmp_path / 'n.dump'} "
        "postgresql://news:secret@db.example:5433/newsdesk"
    )
    assert not (tmp_path / "n.dump").exists()


_TEAM_ONLY = {"subscriptions", "entry_states", "entry_labels", "category_shares"}
_OWNED = {"categories", "saved_searches", "api_tokens", "watchlists"}
_USER_TEAM_COLUMNS = ("role", "last_login_at", "totp_secret", "recovery_codes", "preferences")


def _as_schema_10(lines: list[str], owner: int, *, people: bool = True) -> list[str]:
    """An export as Newsdesk wrote it before teams (schema 10): one person's state on the feeds
    and entries (``owner``'s here), labels as ``Label:`` tags, nothing owned by anyone;
    without ``people``, a desk that had no account."""
    records = [json.loads(line) for line in lines]
    header, body = records[0], records[1:-1]
    rows: dict[str, list[dict[str, Any]]] = {}
    for record in body:
        rows.setdefault(record["table"], []).append(record["row"])
    mine = {s["feed_id"]: s for s in rows.get("subscriptions", []) if s["user_id"] == owner}
    state = {s["entry_id"]: s for s in rows.get("entry_states", []) if s["user_id"] == owner}
    for feed in rows["feeds"]:
        sub = mine.get(feed["id"], {})
        feed.update(custom_title=sub.get("title"), category_id=sub.get("category_id"))
    for entry in rows["entries"]:
        got = state.get(entry["id"], {})
        for flag in ("read", "starred"):
            entry[flag] = bool(got.get(flag, False))
            entry[f"{flag}_at"] = got.get(f"{flag}_at")
    rows["entry_tags"] += [
        {"entry_id": label["entry_id"], "tag": "Label:" + label["label"]}
        for label in rows.get("entry_labels", [])
    ]
    for name in _OWNED & rows.keys():
        for row in rows[name]:
            row.pop("user_id")
    for row in rows["users"]:
        for column in _USER_TEAM_COLUMNS:
            row.pop(column)
    dropped = _TEAM_ONLY | (set() if people else {"users", "web_sessions"})
    kept = {name: found for name, found in rows.items() if name not in dropped}
    out = [{**header, "schema_version": 10}]
    out += [{"table": name, "row": row} for name, found in kept.items() for row in found]
    out.append({"end": True, "rows": {name: len(found) for name, found in kept.items()}})
    return [json.dumps(record) + "\n" for record in out]


def _export_lines(url: str) -> list[str]:
    out = io.StringIO()
    open_store(url).portable.export_all(out)
    return out.getvalue().splitlines(keepends=True)


def _view(store: SqlStore) -> tuple[list[Any], list[Any]]:
    feeds = [(f.url, f.display_title, f.category) for f in store.list_feeds()]
    entries = [(e.id, e.read, e.starred) for e in store.list_entries(EntryQuery(limit=1000))]
    return feeds, entries


def test_an_export_from_before_teams_goes_to_the_first_admin(
    populated: str, store_url: str
) -> None:
    """A single-user export (schema 10) imports as migration 11 would make it: its first account
    (an admin, as every account) owns every feed, category, search and key, with the read and
    starred state and the labels the export had."""
    from newsdesk.store.schema import api_tokens, entry_labels, entry_tags, saved_searches

    source = open_store(populated)
    try:
        owner = source.users.person(None)
        expected = _view(source.as_person(owner.id))
    finally:
        source.close()
    assert any(read for _, read, _ in expected[1]) and any(star for *_, star in expected[1])
    old = _as_schema_10(_export_lines(populated), owner.id)
    target = open_store(store_url)
    try:
        target.portable.import_all(old)
        people = target.users.list_users()
        assert {p.role for p in people} == {"admin"}
        first = target.users.person(None)
        assert (first.id, first.username) == (owner.id, owner.username)
        assert _view(target.as_person(first.id)) == expected
        editor = target.users.person("editor")
        assert target.as_person(editor.id).list_feeds() == []
        with target.engine.connect() as conn:
            for table in (saved_searches, api_tokens):
                assert set(conn.execute(select(table.c.user_id)).scalars()) == {first.id}
            labels = conn.execute(select(entry_labels.c.user_id, entry_labels.c.label)).all()
            assert labels == [(first.id, "Keep")]
            tags = conn.execute(select(entry_tags.c.tag)).scalars()
            assert not [t for t in tags if t.startswith("Label:")]
    finally:
        target.close()


def test_an_export_from_before_teams_without_an_account(populated: str, tmp_path: Path) -> None:
    """A desk that never had an account: the import makes its admin (no password yet), who
    owns everything."""
    source = open_store(populated)
    try:
        owner = source.users.person(None)
        expected = _view(source.as_person(owner.id))
    finally:
        source.close()
    old = _as_schema_10(_export_lines(populated), owner.id, people=False)
    target = open_store(f"sqlite:///{tmp_path}/target.db")
    try:
        target.portable.import_all(old)
        (admin,) = target.users.list_users()
        assert (admin.username, admin.role, admin.has_password) == ("admin", "admin", False)
        assert _view(target.as_person(admin.id)) == expected
        assert not target.users.has_users()  # the first-run page, as on a new desk
    finally:
        target.close()

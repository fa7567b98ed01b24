"""`newsdesk token create NAME`, `token list`, `token revoke NAME|ID`: the key is printed once,
only its hash is stored, and a revoked key stops working."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from newsdesk.store import open_store
from newsdesk.store.schema import api_tokens
from newsdesk.store.tokens import hash_key


def test_token_commands(cli: Any, sqlite_url: str) -> None:
    made = cli("token", "create", "phone", "--db", sqlite_url)
    assert made.code == 0, made.err
    key = made.out.split()[-1]
    assert key.startswith("nd_") and len(key) > 40
    assert "shown only once" in made.err

    store = open_store(sqlite_url)
    try:
        with store.engine.connect() as conn:
            stored = conn.execute(select(api_tokens.c.token_hash, api_tokens.c.name)).all()
        assert stored == [(hash_key(key), "phone")]
        assert key not in str(stored)
        assert store.tokens.token_for_key(key) is not None
    finally:
        store.close()

    as_json = cli("token", "create", "tablet", "--json", "--db", sqlite_url).json()
    assert as_json["name"] == "tablet" and as_json["key"].startswith("nd_")
    listed = cli("token", "list", "--json", "--db", sqlite_url).json()
    assert [t["name"] for t in listed] == ["phone", "tablet"]
    assert all("key" not in t for t in listed)

    twice = cli("token", "create", "phone", "--db", sqlite_url)
    assert twice.code == 1 and "already exists" in twice.err
    digits = cli("token", "create", "123", "--db", sqlite_url)
    assert digits.code == 1

    by_name = cli("token", "revoke", "phone", "--db", sqlite_url)
    assert by_name.code == 0 and "phone" in by_name.out
    by_id = cli("token", "revoke", str(as_json["id"]), "--db", sqlite_url)
    assert by_id.code == 0 and "tablet" in by_id.out
    missing = cli("token", "revoke", "phone", "--db", sqlite_url)
    assert missing.code == 1 and "no API key" in missing.err
    assert "no API keys yet" in cli("token", "list", "--db", sqlite_url).out

    store = open_store(sqlite_url)
    try:
        assert store.tokens.token_for_key(key) is None
    finally:
        store.close()

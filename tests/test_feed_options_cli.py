"""Per-feed control from the command line (issue 16): the real `newsdesk` command, run as a
process, against a loopback server that demands each option; secrets in no output and not in
the database file in clear."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feed_gate_server import GateServer, basic, demands
from routes_server import rss

pytestmark = pytest.mark.slow  # a dozen runs of the console script

ROOT = Path(__file__).resolve().parents[1]
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"
COOKIE = "session=cli-cookie-secret"
PASSWORD = "cli-password-secret"


@pytest.fixture
def gate() -> Iterator[GateServer]:
    server = GateServer()
    yield server
    server.stop()


def newsdesk(db: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
        ),
        "NEWSDESK_ALLOW_PRIVATE_NETWORKS": "1",
        "NEWSDESK_FULLTEXT": "0",
        "NEWSDESK_ICONS": "0",
    }
    env.pop("NEWSDESK_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "newsdesk", *args, "--db", db],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_each_option_from_the_command_line(gate: GateServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'newsdesk.db'}"
    browser = gate.route(
        "/ua.rss", demands(lambda h: h.get("user-agent") == BROWSER, rss("UA", 1, "ua"))
    )
    locked = gate.route(
        "/locked.rss",
        demands(lambda h: h.get("authorization") == basic("me", PASSWORD), rss("Lk", 1, "lk"), 401),
    )
    refused = newsdesk(db, "add", browser)
    assert refused.returncode != 0 and "403" in refused.stderr
    added = newsdesk(db, "add", browser, "--user-agent", BROWSER, "--interval", "45m")
    assert added.returncode == 0 and "added feed" in added.stdout, added.stderr
    private = newsdesk(
        db, "add", locked, "--username", "me", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert private.returncode == 0 and "private" in private.stdout, private.stderr

    feeds = _json(newsdesk(db, "feeds", "--json"))
    ua, lk = sorted(feeds, key=lambda f: f["id"])
    assert ua["options"]["user_agent"] == BROWSER and ua["check_interval"] == 2700
    assert lk["private"] is True and lk["options"]["password"] == "set"

    changed = _json(
        newsdesk(db, "feeds", str(ua["id"]), "--cookie", COOKIE, "--header", "X-A: 1", "--json")
    )
    assert changed[0]["options"]["cookie"] == "set" and changed[0]["options"]["headers"] == "set"
    shown = newsdesk(db, "feeds", str(ua["id"]))
    assert "cookie: set" in shown.stdout and "interval 2700 s" in shown.stdout
    bad = newsdesk(db, "feeds", str(ua["id"]), "--extract-body", "div[")
    assert bad.returncode != 0 and "bad CSS selector" in bad.stderr

    refreshed = newsdesk(db, "refresh")
    assert refreshed.returncode == 0, refreshed.stderr
    titles = {e["title"] for e in _json(newsdesk(db, "entries", "--json"))}
    assert titles == {"ua 0 of UA", "lk 0 of Lk"}

    cleared = _json(newsdesk(db, "feeds", str(ua["id"]), "--cookie", "", "--header", "", "--json"))
    assert cleared[0]["options"]["cookie"] is None and cleared[0]["options"]["headers"] is None

    everything = b"".join(
        p.read_bytes() for p in tmp_path.glob("newsdesk.db*") if p.suffix != ".key"
    )
    outputs = added.stdout + private.stdout + shown.stdout + json.dumps(feeds)
    for secret in (COOKIE, PASSWORD, "cli-cookie-secret", "cli-password-secret"):
        assert secret.encode() not in everything and secret not in outputs

"""A real reader app against a real ``newsdesk serve``: newsboat, once through the Miniflux API
(``urls-source "miniflux"``) and once through the Google Reader API: ``urls-source
"freshrss"`` (newsboat 2.22 and later) and ``urls-source "feedhq"`` (the Google Reader back end
of older newsboats, Debian 12's 2.21 among them), each run when the installed newsboat has it,
and each with the server's URL written as people write it: with and without a trailing slash
(newsboat then asks for ``//v1/…`` or ``//reader/…``). Feeds come from the sample server on
loopback; Newsdesk listens on loopback.

newsboat reloads and lists the unread entries (print-unread, and its cache); then newsboat
itself, driven through a pseudo-terminal, marks the first feed read (its `A` key), which must
show in Newsdesk's store; entries marked read through the API by other means show in newsboat
after its next reload."""

from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from newsdesk.store import EntryQuery, SqlStore, open_store

from .conftest import PASSWORD, USERNAME, Template, copy_database
from .server import newsdesk_serve

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("newsboat") is None, reason="newsboat is not installed"),
]


class Newsboat:
    def __init__(self, folder: Path, config: str) -> None:
        self.folder = folder
        (folder / "config").write_text(config)
        (folder / "urls").write_text("")

    def _env(self) -> dict[str, str]:
        return {
            "HOME": str(self.folder),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TERM": "dumb",
        }

    def _args(self) -> list[str]:
        return [
            "newsboat",
            "-C",
            str(self.folder / "config"),
            "-c",
            str(self.folder / "cache.db"),
            "-u",
            str(self.folder / "urls"),
        ]

    def run(self, *commands: str) -> str:
        done = subprocess.run(
            [*self._args(), "-x", *commands],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"newsboat failed: {done.stdout}\n{done.stderr}"
        return done.stdout

    def press(self, keys: bytes) -> None:
        """Start newsboat's interface in a pseudo-terminal, wait for its feed list, press
        ``keys`` then quit (q)."""
        pid, fd = pty.fork()
        if pid == 0:  # the child: become newsboat, and never return into pytest
            try:
                os.execvpe("newsboat", self._args(), {**self._env(), "TERM": "xterm"})
            finally:
                os._exit(127)
        screen = b""

        def read_until(marker: bytes, seconds: float) -> None:
            nonlocal screen
            deadline = time.monotonic() + seconds
            while marker not in screen and time.monotonic() < deadline:
                ready, _, _ = select.select([fd], [], [], 0.1)
                if ready:
                    try:
                        screen += os.read(fd, 65536)
                    except OSError:
                        return

        try:
            read_until(b"q:Quit", 30)
            assert b"q:Quit" in screen, screen[-500:]
            for key in keys:
                os.write(fd, bytes([key]))
                time.sleep(0.5)
            read_until(b"(0/", 15)
            os.write(fd, b"q")
            read_until(b"Cleaning up cache", 30)
        finally:
            deadline = time.monotonic() + 20
            while os.waitpid(pid, os.WNOHANG) == (0, 0):
                if time.monotonic() > deadline:  # newsboat hung: end it (our own child)
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    break
                time.sleep(0.1)
            os.close(fd)

    def unread_count(self) -> int:
        out = self.run("print-unread").strip()
        # "10 unread articles"
        return int(out.split()[0])

    def items(self) -> list[tuple[str, str, int]]:
        """(guid, title, unread) of every item in newsboat's cache."""
        with sqlite3.connect(self.folder / "cache.db") as conn:
            rows = conn.execute("SELECT guid, title, unread FROM rss_item ORDER BY guid").fetchall()
        return [(str(g), str(t), int(u)) for g, t, u in rows]


@pytest.fixture
def live(api_template: Template, tmp_path: Path) -> Iterator[tuple[str, SqlStore]]:
    """A served copy of the API tests' database, and the test's own look into it."""
    (tmp_path / "db").mkdir()
    db = copy_database(api_template, tmp_path / "db")
    with newsdesk_serve(db) as base:
        store = open_store(f"sqlite:///{db}")
        try:
            yield base, store
        finally:
            store.close()


def _titles(store: SqlStore) -> dict[int, str]:
    return {e.id: e.title or "" for e in store.list_entries(EntryQuery(limit=1000))}


# The URL as a person types it into newsboat's config: bare, or copied with its trailing slash.
SLASHES = pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "trailing-slash"])


@SLASHES
def test_newsboat_miniflux(live: tuple[str, SqlStore], tmp_path: Path, slash: str) -> None:
    base, store = live
    folder = tmp_path / "miniflux"
    folder.mkdir()
    client = Newsboat(
        folder,
        f'urls-source "miniflux"\nminiflux-url "{base}{slash}"\n'
        f'miniflux-login "{USERNAME}"\nminiflux-password "{PASSWORD}"\n',
    )
    stored = _titles(store)
    client.run("reload")
    assert client.unread_count() == len(stored)
    items = client.items()
    # newsboat keeps Miniflux entry ids as guids: every Newsdesk entry is listed, by title.
    assert {int(guid): title for guid, title, _ in items} == stored
    assert all(unread == 1 for _, _, unread in items)

    # Mark three entries read the way newsboat does (PUT /v1/entries, Basic auth).
    chosen = sorted(stored)[:3]
    answer = httpx.put(
        f"{base}/v1/entries",
        json={"entry_ids": chosen, "status": "read"},
        auth=(USERNAME, PASSWORD),
    )
    assert answer.status_code == 204
    assert {e.id for e in store.list_entries(EntryQuery(read=True, limit=100))} == set(chosen)

    client.run("reload")
    assert client.unread_count() == len(stored) - 3
    read_in_newsboat = {int(g) for g, _, unread in client.items() if not unread}
    assert read_in_newsboat == set(chosen)

    _newsboat_marks_first_feed_read(client, store)


def _newsboat_marks_first_feed_read(client: Newsboat, store: SqlStore, keys: bytes = b"A") -> None:
    """newsboat's `A` on the first feed of its list sends the API calls that mark it read
    (``keys`` first move to it where newsboat lists feeds of its own above ours)."""
    first = store.list_feeds()[0]
    assert store.count_entries(EntryQuery(feed_id=first.id, read=False)) > 0
    client.press(keys)
    assert store.count_entries(EntryQuery(feed_id=first.id, read=False)) == 0
    others = store.count_entries(EntryQuery(read=False))
    client.run("reload")
    assert client.unread_count() == others


def _supports(source: str, folder: Path) -> bool:
    """Whether the installed newsboat knows this ``urls-source``."""
    folder.mkdir(exist_ok=True)
    (folder / "config").write_text(f'urls-source "{source}"\n')
    done = subprocess.run(
        ["newsboat", "-C", str(folder / "config"), "-c", str(folder / "c.db"), "-x", "reload"],
        env={"HOME": str(folder), "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return "invalid configuration value" not in done.stdout + done.stderr


@SLASHES
@pytest.mark.parametrize("source", ["freshrss", "feedhq"])
def test_newsboat_google_reader(
    live: tuple[str, SqlStore], tmp_path: Path, source: str, slash: str
) -> None:
    base, store = live
    if not _supports(source, tmp_path / "probe"):
        pytest.skip(f'this newsboat has no urls-source "{source}"')
    folder = tmp_path / source
    folder.mkdir()
    client = Newsboat(
        folder,
        f'urls-source "{source}"\n{source}-url "{base}{slash}"\n'
        f'{source}-login "{USERNAME}"\n{source}-password "{PASSWORD}"\n',
    )
    stored = _titles(store)
    client.run("reload")
    assert client.unread_count() == len(stored)
    items = client.items()
    assert sorted(title for _, title, _ in items) == sorted(stored.values())
    assert all(guid.startswith("tag:google.com,2005:reader/item/") for guid, _, _ in items)

    # Mark two entries read as newsboat does: a token, then edit-tag with the long item ids.
    login = httpx.post(f"{base}/accounts/ClientLogin", data={"Email": USERNAME, "Passwd": PASSWORD})
    auth = login.text.split("Auth=", 1)[1].split()[0]
    headers = {"Authorization": f"GoogleLogin auth={auth}"}
    token = httpx.get(f"{base}/reader/api/0/token", headers=headers).text
    chosen = sorted(guid for guid, _, _ in items)[:2]
    for guid in chosen:
        answer = httpx.post(
            f"{base}/reader/api/0/edit-tag",
            headers=headers,
            content=(
                f"i={guid}&a=user/-/state/com.google/read&r=user/-/state/com.google/kept-unread"
                f"&ac=edit&T={token}"
            ),
        )
        assert answer.text == "OK"
    read_ids = {int(g.rsplit("/", 1)[1], 16) for g in chosen}
    assert {e.id for e in store.list_entries(EntryQuery(read=True, limit=100))} == read_ids

    client.run("reload")
    assert client.unread_count() == len(stored) - 2
    assert {g for g, _, unread in client.items() if not unread} == set(chosen)

    # newsboat's FeedHQ back end lists "People you follow", "Starred items" and "Shared
    # items" first: `n` moves to the first feed with unread entries, ours.
    _newsboat_marks_first_feed_read(client, store, b"nA" if source == "feedhq" else b"A")

"""The web process's lanes (``web.lanes``): a GET's store calls run one at a time, writes in a
lane of their own, and a page is served while a write waits for SQLite's write lock."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest
from jinja2 import Environment
from starlette.applications import Starlette
from starlette.requests import Request

from newsdesk.desk import Desk
from newsdesk.settings import Settings
from newsdesk.store import EntryQuery
from newsdesk.web.app import create_app
from newsdesk.web.lanes import WRITERS, Lanes, is_writing

from .session import Browser


class Overlap:
    """Counts how many calls run at once (the most seen)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def call(self, seconds: float) -> int:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(seconds)
        with self.lock:
            self.now -= 1
        return threading.get_ident()


def test_the_method_chooses_the_lane() -> None:
    assert not any(is_writing(m) for m in ("GET", "HEAD", "OPTIONS", "get"))
    assert all(is_writing(m) for m in ("POST", "PUT", "PATCH", "DELETE"))


async def test_reads_run_one_at_a_time() -> None:
    lanes, overlap = Lanes(), Overlap()
    await asyncio.gather(*(lanes.run(False, overlap.call, 0.02) for _ in range(6)))
    assert overlap.most == 1


async def test_writes_run_side_by_side() -> None:
    """Writes mostly wait (for the database's lock): they do not queue behind each other."""
    lanes = Lanes()
    together = threading.Barrier(3, timeout=5)  # breaks (an error) if they ran one by one
    await asyncio.gather(*(lanes.run(True, together.wait) for _ in range(3)))
    assert WRITERS >= 3


async def test_a_read_does_not_wait_for_a_waiting_write() -> None:
    lanes = Lanes()
    release = threading.Event()
    write = asyncio.ensure_future(lanes.run(True, release.wait, 10))
    await asyncio.sleep(0.05)
    assert await asyncio.wait_for(lanes.run(False, lambda: "read"), 5) == "read"
    assert not write.done()
    release.set()
    assert await asyncio.wait_for(write, 5) is True


async def test_a_new_event_loop_gets_new_limiters() -> None:
    """An app outlives an event loop in tests (one per client): its lanes follow the loop."""
    lanes = Lanes()
    assert await lanes.run(False, lambda: 1) == 1
    done = threading.Event()

    def other_loop() -> None:
        asyncio.run(lanes.run(False, lambda: 2))
        done.set()

    thread = threading.Thread(target=other_loop)
    thread.start()
    thread.join(5)
    assert done.is_set()
    assert await lanes.run(False, lambda: 3) == 3


def _request(method: str) -> Request:
    return Request({"type": "http", "method": method, "headers": [], "state": {}, "path": "/"})


def test_a_requests_context_takes_its_methods_lane(app: Starlette) -> None:
    ctx = app.state.ctx
    assert not ctx.for_request(_request("GET")).writing
    assert ctx.for_request(_request("POST")).writing
    assert ctx.for_request(_request("GET")).lanes is ctx.lanes
    api = ctx.api
    assert api is not None and api.lanes is ctx.lanes
    assert not api.for_request(_request("HEAD")).writing
    assert api.for_request(_request("DELETE")).writing


async def test_an_entry_page_does_not_wait_for_a_writer_to_mark_its_entry(
    user: Browser, desk: Desk
) -> None:
    """Another connection holds SQLite's write lock (as a refresh does while it commits): the
    entry page answers at once, its entry shown read; the person's next read is answered too;
    their next write (marking it unread again) waits for the mark, so it lands after it: the
    lock released, the entry is unread, as they left it."""
    first = desk.entries(EntryQuery(limit=1))[0]
    assert not first.read
    path = Path(desk.store.engine.url.database or "")
    holder = sqlite3.connect(path, timeout=30)
    holder.execute("BEGIN IMMEDIATE")
    try:
        page = await asyncio.wait_for(user.get(f"/entry/{first.id}"), 10)
        assert page.status_code == 200
        assert f'id="actions-{first.id}" data-read="1"' in page.text  # shown read
        assert not desk.store.get_entry(first.id).read  # not yet: the lock is held
        river = await asyncio.wait_for(user.get("/?show=all"), 10)  # a read: no wait
        assert river.status_code == 200
        unmark = asyncio.ensure_future(user.post(f"/entry/{first.id}/read", {"value": "0"}))
        await asyncio.sleep(0.3)
        assert not unmark.done()  # behind the mark, which waits for the lock
    finally:
        holder.rollback()
        holder.close()
    assert (await asyncio.wait_for(unmark, 20)).status_code in (200, 303)
    assert not desk.store.get_entry(first.id).read  # read, then unread: in that order


async def test_a_write_not_waited_for_is_waited_for_by_the_persons_next_writes() -> None:
    lanes = Lanes()
    release = threading.Event()
    page, next_page, other = object(), object(), object()
    task = lanes.start_write(7, page, release.wait, 10)
    assert await asyncio.wait_for(lanes.run(False, lambda: "own"), 5) == "own"
    await asyncio.wait_for(lanes.settle(7, page), 5)  # the request that started it: no wait
    await asyncio.wait_for(lanes.settle(8, other), 5)  # another person: no wait
    waiting = asyncio.ensure_future(lanes.settle(7, next_page))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    release.set()
    await asyncio.wait_for(waiting, 5)
    assert task.done() and task.result() is True
    await asyncio.wait_for(lanes.settle(7, next_page), 5)  # nothing left


async def test_drain_lets_unfinished_writes_end(caplog: pytest.LogCaptureFixture) -> None:
    lanes = Lanes()
    finished: list[int] = []

    def slow() -> None:
        time.sleep(0.2)
        finished.append(1)

    def broken() -> None:
        raise RuntimeError("disk full")

    lanes.start_write(1, object(), slow)
    lanes.start_write(2, object(), broken)
    await lanes.drain(timeout=5)
    await asyncio.sleep(0)  # the done callbacks
    assert finished == [1]
    assert "a write the page did not wait for failed: disk full" in caplog.text


def _not_loaded(environment: Environment, template: str) -> tuple[str, str, None]:
    raise AssertionError(f"{template} was not compiled at start")


async def test_a_warm_app_compiled_every_template_at_start(
    desk: Desk, web_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`newsdesk serve` builds its app warm: no page compiles a template (0.2 s on the first
    visitors' pages, under a refresh twice that)."""
    app = create_app(web_settings, desk=desk, no_auth=True, warm=True)
    env = app.state.ctx.templates.env
    monkeypatch.setattr(env.loader, "get_source", _not_loaded)  # the same loader: its cache
    entry = desk.entries(EntryQuery(limit=1))[0]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://localhost"
    ) as client:
        for path in ("/", f"/entry/{entry.id}", "/categories", "/subscriptions", "/search?q=a"):
            assert (await client.get(path)).status_code == 200, path


class Touchy:
    """An owner whose == must not be asked (a request's context compares every field)."""

    def __eq__(self, other: object) -> bool:
        raise AssertionError("compared with ==")

    __hash__ = object.__hash__


async def test_unfinished_writes_are_told_apart_by_identity() -> None:
    lanes = Lanes()
    first_done, second_done = threading.Event(), threading.Event()
    first = lanes.start_write(3, Touchy(), first_done.wait, 10)
    second = lanes.start_write(3, Touchy(), second_done.wait, 10)
    second_done.set()  # the later one ends first: it is looked for past the other
    await asyncio.wait_for(second, 5)
    first_done.set()
    await asyncio.wait_for(first, 5)
    await asyncio.sleep(0)  # the done callbacks
    assert not lanes._unfinished  # both forgotten, none compared with ==

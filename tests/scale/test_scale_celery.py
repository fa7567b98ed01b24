"""Distributed mode end to end: real `newsdesk worker` and `newsdesk beat` processes, a real
broker (Redis; RabbitMQ too when configured), PostgreSQL and a loopback farm of feeds. Every
entry is stored exactly once — also when a worker is killed mid-task and when the broker goes
away and comes back."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from feed_farm import FeedFarm
from sqlalchemy import func, select

from conftest import Processes, wait_for
from newsdesk.store import SqlStore, open_store
from newsdesk.store.schema import entries, feeds

pytestmark = pytest.mark.slow

FEEDS, ITEMS = 40, 8
ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")


def _env(db: str, broker: str, **extra: Any) -> dict[str, str]:
    env = {
        "NEWSDESK_DATABASE_URL": db,
        "NEWSDESK_BROKER_URL": broker,
        "NEWSDESK_CELERY_QUEUE": f"newsdesk-test-{uuid.uuid4().hex[:10]}",
        "NEWSDESK_ALLOW_PRIVATE_NETWORKS": "1",
        "NEWSDESK_SCHEDULER_TICK": "1",
        "NEWSDESK_BATCH_SIZE": "4",
        "NEWSDESK_FETCH_TIMEOUT": "10",
    }
    env.update({f"NEWSDESK_{k.upper()}": str(v) for k, v in extra.items()})
    return env


@pytest.fixture
def farm() -> Iterator[FeedFarm]:
    with FeedFarm(feeds=FEEDS, items=ITEMS, addresses=ADDRESSES, delay=0.05) as f:
        yield f


@pytest.fixture
def store(pg_url: str) -> Iterator[SqlStore]:
    s = open_store(pg_url)
    yield s
    s.close()


def _subscribe(store: SqlStore, farm: FeedFarm, count: int | None = None) -> None:
    for url in farm.urls[:count]:
        store.add_feed(url)


def _stored(store: SqlStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(entries)).scalar() or 0)


def _assert_exactly_once(store: SqlStore, farm: FeedFarm, feed_count: int) -> None:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(feeds.c.url, entries.c.title, entries.c.key).join(
                entries, entries.c.feed_id == feeds.c.id
            )
        ).all()
    assert len(rows) == feed_count * ITEMS
    assert len({(r.url, r.key) for r in rows}) == len(rows)
    by_feed: dict[str, set[str]] = {}
    for r in rows:
        by_feed.setdefault(r.url, set()).add(r.title)
    for index in range(feed_count):
        assert by_feed[farm.url(index)] == farm.expected_titles(index)


def _fulltext_done(store: SqlStore) -> int:
    with store.engine.connect() as conn:
        query = select(func.count()).where(entries.c.fulltext_status == "done")
        return int(conn.execute(query).scalar() or 0)


def _queue(env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "newsdesk", "queue", "--json"],
        env={**os.environ, **env},
        capture_output=True,
        timeout=60,
        check=True,
    )
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def test_two_workers_and_a_beat_store_every_entry_once(
    farm: FeedFarm, store: SqlStore, pg_url: str, broker_url: str, processes: Processes
) -> None:
    _subscribe(store, farm)
    env = _env(pg_url, broker_url)
    processes.start("w1", env, "worker", "--name", "w1@scale-test")
    processes.start("w2", env, "worker", "--name", "w2@scale-test")
    processes.start("beat", env, "beat")
    wait_for(lambda: _stored(store) >= FEEDS * ITEMS, 120, "every entry to be stored")
    # full text is extracted by the enrich tasks, from the farm's article pages
    wait_for(lambda: _fulltext_done(store) == FEEDS * ITEMS, 120, "every full text")
    status = _queue(env)
    names = {w["name"]: w for w in status["workers"]}
    assert {"w1@scale-test", "w2@scale-test"} <= set(names)
    assert names["w1@scale-test"]["done"] > 0 and names["w2@scale-test"]["done"] > 0
    assert status["feeds"]["total"] == FEEDS
    # the beat keeps ticking, but nothing is due again for a while: nothing new, nothing twice
    time.sleep(3)
    _assert_exactly_once(store, farm, FEEDS)
    assert all(count == 1 for count in farm.requests.values())
    assert farm.pages == FEEDS * ITEMS  # each article page fetched once
    for name in ("beat", "w1", "w2"):
        assert processes.stop(name) == 0, processes.log(name)


def test_a_killed_worker_loses_nothing(pg_url: str, redis_url: str, processes: Processes) -> None:
    with FeedFarm(feeds=FEEDS, items=ITEMS, addresses=ADDRESSES, delay=0.4) as farm:
        store = open_store(pg_url)
        try:
            _subscribe(store, farm)
            env = _env(pg_url, redis_url, lease_seconds=6, fulltext=0, expand_links=0)
            processes.start("victim", env, "worker", "--name", "victim@scale-test")
            processes.start("beat", env, "beat")
            wait_for(lambda: _stored(store) > 0, 60, "the first entries")
            processes.signal("victim", 9)  # SIGKILL the whole worker, mid-batch
            processes.stop("victim")
            stored_when_killed = _stored(store)
            assert stored_when_killed < FEEDS * ITEMS
            processes.start("rescuer", env, "worker", "--name", "rescuer@scale-test")
            wait_for(lambda: _stored(store) >= FEEDS * ITEMS, 120, "every entry after the kill")
            time.sleep(2)
            _assert_exactly_once(store, farm, FEEDS)
        finally:
            store.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis_server(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def up() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    wait_for(up, 20, "redis-server to listen")
    return server


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
def test_workers_reconnect_when_the_broker_comes_back(pg_url: str, processes: Processes) -> None:
    port = _free_port()
    broker = _redis_server(port)
    try:
        with FeedFarm(feeds=FEEDS, items=ITEMS, addresses=ADDRESSES) as farm:
            store = open_store(pg_url)
            try:
                _subscribe(store, farm, count=FEEDS // 2)
                env = _env(pg_url, f"redis://127.0.0.1:{port}/0", fulltext=0, expand_links=0)
                processes.start("worker", env, "worker", "--name", "phoenix@scale-test")
                processes.start("beat", env, "beat")
                wait_for(lambda: _stored(store) >= FEEDS // 2 * ITEMS, 60, "the first half")
                broker.terminate()
                broker.wait(10)
                time.sleep(3)  # workers and beat see the broker gone
                for url in farm.urls[FEEDS // 2 :]:
                    store.add_feed(url)
                broker = _redis_server(port)
                wait_for(lambda: _stored(store) >= FEEDS * ITEMS, 90, "the second half")
                _assert_exactly_once(store, farm, FEEDS)
                assert processes.running["worker"].poll() is None
            finally:
                store.close()
    finally:
        processes.stop_all()
        broker.terminate()
        broker.wait(10)

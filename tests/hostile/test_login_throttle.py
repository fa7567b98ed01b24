"""Password guessing: the failed-login budget holds against parallel attempts, is one budget
per client address and per account across the login form, HTTP Basic, Google Reader's
ClientLogin and Fever, is kept in the database (every process of a deployment shares it), and
its wait grows with each failure past the limit."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from newsdesk.desk import Desk
from newsdesk.store.throttle import ThrottlePolicy

from .webapp import (
    PASSWORD,
    USERNAME,
    app_for,
    client,
    copy_db,
    csrf_of,
    make_user_db,
    settings_for,
)

LIMIT = 5
PARALLEL = 20


@pytest.fixture(scope="module")
def user_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_user_db(tmp_path_factory.mktemp("throttle"))


@pytest.fixture
def desk(user_db: Path, tmp_path: Path) -> Iterator[Desk]:
    desk = Desk(settings_for(copy_db(user_db, tmp_path)))
    assert desk.settings.login_attempts == LIMIT
    yield desk
    desk.close()


@pytest.fixture
def app(desk: Desk) -> Starlette:
    return app_for(desk)


def _basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def _fever_key(password: str) -> str:
    return hashlib.md5(f"{USERNAME}:{password}".encode()).hexdigest()


async def _web_login(c: httpx.AsyncClient, password: str) -> httpx.Response:
    page = await c.get("/login")
    token = csrf_of(page.text)
    return await c.post(
        "/login", data={"csrf_token": token, "username": USERNAME, "password": password}
    )


async def _form_attempts(c: httpx.AsyncClient) -> list[httpx.Response]:
    token = csrf_of((await c.get("/login")).text)
    form = {"csrf_token": token, "username": USERNAME, "password": "wrong password"}
    return list(await asyncio.gather(*(c.post("/login", data=form) for _ in range(PARALLEL))))


async def test_parallel_wrong_passwords_on_the_login_form_are_limited(app: Starlette) -> None:
    async with client(app) as c:
        answers = await _form_attempts(c)
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {401: LIMIT, 429: PARALLEL - LIMIT}


async def test_parallel_wrong_basic_credentials_are_limited(app: Starlette) -> None:
    async with client(app) as c:
        answers = await asyncio.gather(
            *(c.get("/v1/me", headers=_basic(USERNAME, f"wrong {n}")) for n in range(PARALLEL))
        )
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {401: LIMIT, 429: PARALLEL - LIMIT}


async def test_parallel_wrong_fever_keys_are_limited(app: Starlette) -> None:
    async with client(app) as c:
        answers = await asyncio.gather(
            *(
                c.post("/fever/?api", data={"api_key": _fever_key(f"wrong {n}")})
                for n in range(PARALLEL)
            )
        )
    # A wrong key is 200 with auth 0, as Fever clients expect; a spent budget is 429.
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {200: LIMIT, 429: PARALLEL - LIMIT}
    assert all(a.json()["auth"] == 0 for a in answers)


async def test_one_budget_per_address_across_every_way_in(app: Starlette) -> None:
    async with client(app) as c:
        assert (await _web_login(c, "wrong one")).status_code == 401
        assert (await c.get("/v1/me", headers=_basic(USERNAME, "wrong two"))).status_code == 401
        login = {"Email": USERNAME, "Passwd": "wrong three"}
        assert (await c.post("/accounts/ClientLogin", data=login)).status_code == 401
        fever = await c.post("/fever/?api", data={"api_key": _fever_key("wrong four")})
        assert fever.status_code == 200 and fever.json()["auth"] == 0
        assert (await c.get("/v1/me", headers=_basic("nobody", "wrong five"))).status_code == 401
        # The budget is spent: even the right password waits.
        blocked = await c.post("/fever/?api", data={"api_key": _fever_key(PASSWORD)})
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
        assert blocked.json()["auth"] == 0
        assert (await _web_login(c, PASSWORD)).status_code == 429


async def test_one_budget_per_account_whatever_the_address(app: Starlette) -> None:
    for n in range(LIMIT):
        async with client(app, address=f"198.51.100.{n + 1}") as c:
            answer = await c.get("/v1/me", headers=_basic(USERNAME, f"wrong {n}"))
            assert answer.status_code == 401
    async with client(app, address="203.0.113.9") as fresh:
        assert (await _web_login(fresh, PASSWORD)).status_code == 429
    # Another account from a fresh address is not held up by it.
    async with client(app, address="203.0.113.10") as other:
        assert (await other.get("/v1/me", headers=_basic("someone", "x"))).status_code == 401


async def test_the_budget_is_shared_by_every_process_of_a_deployment(desk: Desk) -> None:
    second = Desk(desk.settings)  # another server process on the same database
    try:
        first_app, second_app = app_for(desk), app_for(second)
        async with client(first_app) as a, client(second_app) as b:
            for n in range(LIMIT):
                c = a if n % 2 else b
                assert (await c.get("/v1/me", headers=_basic(USERNAME, "no"))).status_code == 401
            assert (await a.get("/v1/me", headers=_basic(USERNAME, PASSWORD))).status_code == 429
            assert (await b.get("/v1/me", headers=_basic(USERNAME, PASSWORD))).status_code == 429
    finally:
        second.close()


async def test_a_good_login_clears_the_failures(app: Starlette) -> None:
    async with client(app) as c:
        for _ in range(LIMIT - 1):
            assert (await _web_login(c, "wrong")).status_code == 401
        assert (await _web_login(c, PASSWORD)).status_code == 303
        for _ in range(LIMIT - 1):
            assert (await _web_login(c, "wrong")).status_code == 401


def test_the_wait_grows_with_each_failure_past_the_limit(desk: Desk) -> None:
    store = desk.store
    policy = ThrottlePolicy(attempts=3, window=timedelta(minutes=15))
    keys = ["address:192.0.2.1"]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(3):
        assert store.throttle.reserve_attempt(keys, policy, now) == 0
    waits = []
    for _ in range(4):
        wait = store.throttle.reserve_attempt(keys, policy, now)
        assert wait > 0
        waits.append(wait)
        now += timedelta(seconds=wait)
        assert (
            store.throttle.reserve_attempt(keys, policy, now) == 0
        )  # one more try once it is over
    assert waits == sorted(waits) and waits[-1] > waits[0]
    assert waits[-1] <= policy.max_delay.total_seconds()
    store.throttle.clear_attempts(keys)
    assert store.throttle.reserve_attempt(keys, policy, now) == 0


def test_simultaneous_reservations_from_many_processes_get_exactly_the_budget(
    store_url: str,
) -> None:
    """Each thread has its own engine (a process of its own, as far as the database can tell)
    and all ask at once: the database hands out exactly ``attempts`` reservations."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from newsdesk.store import open_store

    stores = [open_store(store_url) for _ in range(8)]
    policy = ThrottlePolicy(attempts=LIMIT)
    barrier = Barrier(len(stores))

    def attempt(n: int) -> list[int]:
        barrier.wait()
        keys = [f"address:192.0.2.{n}", "account:admin"]
        return [stores[n].throttle.reserve_attempt(keys, policy) for _ in range(3)]

    try:
        with ThreadPoolExecutor(len(stores)) as pool:
            waits = [w for ws in pool.map(attempt, range(len(stores))) for w in ws]
    finally:
        for store in stores:
            store.close()
    assert waits.count(0) == LIMIT
    assert all(w > 0 for w in waits if w)

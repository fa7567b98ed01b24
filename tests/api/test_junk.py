"""Junk to every API endpoint: odd ids in the path, broken bodies, hostile query strings, with
and without credentials. Nothing may answer 500, and no answer may carry a traceback."""

from __future__ import annotations

import itertools
import re
from collections import Counter

import httpx
from starlette.routing import Route

from .conftest import ApiEnv

PREFIXES = ("/api/", "/v1/", "/reader/", "/accounts/", "/fever/")
PATH_VALUES = ["0", "-1", "abc", "99999999999999999999999", "1.5", "%00", "feed%2F999"]
BODIES: list[tuple[bytes, str]] = [
    (b"", "application/json"),
    (b"{", "application/json"),
    (b"[1,2,3]", "application/json"),
    (
        b'{"entry_ids": "all", "status": 7, "url": ["x"], "ids": [0], "name": ""}',
        "application/json",
    ),
    (b'{"feed_url": "javascript:alert(1)", "title": null, "feeds": [-5]}', "application/json"),
    (b"[" * 5000 + b"]" * 5000, "application/json"),
    (b"\xff\xfe\x00garbage", "application/octet-stream"),
    (
        b"i=zz&a=user/-/state/com.google/read&s=feed/abc&ac=fly&quickadd=%00",
        "application/x-www-form-urlencoded",
    ),
    (b"mark=item&as=read&id=abc&with_ids=1,x&since_id=-3", "application/x-www-form-urlencoded"),
    (b"\xff=\xfe", "application/x-www-form-urlencoded"),
    (b"--x\r\nbroken multipart", "multipart/form-data; boundary=x"),
    (b"<opml><body><outline xmlUrl='file:///etc/passwd'/></body></opml>", "text/xml"),
    (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><opml>&e;</opml>',
        "text/xml",
    ),
]
QUERIES = [
    "",
    "?limit=-1&offset=-5&n=abc&c=zz&since_id=x&max_id=-1&status=%00&order=x&direction=sideways",
    "?ot=99999999999999999999&nt=-1&before=99999999999999999999&after=abc&starred=maybe",
    "?since=tomorrow&before=1e999&kind=%ff&feed=abc&search=%22%22%22*&with_ids=a,b",
    "?s=user/-/label/&xt=feed/x&it=%00&r=o&i=tag:google.com,2005:reader/item/zz",
]
TRACEBACK = re.compile(r"Traceback|File \"|\bline \d+, in\b|sqlalchemy\.|psycopg", re.I)


def _paths(api_env: ApiEnv) -> list[tuple[str, str]]:
    app = api_env.client._transport.app  # type: ignore[attr-defined]
    found: list[tuple[str, str]] = []
    for route in app.routes:
        if not isinstance(route, Route) or not route.path.startswith(PREFIXES):
            continue
        names = re.findall(r"\{(\w+)(?::\w+)?\}", route.path)
        values = PATH_VALUES if names else [""]
        for value in values:
            path = re.sub(r"\{(\w+)(?::\w+)?\}", value, route.path)
            for method in sorted(route.methods or {"GET"}):
                if method != "HEAD":
                    found.append((method, path))
    return found


async def test_no_endpoint_answers_500_or_a_traceback(api_env: ApiEnv) -> None:
    # Wrong credentials are sent on purpose: lift the failed-login limit so every request
    # reaches its handler instead of a 429.
    app = api_env.client._transport.app  # type: ignore[attr-defined]
    app.state.ctx.login_limiter.attempts = 10**9
    paths = _paths(api_env)
    assert len(paths) > 80, "the route table was not found"
    credentials = [
        api_env.auth,
        {"Authorization": "GoogleLogin auth=" + api_env.key},
        {},
        {"Authorization": "Basic %%%", "X-Auth-Token": b"\xff" * 300},
    ]
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    checked = 0
    # Every path with every credential; query strings and bodies cycled, so each is sent
    # hundreds of times without multiplying the run time by their number.
    for index, ((method, path), headers) in enumerate(itertools.product(paths, credentials)):
        query = QUERIES[index % len(QUERIES)]
        body, content_type = BODIES[index % len(BODIES)]
        answer = await api_env.client.request(
            method,
            path + query,
            content=body if method in {"POST", "PUT", "PATCH", "DELETE"} else None,
            headers={**headers, "content-type": content_type, "accept": "*/*"},
        )
        checked += 1
        statuses[answer.status_code] += 1
        text = answer.text
        if answer.status_code >= 500 or TRACEBACK.search(text):
            failures.append(f"{method} {path}{query} → {answer.status_code}: {text[:200]}")
    assert checked > 1000
    # The junk reached the handlers (not only the authentication in front of them).
    assert statuses[400] > 20 and statuses[200] > 20, statuses
    assert not failures, "\n".join(failures[:20])


# -- out-of-range input on pages and APIs (issue 12) ------------------------------------------

HOSTILE_IDS = ["18446744073709551616", "99999999999999999999999999", "-1", "-9223372036854775809"]
HOSTILE_QUERIES = [
    "?since=99999999999d&until=9999999999999w",
    "?since=0001-01-01T00:00:00%2B05:00&before=-99999999999999999999999",
    "?q=foo_bar&search=foo_bar",
    "?q=%22unbalanced&search=%22unbalanced",
    "?q=a%20AND%20OR%20NOT%20*&search=a%20AND%20OR%20NOT%20*",
    "?q=title:x%20NEAR(a%20b)%20%5E^&search=col:x%20%7B%7D",
    "?q=_&search=__%25%25",
    "?feed=18446744073709551616&category_id=18446744073709551616&entry_id=-18446744073709551616",
    "?since_id=18446744073709551616&max_id=-1&offset=18446744073709551616&limit=18446744073709551616",
    "?ot=18446744073709551616&nt=-18446744073709551616&n=18446744073709551616&c=18446744073709551616",
    "?page=18446744073709551616&after=18446744073709551616&published_after=-99999999999999999999",
    # Below 2**63 (SQLite takes them) but past a 32-bit id or year 9999 as a timestamp.
    "?since_id=4611686018427387903&max_id=4611686018427387903&with_ids=4611686018427387903"
    "&before=99999999999999&after=99999999999999&ot=99999999999999&nt=99999999999999"
    "&changed_after=99999999999999&published_before=99999999999999&offset=4611686018427387903",
]
SECURITY_HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options")
# SQLite's and SQLAlchemy's own words must not reach a client.
DATABASE_WORDS = re.compile(
    r"sqlite|fts5|syntax error|no such column|OperationalError|IntegrityError|"
    r"DataError|\[SQL:|Python int too large|OverflowError|psycopg",
    re.I,
)


def _hostile_paths(app: object) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for route in app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, Route) or route.path.startswith(("/static", "/logout")):
            continue
        names = re.findall(r"\{(\w+)(?::\w+)?\}", route.path)
        values = HOSTILE_IDS if names else [""]
        for value in values:
            path = re.sub(r"\{(\w+)(?::\w+)?\}", value, route.path)
            for method in sorted(route.methods or {"GET"}):
                if method in {"GET", "POST"}:
                    found.append((method, path))
    return found


async def test_out_of_range_input_is_a_4xx_with_our_own_words(api_env: ApiEnv) -> None:
    """Ids beyond 64 bits or negative, dates past year 9999, FTS5 syntax and ``_`` in search
    words: on every page (logged in) and every API endpoint, never a 500, never SQLite's own
    message, and always the security headers."""
    from newsdesk.web.app import create_app

    app = create_app(api_env.settings, desk=api_env.desk, no_auth=True)
    app.state.ctx.login_limiter.attempts = 10**9
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    failures: list[str] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        home = await client.get("/")
        token = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
        csrf = {"X-CSRF-Token": token.group(1)} if token else {}
        paths = _hostile_paths(app)
        assert len(paths) > 100, "the route table was not found"
        for index, (method, path) in enumerate(paths):
            cycled = HOSTILE_QUERIES[index % len(HOSTILE_QUERIES)]
            for query in (cycled, *HOSTILE_QUERIES[:3], HOSTILE_QUERIES[-1]):
                answer = await client.request(
                    method,
                    path + query,
                    data={"q": "foo_bar", "since": "99999999999d", "id": HOSTILE_IDS[0]}
                    if method == "POST"
                    else None,
                    headers={**api_env.auth, **csrf},
                )
                where = f"{method} {path}{query} → {answer.status_code}"
                if answer.status_code >= 500:
                    failures.append(f"{where}: {answer.text[:160]}")
                elif DATABASE_WORDS.search(answer.text):
                    failures.append(f"{where} shows the database's words: {answer.text[:160]}")
                missing = [h for h in SECURITY_HEADERS if h not in answer.headers]
                if missing and not path.startswith(PREFIXES):
                    failures.append(f"{where} lacks {missing}")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:25])


async def test_a_server_error_is_a_page_with_the_security_headers(api_env: ApiEnv) -> None:
    """A bug still answers: a 500 page, with CSP, X-Frame-Options and nosniff, and the
    connection is not dropped (the exception is not re-raised to the server)."""
    from newsdesk.web.app import create_app

    async def broken(_request: object) -> None:
        raise RuntimeError("a bug")

    app = create_app(api_env.settings, desk=api_env.desk, no_auth=True)
    # First in the table: the APIs' catch-all routes would answer /api/broken with a 404.
    app.router.routes[:0] = [Route("/broken", broken), Route("/api/broken", broken)]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        for path in ("/broken", "/api/broken"):
            answer = await client.get(path)
            assert answer.status_code == 500
            assert "a bug" not in answer.text and not TRACEBACK.search(answer.text)
            for header in SECURITY_HEADERS:
                assert header in answer.headers, (path, header)

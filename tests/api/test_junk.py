"""Junk to every API endpoint: odd ids in the path, broken bodies, hostile query strings, with
and without credentials. Nothing may answer 500, and no answer may carry a traceback."""

from __future__ import annotations

import itertools
import re
from collections import Counter

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
    app.state.ctx.extras["api"].limiter.attempts = 10**9
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

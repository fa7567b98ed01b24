"""Slow and greedy clients against a real ``newsdesk serve`` on loopback: headers that never
end, bodies that never come, large bodies sent before any authentication, too many
connections, and forwarded headers from a client that is not a configured proxy."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from .served import Served, read_until_closed, serve
from .webapp import make_user_db

LIMITS = {
    "web_header_timeout": "1",
    "web_body_timeout": "1",
    "web_keepalive_timeout": "1",
    "login_max_body": "4096",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("served")
    with serve(make_user_db(folder), folder, **LIMITS) as server:
        yield server


def _request(path: str, headers: dict[str, str], body: bytes = b"", method: str = "POST") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def test_headers_that_never_end_are_cut_off(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        answer = read_until_closed(sock, drip=b"X-Slow: 1\r\n")
    assert b"200 OK" not in answer


def test_a_connection_that_says_nothing_is_closed(served: Served) -> None:
    with served.connect() as sock:
        assert read_until_closed(sock) == b""


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/login", b"408"),
        ("/fever/?api", b"408"),
        ("/accounts/ClientLogin", b"408"),
        ("/subscriptions/add", b"303"),  # not logged in: sent to the login page, body unread
    ],
)
def test_a_body_that_never_comes_is_cut_off(served: Served, path: str, status: bytes) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "1000"}
    with served.connect() as sock:
        sock.sendall(_request(path, form, b"username=admin&pass"))
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]


@pytest.mark.parametrize("path", ["/login", "/setup", "/fever/?api", "/accounts/ClientLogin"])
def test_a_large_body_before_authentication_is_refused_unread(served: Served, path: str) -> None:
    declared = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "10485760"}
    with served.connect() as sock:
        sock.sendall(_request(path, declared))  # and not one byte of the 10 MiB
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_large_chunked_body_before_authentication_is_refused(served: Served) -> None:
    chunked = {"Content-Type": "application/x-www-form-urlencoded", "Transfer-Encoding": "chunked"}
    chunk = b"a" * 1024
    # The headers and 8 KiB of chunks (twice the limit) go in one write: sent piece by piece, a
    # server quick to refuse could close (and reset) the connection between two pieces.
    frames = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(8))
    with served.connect() as sock:
        sock.sendall(_request("/login", chunked) + frames)
        answer = read_until_closed(sock, drip=b"400\r\n" + chunk + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_small_login_forms_still_work(served: Served) -> None:
    with httpx.Client(base_url=served.base) as client:
        page = client.get("/login")
        assert page.status_code == 200
        fever = client.post("/fever/?api", data={"api_key": "0" * 32})
        assert fever.status_code == 200 and fever.json() == {"api_version": 3, "auth": 0}


def test_forwarded_headers_from_an_unlisted_client_are_ignored(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp("proxies")
    with serve(make_user_db(folder), folder) as server, httpx.Client(base_url=server.base) as c:
        statuses = []
        for n in range(6):
            # Each attempt claims another address (and another account, so that only the
            # address budget can stop them); none of the claimed addresses may count.
            wrong = base64.b64encode(f"user{n}:wrong password".encode()).decode()
            headers = {"Authorization": f"Basic {wrong}", "X-Forwarded-For": f"198.51.100.{n}"}
            headers["X-Forwarded-Proto"] = "https"
            statuses.append(c.get("/v1/me", headers=headers).status_code)
        assert statuses == [401] * 5 + [429]
        # And a page does not believe it is served over https.
        assert "Secure" not in c.get("/login", headers={"X-Forwarded-Proto": "https"}).headers.get(
            "set-cookie", ""
        )


def test_connections_past_the_limit_are_refused(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("connections")
    limit = {"web_max_connections": "4", "web_header_timeout": "60"}
    with serve(make_user_db(folder), folder, **limit) as server:
        idle = [server.connect() for _ in range(6)]
        try:
            with server.connect() as sock:
                sock.sendall(_request("/healthz", {}, method="GET"))
                answer = sock.recv(65536)
            assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
        finally:
            for sock in idle:
                sock.close()


def test_forwarded_headers_from_a_listed_proxy_are_believed(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp("proxied")
    with (
        serve(make_user_db(folder), folder, trusted_proxies="127.0.0.1") as server,
        httpx.Client(base_url=server.base) as c,
    ):
        statuses = []
        for n in range(6):
            wrong = base64.b64encode(f"user{n}:wrong password".encode()).decode()
            headers = {"Authorization": f"Basic {wrong}", "X-Forwarded-For": f"198.51.100.{n}"}
            statuses.append(c.get("/v1/me", headers=headers).status_code)
        assert statuses == [401] * 6  # six clients behind the proxy, one failure each
        page = c.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "Secure" in page.headers["set-cookie"]

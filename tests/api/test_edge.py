"""Repeated slashes in paths (clients configured with a trailing slash, as newsboat's docs write
the URL) and CORS on the token-authenticated APIs, never on the reading room's pages."""

from __future__ import annotations

import pytest

from newsdesk.web.edge import parse_origins

from .conftest import ApiEnv

BASE = "http://newsdesk.test"


@pytest.mark.parametrize("path", ["//v1/feeds", "/v1//feeds", "///v1/feeds/"[:-1]])
async def test_repeated_slashes_reach_the_miniflux_api(api_env: ApiEnv, path: str) -> None:
    response = await api_env.client.get(BASE + path, headers=api_env.auth)
    assert response.status_code == 200, response.text
    assert isinstance(response.json(), list) and response.json()


async def test_repeated_slashes_reach_clientlogin(api_env: ApiEnv) -> None:
    response = await api_env.client.post(
        BASE + "//accounts/ClientLogin",
        data={"Email": "admin", "Passwd": "correct horse battery"},
    )
    assert response.status_code == 200, response.text
    assert "Auth=" in response.text


def test_urls_inside_paths_keep_their_slashes() -> None:
    from newsdesk.web.edge import _SLASHES

    path = "//reader/api/0/stream/contents/feed/http://host//feed"
    assert _SLASHES.sub("/", path) == "/reader/api/0/stream/contents/feed/http://host/feed"


async def test_collapsed_paths_keep_their_auth_checks(api_env: ApiEnv) -> None:
    # no key: the API's own 401, not a bypass and not the login page
    response = await api_env.client.get(BASE + "//v1/feeds")
    assert response.status_code == 401
    assert "error_message" in response.json()
    # a page asked for with extra slashes still wants the login
    page = await api_env.client.get(BASE + "//feeds", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")


@pytest.mark.parametrize(
    "path", ["/v1/entries", "/reader/api/0/subscription/list", "/api/entries", "/v1/me"]
)
async def test_preflight_is_answered_on_api_prefixes(api_env: ApiEnv, path: str) -> None:
    response = await api_env.client.options(
        BASE + path,
        headers={
            "Origin": "https://app.example.org",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "x-auth-token, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "PUT" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "x-auth-token" in allowed
    assert "access-control-allow-credentials" not in response.headers


async def test_api_answers_carry_cors_headers(api_env: ApiEnv) -> None:
    response = await api_env.client.get(
        "/v1/me", headers={**api_env.auth, "Origin": "https://app.example.org"}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    # an error answer too, so a browser client can read why it failed
    refused = await api_env.client.get("/v1/me", headers={"Origin": "https://app.example.org"})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("path", ["/", "/login", "/entry/1", "/feeds"])
async def test_pages_get_no_cors(api_env: ApiEnv, path: str) -> None:
    response = await api_env.client.get(
        path, headers={"Origin": "https://evil.example"}, follow_redirects=False
    )
    assert "access-control-allow-origin" not in response.headers
    preflight = await api_env.client.options(
        path,
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_origin_lists() -> None:
    assert parse_origins("*") == ("*",)
    assert parse_origins("") == ()
    assert parse_origins(" https://a.example/ , https://b.example") == (
        "https://a.example",
        "https://b.example",
    )


async def test_listed_origins_only(api_env: ApiEnv) -> None:
    from httpx import ASGITransport, AsyncClient

    from newsdesk.settings import load_settings
    from newsdesk.web.app import create_app

    settings = load_settings(
        env={"NEWSDESK_API_CORS_ORIGINS": "https://app.example.org"},
        database_url=api_env.settings.database_url,
        allow_private_networks=True,
        fulltext=False,
    )
    app = create_app(settings, desk=api_env.desk)
    async with AsyncClient(transport=ASGITransport(app=app), base_url=BASE) as client:
        good = await client.get(
            "/v1/me", headers={**api_env.auth, "Origin": "https://app.example.org"}
        )
        assert good.headers["access-control-allow-origin"] == "https://app.example.org"
        assert "origin" in good.headers["vary"].lower()
        other = await client.get("/v1/me", headers={**api_env.auth, "Origin": "https://x.example"})
        assert "access-control-allow-origin" not in other.headers

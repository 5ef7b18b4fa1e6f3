"""CORS: origin parsing, the Vercel preview regex, preflights, and CORS headers on errors.

Uses the fixtures of tests/conftest.py: ``make_settings``, ``settings``, ``api``, ``client``
(exact origins https://frontend.example.com and http://localhost:3000, preview regex for the
Vercel project "demo-app" of the team "acme", credentials off).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.middleware.cors import CORSMiddleware

from app import defaults
from app.base_settings import BaseAppSettings
from app.cors import (
    CorsConfigError,
    foreign_origins,
    normalize_origin,
    parse_origins,
    vercel_preview_regex,
    wrap_with_cors,
)
from app.edge import wrap

FRONTEND = "https://frontend.example.com"
PREVIEW = "https://demo-app-git-feature-login-acme.vercel.app"
STRANGER = "https://evil.example"

CORS_ENV = (
    "CORS_ORIGINS",
    "CORS_ORIGIN_REGEX",
    "CORS_ALLOW_CREDENTIALS",
    "FRONTEND_URL",
    "VERCEL_PROJECT",
    "VERCEL_SCOPE",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in CORS_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# --- parsing -------------------------------------------------------------------------------


def test_parse_origins_trims_and_drops_paths_slashes_and_empty_items() -> None:
    raw = " https://App.Example.com/ , ,http://localhost:3000/some/path,https://app.example.com,"
    assert parse_origins(raw) == ["https://app.example.com", "http://localhost:3000"]


def test_parse_origins_keeps_the_wildcard() -> None:
    assert parse_origins("*") == ["*"]


@pytest.mark.parametrize(
    ("value", "origin"),
    [
        ("HTTPS://App.Example.COM", "https://app.example.com"),
        ("https://app.example.com:443/", "https://app.example.com"),
        ("http://localhost:80", "http://localhost"),
        ("http://localhost:3000/path?q=1", "http://localhost:3000"),
        ("https://app.example.com:8443", "https://app.example.com:8443"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
    ],
)
def test_origins_are_normalised_as_browsers_send_them(value: str, origin: str) -> None:
    assert normalize_origin(value) == origin


@pytest.mark.parametrize(
    "value",
    [
        "example.com",
        "ftp://example.com",
        "https://",
        "https://user:pw@example.com",
        "https://example.com:99999",
        "https://example.com:port",
    ],
)
def test_a_value_that_is_not_an_origin_is_refused(value: str) -> None:
    with pytest.raises(CorsConfigError):
        normalize_origin(value)


def test_cors_origins_env_var_is_comma_separated(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("CORS_ORIGINS", "https://a.example/, ,http://localhost:5173/")
    clean_env.setenv("CORS_ORIGIN_REGEX", "")
    settings = BaseAppSettings(_env_file=None)
    assert settings.cors_origins == ["https://a.example", "http://localhost:5173"]
    assert settings.cors_origin_regex is None


def test_an_invalid_origin_regex_is_refused_at_startup(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("CORS_ORIGIN_REGEX", "https://(unclosed")
    with pytest.raises(ValueError, match="CORS_ORIGIN_REGEX"):
        BaseAppSettings(_env_file=None)


# --- the project's defaults ----------------------------------------------------------------


def test_defaults_are_exact_origins_and_credentials_are_off(clean_env: pytest.MonkeyPatch) -> None:
    settings = BaseAppSettings(_env_file=None)
    assert settings.cors_origins == parse_origins([defaults.FRONTEND_URL, *defaults.DEV_ORIGINS])
    assert all("*" not in origin for origin in settings.cors_origins)
    assert settings.cors_allow_credentials is False
    assert settings.cors_origin_regex == (defaults.VERCEL_PREVIEW_REGEX or None)


@pytest.mark.skipif(
    not (defaults.VERCEL_PROJECT and defaults.VERCEL_SCOPE),
    reason="no Vercel project and team: no preview expression",
)
def test_default_preview_regex_admits_only_the_projects_previews() -> None:
    project, scope = defaults.VERCEL_PROJECT, defaults.VERCEL_SCOPE
    assert vercel_preview_regex(project, scope) == defaults.VERCEL_PREVIEW_REGEX
    regex = re.compile(defaults.VERCEL_PREVIEW_REGEX)
    assert regex.fullmatch(f"https://{project}-git-feature-x-{scope}.vercel.app")
    assert regex.fullmatch(f"https://{project}-a1b2c3d4e-{scope}.vercel.app")
    for foreign in foreign_origins(project, scope):
        assert not regex.fullmatch(foreign), foreign


@pytest.mark.skipif(
    bool(defaults.VERCEL_PROJECT and defaults.VERCEL_SCOPE), reason="a Vercel team is set"
)
def test_without_a_vercel_team_there_is_no_preview_expression() -> None:
    assert defaults.VERCEL_PREVIEW_REGEX == ""
    assert vercel_preview_regex(defaults.VERCEL_PROJECT, "") is None


def test_the_preview_expression_refuses_other_accounts_and_look_alikes() -> None:
    regex = re.compile(vercel_preview_regex("demo-app", "acme") or "")
    assert regex.fullmatch(PREVIEW)
    assert regex.fullmatch("https://demo-app-a1b2c3d4e-acme.vercel.app")
    for foreign in [
        "https://demo-app.vercel.app",
        "https://demo-app-evil.vercel.app",
        "https://demo-app-git-main-someone-else.vercel.app",
        "https://demo-app-git-main-notacme.vercel.app",
        "https://evil-demo-app-git-main-acme.vercel.app",
        "http://demo-app-git-main-acme.vercel.app",
        "https://demo-app-git-main-acme.vercel.app.evil.example",
    ]:
        assert not regex.fullmatch(foreign), foreign


# --- the wrapped application ---------------------------------------------------------------


def test_uvicorn_serves_the_api_behind_the_guard_behind_cors() -> None:
    from app.guard import RequestGuard
    from app.main import api, app

    assert isinstance(app, CORSMiddleware)
    assert isinstance(app.app, RequestGuard)
    assert app.app.app is api


def test_allowed_origin_gets_cors_headers(client: TestClient) -> None:
    response = client.get("/health", headers={"Origin": FRONTEND})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONTEND
    assert "access-control-allow-credentials" not in response.headers
    assert "Origin" in response.headers["vary"]


def test_vercel_preview_origin_matching_the_regex_is_allowed(client: TestClient) -> None:
    response = client.get("/health", headers={"Origin": PREVIEW})
    assert response.headers["access-control-allow-origin"] == PREVIEW


@pytest.mark.parametrize(
    "origin",
    [
        STRANGER,
        "https://frontend.example.com.evil.example",
        "https://demo-app.vercel.app.evil.example",
        "https://other-app-git-main.vercel.app",
        "https://demo-app-evil.vercel.app",
        "http://localhost:3001",
    ],
)
def test_unlisted_origin_gets_no_cors_headers(client: TestClient, origin: str) -> None:
    response = client.get("/health", headers={"Origin": origin})
    assert response.status_code == 200  # the request runs; the browser hides the answer
    assert "access-control-allow-origin" not in response.headers

    preflight = client.options(
        "/api/v1/sessions",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 400
    assert preflight.json() == {"detail": "Disallowed CORS origin", "code": "cors_rejected"}
    assert "access-control-allow-origin" not in preflight.headers


def test_preflight_post_with_authorization_header(client: TestClient) -> None:
    response = client.options(
        "/api/v1/sessions",
        headers={
            "Origin": FRONTEND,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONTEND
    methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST", "PATCH", "DELETE"} <= methods
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"authorization", "content-type"} <= allowed
    assert "access-control-allow-credentials" not in response.headers


def test_preflight_with_an_unlisted_header_is_refused(client: TestClient) -> None:
    response = client.options(
        "/api/v1/sessions",
        headers={
            "Origin": FRONTEND,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-unlisted",
        },
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Disallowed CORS headers", "code": "cors_rejected"}


@pytest.fixture
def failing_client(api: FastAPI, settings: BaseAppSettings) -> Iterator[TestClient]:
    """The application with one more route, added on ``api``, that always raises."""

    async def explode() -> None:
        raise RuntimeError("boom")

    api.add_api_route("/api/test-explode", explode, methods=["GET"])
    with TestClient(wrap(api, settings), raise_server_exceptions=False) as failing:
        yield failing


def test_unhandled_500_still_carries_cors_headers(failing_client: TestClient) -> None:
    response = failing_client.get("/api/test-explode", headers={"Origin": FRONTEND})
    assert response.status_code == 500
    assert response.headers["access-control-allow-origin"] == FRONTEND


def test_404_carries_cors_headers(client: TestClient) -> None:
    response = client.get("/api/no-such-route", headers={"Origin": FRONTEND})
    assert response.status_code == 404
    assert response.headers["access-control-allow-origin"] == FRONTEND


# --- unsafe configurations -----------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"cors_origins": "*", "cors_allow_credentials": True},
        {"cors_origin_regex": r"https://.*", "cors_allow_credentials": True},
        # Not a catch-all, but it admits other accounts' projects named demo-app-…
        {"cors_origin_regex": r"https://demo-app(-[a-z0-9-]+)?\.vercel\.app"},
        {"cors_origin_regex": r"https://[a-z0-9-]+-acme\.vercel\.app"},
        {"cors_origin_regex": r"https?://demo-app-(git-[a-z0-9-]+)-acme\.vercel\.app"},
    ],
)
def test_an_expression_admitting_other_origins_with_credentials_is_refused(
    api: FastAPI, make_settings: Callable[..., Any], overrides: dict[str, Any]
) -> None:
    overrides = {"cors_allow_credentials": True, **overrides}
    with pytest.raises(CorsConfigError, match="CORS_ALLOW_CREDENTIALS"):
        wrap_with_cors(api, make_settings(**overrides))


def test_the_scoped_preview_expression_is_accepted_with_credentials(
    api: FastAPI, make_settings: Callable[..., Any]
) -> None:
    settings = make_settings(cors_allow_credentials=True)
    assert settings.cors_origin_regex == vercel_preview_regex("demo-app", "acme")
    with TestClient(wrap(api, settings)) as credentialed:
        response = credentialed.get("/health", headers={"Origin": PREVIEW})
    assert response.headers["access-control-allow-origin"] == PREVIEW


def test_wildcard_without_credentials_is_a_public_api(
    api: FastAPI, make_settings: Callable[..., Any]
) -> None:
    with TestClient(wrap_with_cors(api, make_settings(cors_origins="*"))) as public:
        response = public.get("/health", headers={"Origin": STRANGER})
    assert response.headers["access-control-allow-origin"] == "*"


def test_credentials_echo_only_listed_origins(
    api: FastAPI, make_settings: Callable[..., Any]
) -> None:
    with TestClient(
        wrap_with_cors(api, make_settings(cors_allow_credentials=True))
    ) as credentialed:
        allowed = credentialed.get("/health", headers={"Origin": FRONTEND})
        refused = credentialed.get("/health", headers={"Origin": STRANGER})
    assert allowed.headers["access-control-allow-origin"] == FRONTEND
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "access-control-allow-origin" not in refused.headers


def test_configured_origins_match_what_browsers_send(
    api: FastAPI, make_settings: Callable[..., Any]
) -> None:
    settings = make_settings(cors_origins="HTTPS://Frontend.Example.com:443/app/")
    with TestClient(wrap(api, settings)) as client:
        response = client.get("/health", headers={"Origin": FRONTEND})
    assert response.headers["access-control-allow-origin"] == FRONTEND

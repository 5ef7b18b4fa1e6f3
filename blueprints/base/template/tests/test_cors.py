"""CORS: origin parsing, the Vercel preview regex, preflights, and CORS headers on errors.

Uses the fixtures of tests/conftest.py: ``make_settings``, ``settings``, ``api``, ``client``
(exact origins https://frontend.example.com and http://localhost:3000, preview regex for the
Vercel project "demo-app", credentials off).
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
from app.cors import CorsConfigError, normalize_origin, parse_origins, wrap_with_cors

FRONTEND = "https://frontend.example.com"
PREVIEW = "https://demo-app-git-feature-login-acme.vercel.app"
STRANGER = "https://evil.example"

CORS_ENV = ("CORS_ORIGINS", "CORS_ORIGIN_REGEX", "CORS_ALLOW_CREDENTIALS", "FRONTEND_URL")


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


@pytest.mark.parametrize("value", ["example.com", "ftp://example.com", "https://"])
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


@pytest.mark.skipif(not defaults.VERCEL_PROJECT, reason="no Vercel project: no preview regex")
def test_default_preview_regex_is_scoped_to_the_project() -> None:
    regex = re.compile(defaults.VERCEL_PREVIEW_REGEX)
    project, scope = defaults.VERCEL_PROJECT, defaults.VERCEL_SCOPE
    suffix = f"-{scope}.vercel.app" if scope else ".vercel.app"
    assert regex.fullmatch(f"https://{project}-git-feature-x{suffix}")
    assert regex.fullmatch(f"https://{project}-a1b2c3d4e{suffix}")
    assert not regex.fullmatch(f"http://{project}-git-feature-x{suffix}")
    assert not regex.fullmatch(f"https://{project}-git-x{suffix}.evil.com")
    assert not regex.fullmatch(f"https://zz{project}-git-x{suffix}")
    assert not regex.fullmatch("https://other-project-git-x.vercel.app")
    if scope:
        assert not regex.fullmatch(f"https://{project}-git-x-someone-else.vercel.app")


@pytest.mark.skipif(bool(defaults.VERCEL_PROJECT), reason="a Vercel project is set")
def test_no_vercel_project_means_no_preview_regex() -> None:
    assert defaults.VERCEL_PREVIEW_REGEX == ""


# --- the wrapped application ---------------------------------------------------------------


def test_uvicorn_serves_the_cors_wrapped_api() -> None:
    from app.main import api, app

    assert isinstance(app, CORSMiddleware)
    assert app.app is api


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
    assert "Disallowed CORS origin" in preflight.text


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
    assert "Disallowed CORS headers" in response.text


@pytest.fixture
def failing_client(api: FastAPI, settings: BaseAppSettings) -> Iterator[TestClient]:
    """The application with one more route, added on ``api``, that always raises."""

    async def explode() -> None:
        raise RuntimeError("boom")

    api.add_api_route("/api/test-explode", explode, methods=["GET"])
    with TestClient(wrap_with_cors(api, settings), raise_server_exceptions=False) as failing:
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
    ],
)
def test_any_origin_with_credentials_is_refused(
    api: FastAPI, make_settings: Callable[..., Any], overrides: dict[str, Any]
) -> None:
    with pytest.raises(CorsConfigError, match="CORS_ALLOW_CREDENTIALS"):
        wrap_with_cors(api, make_settings(**overrides))


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

"""The service endpoints: /, /health, /api/debug/db, the docs; a database that fails."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app import __version__
from app.config import Settings
from app.edge import wrap
from app.main import create_api
from tests.support import MakeSettings, sqlite_url


def test_root_explains_the_api_only_backend(client: TestClient, settings: Settings) -> None:
    response = client.get("/")
    assert response.status_code == 200
    body = response.json()
    assert body["service"] == settings.app_title
    assert body["version"] == __version__
    assert "API-only" in body["message"]
    assert body["frontend"] == settings.frontend_url
    assert body["docs"] == "http://testserver/docs"
    assert body["api_base"] == "http://testserver/api"
    assert body["health"] == "http://testserver/health"


def test_root_uses_space_host_on_a_space(make_settings: MakeSettings) -> None:
    settings = make_settings(space_host="owner-demo.hf.space")
    with TestClient(wrap(create_api(settings), settings)) as client:
        body = client.get("/").json()
    assert body["docs"] == "https://owner-demo.hf.space/docs"
    assert body["api_base"] == "https://owner-demo.hf.space/api"


@pytest.mark.parametrize("path", ["/health", "/api/health"])
def test_health_reports_each_dependency_and_the_version(
    client: TestClient, api: FastAPI, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["version"]) == ("ok", __version__)
    assert set(body["dependencies"]) == set(api.state.health_checks)
    assert body["dependencies"]["database"] == {"status": "ok", "message": None}
    assert all(dep["status"] == "ok" for dep in body["dependencies"].values())


@pytest.mark.parametrize("path", ["/", "/health", "/api/health"])
def test_head_answers_like_get_for_uptime_monitors(client: TestClient, path: str) -> None:
    response = client.head(path)
    assert response.status_code == 200
    assert response.content == b""


def test_docs_and_openapi_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/", "/health", "/api/v1/sessions", "/api/v1/sessions/me"} <= set(paths)
    assert "/api/debug/db" not in paths


def test_an_unusable_database_keeps_the_service_up(
    make_settings: MakeSettings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory should be")
    settings = make_settings(database_url=sqlite_url(blocker / "app.db"))

    with (
        caplog.at_level(logging.ERROR, logger="app"),
        TestClient(wrap(create_api(settings), settings)) as client,
    ):
        health = client.get("/health")
        root = client.get("/")
        sessions = client.post("/api/v1/sessions", json={})

    assert health.status_code == 503
    database = health.json()["dependencies"]["database"]
    assert health.json()["status"] == "degraded"
    assert database == {
        "status": "error",
        "message": "startup failed: the database path is not usable",
    }
    assert root.status_code == 200
    assert sessions.status_code == 503
    assert sessions.json() == {
        "detail": "Database unavailable: the database path is not usable",
        "code": "unavailable",
    }
    # The details go to the log only: no path in a public answer.
    assert str(tmp_path) not in health.text + sessions.text
    assert any(
        "Database startup failed" in record.getMessage() and str(blocker) in record.getMessage()
        for record in caplog.records
    )


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("postgresql://user:pw-1234@host:notaport/db", "pw-1234"),
        ("postgresql://user:p@ss/word@127.0.0.1:9/db", "ss/word"),
        ("postgresql://user:a:b@c@127.0.0.1:9/db", "a:b@c"),
        ("mysql+nodriver://u:secret-pw@h/db", "secret-pw"),
        ("://nothing", None),
        ("", None),
    ],
)
def test_a_malformed_database_url_degrades_health_and_never_leaks(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture, url: str, secret: str | None
) -> None:
    settings = make_settings(database_url=url)
    with (
        caplog.at_level(logging.ERROR, logger="app"),
        TestClient(wrap(create_api(settings), settings)) as client,
    ):
        health = client.get("/health")
    assert health.status_code == 503
    assert health.json()["dependencies"]["database"]["status"] == "error"
    assert "Database startup failed" in caplog.text
    if secret is not None:
        assert secret not in caplog.text
        assert secret not in health.text


def test_debug_endpoint_is_404_unless_enabled(client: TestClient) -> None:
    assert client.get("/api/debug/db").status_code == 404


def test_debug_endpoint_reports_the_sqlite_file(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    settings = make_settings(enable_debug_endpoints=True)
    with TestClient(wrap(create_api(settings), settings)) as client:
        body = client.get("/api/debug/db").json()
    assert body["database_url"] == settings.database_url
    assert body["connection"]["status"] == "ok"
    assert body["sqlite"]["journal_mode"] == "wal"
    assert body["sqlite"]["directory_writable"] is True
    assert body["sqlite"]["file"] == str((tmp_path / "data" / "app.db").resolve())


def test_debug_endpoint_never_shows_the_password(make_settings: MakeSettings) -> None:
    # Port 9 on loopback: refused at once (or no driver installed); never the network.
    url = "postgresql://owner:s3cret-pw@127.0.0.1:9/app?sslmode=require&channel_binding=require"
    settings = make_settings(enable_debug_endpoints=True, database_url=url)
    with TestClient(wrap(create_api(settings), settings)) as client:
        response = client.get("/api/debug/db")
    assert response.status_code == 200
    assert "s3cret-pw" not in response.text
    body = response.json()
    assert body["database_url"].startswith("postgresql://owner:***@127.0.0.1:9/app")
    assert body["driver"] == "postgresql+asyncpg"
    assert body["connection"]["status"] == "error"
    # Unlike /health, the debug endpoint shows the details.
    assert body["startup_error"]

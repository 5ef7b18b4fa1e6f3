"""The service endpoints: /, /health, /api/v1/sessions, /api/debug/db, the docs."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app import __version__
from app.config import Settings
from app.cors import wrap_with_cors
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
    with TestClient(wrap_with_cors(create_api(settings), settings)) as client:
        body = client.get("/").json()
    assert body["docs"] == "https://owner-demo.hf.space/docs"
    assert body["api_base"] == "https://owner-demo.hf.space/api"


@pytest.mark.parametrize("path", ["/health", "/api/health"])
def test_health_reports_each_dependency_and_the_version(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "version": __version__,
        "dependencies": {"database": {"status": "ok", "message": None}},
    }


def test_docs_and_openapi_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/", "/health", "/api/v1/sessions", "/api/v1/tasks", "/api/v1/tasks/{task_id}"} <= set(
        paths
    )
    assert "/api/debug/db" not in paths


def test_create_session(client: TestClient) -> None:
    first = client.post("/api/v1/sessions")
    second = client.post("/api/v1/sessions")
    assert first.status_code == second.status_code == 201
    session_id = uuid.UUID(first.json()["session_id"])
    assert session_id != uuid.UUID(second.json()["session_id"])
    created_at = datetime.fromisoformat(first.json()["created_at"])
    assert created_at.utcoffset() == timedelta(0)


def test_an_unusable_database_keeps_the_service_up(
    make_settings: MakeSettings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory should be")
    settings = make_settings(database_url=sqlite_url(blocker / "app.db"))

    with (
        caplog.at_level(logging.ERROR, logger="app"),
        TestClient(wrap_with_cors(create_api(settings), settings)) as client,
    ):
        health = client.get("/health")
        root = client.get("/")
        tasks = client.post("/api/v1/tasks", json={"title": "x"})

    assert health.status_code == 503
    database = health.json()["dependencies"]["database"]
    assert health.json()["status"] == "degraded"
    assert database["status"] == "error"
    assert database["message"].startswith("startup failed:")
    assert root.status_code == 200
    assert tasks.status_code == 503
    assert tasks.json()["detail"].startswith("Database unavailable")
    assert any("Database startup failed" in record.getMessage() for record in caplog.records)


def test_debug_endpoint_is_404_unless_enabled(client: TestClient) -> None:
    assert client.get("/api/debug/db").status_code == 404


def test_debug_endpoint_reports_the_sqlite_file(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    settings = make_settings(enable_debug_endpoints=True)
    with TestClient(wrap_with_cors(create_api(settings), settings)) as client:
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
    with TestClient(wrap_with_cors(create_api(settings), settings)) as client:
        response = client.get("/api/debug/db")
    assert response.status_code == 200
    assert "s3cret-pw" not in response.text
    body = response.json()
    assert body["database_url"].startswith("postgresql://owner:***@127.0.0.1:9/app")
    assert body["driver"] == "postgresql+asyncpg"
    assert body["connection"]["status"] == "error"

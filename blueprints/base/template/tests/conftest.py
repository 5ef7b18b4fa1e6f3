"""Fixtures shared by the test modules of every backend.

Each backend provides ``app.config.Settings`` (a ``BaseAppSettings``) and
``app.main.create_api(settings)``; these fixtures build on them.

Every test gets its own SQLite file under pytest's ``tmp_path``: the tests never touch the
checkout's ./data, read no ``.env`` and need no network.

Fixtures the shared tests rely on (tests/test_cors.py, test_service.py, … among them):
  make_settings(**overrides)  settings for a test, with a temporary database
  settings                    make_settings() with the defaults below
  api                         the FastAPI application built from ``settings``
  client                      a TestClient on ``api`` as uvicorn serves it (guard and CORS
                              around it, ``app.edge``), lifespan started
  auth                        the Authorization header of a new session of ``client``
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

# app.main builds the module-level ``app`` from the environment when imported: keep that one
# off ./data too (its lifespan never runs in the tests).
os.environ["DATABASE_URL"] = "sqlite+aiosqlite:///:memory:"

from app.config import Settings
from app.edge import wrap
from app.main import create_api
from tests.layer_fixtures import *  # noqa: F403  (a layer's fixtures, see that module)
from tests.layer_settings import OVERRIDES
from tests.support import MakeSettings, new_session, sqlite_url


@pytest.fixture
def make_settings(tmp_path: Path) -> MakeSettings:
    """Settings independent of the environment: every field the tests depend on is explicit."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "app_title": "Test API",
            "frontend_url": "https://frontend.example.com",
            "cors_origins": ["https://frontend.example.com", "http://localhost:3000"],
            "cors_origin_regex": r"https://demo-app-(git-[a-z0-9-]+|[a-z0-9]{9})-acme\.vercel\.app",
            "cors_allow_credentials": False,
            "vercel_project": "demo-app",
            "vercel_scope": "acme",
            "max_request_bytes": 64 * 1024,
            "enable_debug_endpoints": False,
            "log_level": "INFO",
            "space_host": None,
            "database_url": sqlite_url(tmp_path / "data" / "app.db"),
            # Tests open many sessions from one address; tests/test_sessions.py sets a limit.
            "session_rate_limit": 0,
        }
        values.update(OVERRIDES)
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture
def settings(make_settings: MakeSettings) -> Settings:
    return make_settings()


@pytest.fixture
def api(settings: Settings) -> FastAPI:
    return create_api(settings)


@pytest.fixture
def client(api: FastAPI, settings: Settings) -> Iterator[TestClient]:
    with TestClient(wrap(api, settings)) as test_client:
        yield test_client


@pytest.fixture
def auth(client: TestClient) -> dict[str, str]:
    return new_session(client)

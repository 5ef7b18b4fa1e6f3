"""Helpers for the tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from app.config import Settings

MakeSettings = Callable[..., Settings]


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def new_session(client: TestClient) -> dict[str, str]:
    """A new session of ``client``: the Authorization header that carries its token."""
    response = client.post("/api/v1/sessions", json={})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}

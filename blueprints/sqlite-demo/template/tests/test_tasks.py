"""/api/v1/tasks: create, list, get, patch, delete; 404 and 422."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

TASKS = "/api/v1/tasks"


def create(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post(TASKS, json={"title": "Write the docs", **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_and_get(client: TestClient) -> None:
    task = create(client, description="README first")
    assert uuid.UUID(task["id"])
    assert task["title"] == "Write the docs"
    assert task["description"] == "README first"
    assert task["done"] is False
    assert task["created_at"].endswith("+00:00") or task["created_at"].endswith("Z")

    response = client.get(f"{TASKS}/{task['id']}")
    assert response.status_code == 200
    assert response.json() == task


def test_list_is_ordered_and_paginated(client: TestClient) -> None:
    ids = [create(client, title=f"task {n}")["id"] for n in range(5)]
    assert [t["id"] for t in client.get(TASKS).json()] == ids
    page = client.get(TASKS, params={"limit": 2, "offset": 1}).json()
    assert [t["id"] for t in page] == ids[1:3]
    assert client.get(TASKS, params={"offset": 10}).json() == []


def test_patch_changes_only_the_given_fields(client: TestClient) -> None:
    task = create(client, description="keep me")
    response = client.patch(f"{TASKS}/{task['id']}", json={"done": True})
    assert response.status_code == 200
    updated = response.json()
    assert updated["done"] is True
    assert updated["title"] == task["title"]
    assert updated["description"] == "keep me"
    assert updated["updated_at"] >= task["updated_at"]

    cleared = client.patch(f"{TASKS}/{task['id']}", json={"description": None}).json()
    assert cleared["description"] is None
    assert client.get(f"{TASKS}/{task['id']}").json() == cleared


def test_delete(client: TestClient) -> None:
    task = create(client)
    response = client.delete(f"{TASKS}/{task['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"{TASKS}/{task['id']}").status_code == 404


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_task_is_404(client: TestClient, method: str) -> None:
    response = client.request(method, f"{TASKS}/{uuid.uuid4()}", json={"done": True})
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "x" * 201},
        {"title": "ok", "done": "maybe"},
        {"title": None},
    ],
)
def test_invalid_task_is_422(client: TestClient, body: dict[str, Any]) -> None:
    assert client.post(TASKS, json=body).status_code == 422


@pytest.mark.parametrize("body", [{"title": None}, {"done": None}, {"title": ""}])
def test_invalid_patch_is_422(client: TestClient, body: dict[str, Any]) -> None:
    task = create(client)
    assert client.patch(f"{TASKS}/{task['id']}", json=body).status_code == 422


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (f"{TASKS}/not-a-uuid", {}),
        (TASKS, {"limit": 0}),
        (TASKS, {"limit": 101}),
        (TASKS, {"offset": -1}),
    ],
)
def test_invalid_path_or_query_is_422(
    client: TestClient, path: str, params: dict[str, int]
) -> None:
    assert client.get(path, params=params).status_code == 422

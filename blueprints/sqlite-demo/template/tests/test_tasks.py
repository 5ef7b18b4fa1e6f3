"""/api/v1/tasks: create, list, get, patch, delete, each within the caller's session; 401, 404
and 422."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import new_session

TASKS = "/api/v1/tasks"


class Session:
    """A client acting as one session: every request carries its token."""

    def __init__(self, client: TestClient, auth: dict[str, str]) -> None:
        self.client, self.auth = client, auth

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def me(client: TestClient, auth: dict[str, str]) -> Session:
    return Session(client, auth)


def create(client: Session, **fields: Any) -> dict[str, Any]:
    response = client.post(TASKS, json={"title": "Write the docs", **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_and_get(me: Session) -> None:
    task = create(me, description="README first")
    assert uuid.UUID(task["id"])
    assert task["title"] == "Write the docs"
    assert task["description"] == "README first"
    assert task["done"] is False
    assert task["created_at"].endswith("+00:00") or task["created_at"].endswith("Z")

    response = me.get(f"{TASKS}/{task['id']}")
    assert response.status_code == 200
    assert response.json() == task


def test_list_is_ordered_and_paginated(me: Session) -> None:
    ids = [create(me, title=f"task {n}")["id"] for n in range(5)]
    assert [t["id"] for t in me.get(TASKS).json()] == ids
    page = me.get(TASKS, params={"limit": 2, "offset": 1}).json()
    assert [t["id"] for t in page] == ids[1:3]
    assert me.get(TASKS, params={"offset": 10}).json() == []


def test_patch_changes_only_the_given_fields(me: Session) -> None:
    task = create(me, description="keep me")
    response = me.patch(f"{TASKS}/{task['id']}", json={"done": True})
    assert response.status_code == 200
    updated = response.json()
    assert updated["done"] is True
    assert updated["title"] == task["title"]
    assert updated["description"] == "keep me"
    assert updated["updated_at"] >= task["updated_at"]

    cleared = me.patch(f"{TASKS}/{task['id']}", json={"description": None}).json()
    assert cleared["description"] is None
    assert me.get(f"{TASKS}/{task['id']}").json() == cleared


def test_delete(me: Session) -> None:
    task = create(me)
    response = me.delete(f"{TASKS}/{task['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert me.get(f"{TASKS}/{task['id']}").status_code == 404


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_task_is_404(me: Session, method: str) -> None:
    response = me.request(method, f"{TASKS}/{uuid.uuid4()}", json={"done": True})
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
def test_invalid_task_is_422(me: Session, body: dict[str, Any]) -> None:
    assert me.post(TASKS, json=body).status_code == 422


@pytest.mark.parametrize("body", [{"title": None}, {"done": None}, {"title": ""}])
def test_invalid_patch_is_422(me: Session, body: dict[str, Any]) -> None:
    task = create(me)
    assert me.patch(f"{TASKS}/{task['id']}", json=body).status_code == 422


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (f"{TASKS}/not-a-uuid", {}),
        (TASKS, {"limit": 0}),
        (TASKS, {"limit": 101}),
        (TASKS, {"offset": -1}),
        (TASKS, {"offset": 10**30}),
        (TASKS, {"limit": "9" * 40}),
        (TASKS, {"offset": "1e400"}),
    ],
)
def test_invalid_path_or_query_is_422(me: Session, path: str, params: dict[str, int]) -> None:
    assert me.get(path, params=params).status_code == 422


def test_tasks_belong_to_their_session(client: TestClient, me: Session) -> None:
    mine = create(me, title="mine")
    other = Session(client, new_session(client))
    theirs = create(other, title="theirs")

    assert [t["id"] for t in me.get(TASKS).json()] == [mine["id"]]
    assert [t["id"] for t in other.get(TASKS).json()] == [theirs["id"]]
    for method in ("GET", "PATCH", "DELETE"):
        response = other.request(method, f"{TASKS}/{mine['id']}", json={"done": True})
        assert response.status_code == 404, method  # 404, not 403: it does not exist for them
        assert response.json()["code"] == "not_found"
    assert me.get(f"{TASKS}/{mine['id']}").json() == mine


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer forged"}])
def test_tasks_need_a_session_token(client: TestClient, headers: dict[str, str]) -> None:
    for method in ("GET", "POST"):
        response = client.request(method, TASKS, json={"title": "x"}, headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"


@pytest.mark.parametrize("text", [r"\ud800", r"a\udfffb", r"nul\u0000byte"])
def test_text_a_database_cannot_hold_is_422_not_500(me: Session, text: str) -> None:
    body = ('{"title": "' + text + '"}').encode()
    response = me.post(TASKS, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


def test_a_cross_origin_text_plain_post_writes_nothing(client: TestClient, me: Session) -> None:
    """A form or a fetch with text/plain needs no preflight; the guard refuses it before it can
    write, whatever origin sent it."""
    response = client.post(
        TASKS,
        content=b'{"title": "from another site"}',
        headers={**me.auth, "Content-Type": "text/plain", "Origin": "https://evil.example"},
    )
    assert response.status_code == 415
    assert me.get(TASKS).json() == []

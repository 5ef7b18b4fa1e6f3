"""Every error is JSON of one shape, keeps its CORS headers, and says nothing it should not: no
stack trace, no file path, no driver message, no more than a short excerpt of the input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from app.config import Settings
from app.edge import wrap
from app.errors import EXCERPT_CHARS, ApiError

FRONTEND = "https://frontend.example.com"


class Item(BaseModel):
    name: int


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    assert set(body) <= {"detail", "code", "errors"}
    return body


@pytest.fixture
def failing(api: FastAPI, settings: Settings) -> Iterator[TestClient]:
    """The application with routes that fail in the ways real code does."""

    async def explode() -> None:
        raise RuntimeError("secret internals at /srv/app/db.py line 12")

    async def refuse() -> None:
        raise ApiError(409, "Already done", code="already_done")

    api.add_api_route("/api/test/explode", explode, methods=["GET"])
    api.add_api_route("/api/test/refuse", refuse, methods=["GET"])
    with TestClient(wrap(api, settings), raise_server_exceptions=False) as client:
        yield client


def test_an_unexpected_exception_is_a_json_500_without_details(failing: TestClient) -> None:
    response = failing.get("/api/test/explode", headers={"Origin": FRONTEND})
    body = assert_error(response, 500, "internal_error")
    assert "secret internals" not in response.text and "/srv/" not in response.text
    assert "Traceback" not in response.text
    assert response.headers["access-control-allow-origin"] == FRONTEND
    assert "server log" in str(body["detail"])


def test_api_errors_keep_their_own_code(failing: TestClient) -> None:
    assert_error(failing.get("/api/test/refuse"), 409, "already_done")


def test_unknown_routes_and_methods_are_json(client: TestClient) -> None:
    response = client.get("/api/no-such-route", headers={"Origin": FRONTEND})
    assert_error(response, 404, "not_found")
    assert response.headers["access-control-allow-origin"] == FRONTEND
    assert_error(client.put("/health", json={}), 405, "method_not_allowed")


def test_a_long_token_is_not_echoed(client: TestClient) -> None:
    huge = "x" * 50_000
    response = client.get("/api/v1/sessions/me", headers={"Authorization": "Bearer " + huge})
    assert_error(response, 401, "unauthorized")
    assert huge not in response.text


@pytest.fixture
def items(api: FastAPI, settings: Settings) -> Iterator[TestClient]:
    """The application with one more route, taking a JSON body."""

    async def create(item: Item) -> Item:
        return item

    api.add_api_route("/api/test/items", create, methods=["POST"])
    with TestClient(wrap(api, settings)) as client:
        yield client


def post_raw(client: TestClient, body: bytes) -> Any:
    return client.post(
        "/api/test/items", content=body, headers={"Content-Type": "application/json"}
    )


def test_a_validation_error_never_echoes_more_than_an_excerpt(items: TestClient) -> None:
    response = items.post("/api/test/items", json={"name": "y" * 10_000})
    body = assert_error(response, 422, "validation_error")
    errors = body["errors"]
    assert isinstance(errors, list) and errors[0]["loc"] == ["body", "name"]
    assert len(errors[0]["input"]) <= EXCERPT_CHARS + 1
    assert len(response.content) < 1000


def test_text_utf8_cannot_hold_gives_a_json_error(items: TestClient) -> None:
    response = post_raw(items, b'{"name": "\\ud800 lone surrogate", "\\udfff": 1}')
    body = assert_error(response, 422, "validation_error")
    assert "\\ud800" in response.text or "ud800" in str(body)


def test_malformed_json_is_a_json_error(items: TestClient) -> None:
    response = post_raw(items, b'{"unclosed": ')
    assert_error(response, 422, "validation_error")


def test_deeply_nested_json_is_a_json_error(items: TestClient) -> None:
    response = post_raw(items, b"[" * 20_000 + b"]" * 20_000)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/json"
    assert response.json()["code"] in ("bad_request", "validation_error")

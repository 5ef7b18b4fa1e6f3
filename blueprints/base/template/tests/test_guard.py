"""What the API accepts before a route runs: bodies up to MAX_REQUEST_BYTES (413 beyond it,
while the body streams in) and JSON only for writes (415 otherwise), all answered in JSON with
the CORS headers. ``settings`` sets MAX_REQUEST_BYTES to 64 KiB."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.edge import wrap
from app.guard import RequestGuard, is_json
from app.main import create_api
from tests.support import MakeSettings

FRONTEND = "https://frontend.example.com"


def test_a_body_over_the_limit_is_refused_before_it_is_read(
    client: TestClient, settings: Settings
) -> None:
    body = b'{"title": "' + b"x" * (settings.max_request_bytes + 1) + b'"}'
    response = client.post(
        "/api/v1/sessions",
        content=body,
        headers={"Content-Type": "application/json", "Origin": FRONTEND},
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": f"Request body larger than {settings.max_request_bytes} bytes",
        "code": "payload_too_large",
    }
    assert response.headers["access-control-allow-origin"] == FRONTEND


@pytest.fixture
def reader(api: FastAPI, settings: Settings) -> Iterator[TestClient]:
    """The application with one more route, which reads the whole body."""

    async def size(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    api.add_api_route("/api/test/size", size, methods=["POST"])
    with TestClient(wrap(api, settings)) as client:
        yield client


def test_a_chunked_body_is_counted_while_it_streams_in(
    reader: TestClient, settings: Settings
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):  # 100 chunks of 16 KiB: far more than the limit
            yield b"x" * (16 * 1024)

    response = reader.post(
        "/api/test/size", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def guarded(
    app: ASGIApp,
    receive: Receive,
    limit: int,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> list[Message]:
    """What the guard around ``app`` sends for a JSON POST whose body ``receive`` gives."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), *(headers or [])],
    }
    asyncio.run(RequestGuard(app, limit)(scope, receive, send))
    return sent


def test_the_guard_stops_reading_as_soon_as_the_limit_is_passed() -> None:
    """At the ASGI level: an app that would read forever gets no chunk past the limit."""
    chunks_read = 0

    async def endless_body() -> Message:
        nonlocal chunks_read
        chunks_read += 1
        return {"type": "http.request", "body": b"x" * 1024, "more_body": True}

    async def greedy_app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            await receive()

    sent = guarded(greedy_app, endless_body, 10 * 1024)
    assert chunks_read == 11
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413


def test_a_body_at_the_limit_is_accepted(reader: TestClient, settings: Settings) -> None:
    padding = settings.max_request_bytes - len(b'{"pad": ""}')
    body = b'{"pad": "' + b"x" * padding + b'"}'
    assert len(body) == settings.max_request_bytes
    for content in (body, iter([body[:1000], body[1000:]])):
        response = reader.post(
            "/api/test/size", content=content, headers={"Content-Type": "application/json"}
        )
        assert response.json() == {"bytes": settings.max_request_bytes}


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_a_write_that_is_not_json_is_refused_and_writes_nothing(
    client: TestClient, auth: dict[str, str], content_type: str | None
) -> None:
    headers = {"Origin": "https://evil.example", **auth}
    if content_type:
        headers["Content-Type"] = content_type
    response = client.post("/api/v1/sessions", content=b'{"a": 1}', headers=headers)
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    ("value", "json"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/merge-patch+json", True),
        ("text/json", False),
        ("text/plain", False),
        ("", False),
        (None, False),
    ],
)
def test_json_media_types(value: str | None, json: bool) -> None:
    assert is_json(value) is json


def test_reads_need_no_content_type(client: TestClient) -> None:
    assert client.get("/health").status_code == 200


def test_the_limit_is_configurable(make_settings: MakeSettings) -> None:
    settings = make_settings(max_request_bytes=2048)
    with TestClient(wrap(create_api(settings), settings)) as client:
        response = client.post(
            "/api/v1/sessions",
            content=b"[" + b"0," * 2000 + b"0]",
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 413


def test_a_content_length_that_is_not_a_number_is_a_json_400() -> None:
    async def never_called(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("the app saw the request")

    async def no_body() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    sent = guarded(never_called, no_body, 1024, [(b"content-length", b"12abc")])
    assert sent[0]["status"] == 400
    assert b'"code":"bad_request"' in sent[1]["body"]

"""The document endpoints against the fake upstream's embeddings and Qdrant's embedded mode:
ingestion, replacement by source, listing, removal, the admin token, and failures that leave
nothing half-stored."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import Settings
from app.documents import document_id
from app.vectors import VectorStore
from tests.fake_upstream import FakeUpstream
from tests.layer_fixtures import ADMIN_TOKEN
from tests.rag_support import DOCUMENTS, HANDBOOK, RECIPES, ingest, points, running


def test_a_document_is_chunked_embedded_and_listed(
    rag_client: TestClient, rag_api: FastAPI, admin: dict[str, str], upstream: FakeUpstream
) -> None:
    response = ingest(rag_client, admin, "handbook.md", HANDBOOK, title="Staff handbook")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] == str(document_id("handbook.md"))
    assert body["title"] == "Staff handbook" and body["format"] == "markdown"
    assert body["replaced"] is False
    assert body["chunks"] >= 2
    assert points(rag_client, rag_api, body["id"]) == body["chunks"]
    embedded = [e for e in upstream.log if e["path"].endswith("/embeddings")]
    assert embedded and embedded[-1]["body"]["model"] == "text-embedding-3-small"
    assert embedded[-1]["body"]["dimensions"] == 64

    listed = rag_client.get(DOCUMENTS, headers=admin).json()
    assert [d["source"] for d in listed] == ["handbook.md"]
    one = rag_client.get(f"{DOCUMENTS}/{body['id']}", headers=admin)
    assert one.status_code == 200 and one.json()["chunks"] == body["chunks"]


def test_ingesting_the_same_source_replaces_the_document(
    rag_client: TestClient, rag_api: FastAPI, admin: dict[str, str]
) -> None:
    first = ingest(rag_client, admin, "handbook.md", HANDBOOK).json()
    again = ingest(rag_client, admin, "handbook.md", HANDBOOK)
    assert again.status_code == 200 and again.json()["replaced"] is True
    assert points(rag_client, rag_api) == first["chunks"], "the same document was stored twice"

    shorter = ingest(rag_client, admin, "handbook.md", "Only one short paragraph now.")
    assert shorter.json()["chunks"] == 1
    assert points(rag_client, rag_api) == 1, "chunks of the old version were left behind"
    assert len(rag_client.get(DOCUMENTS, headers=admin).json()) == 1


def test_deleting_a_document_removes_its_passages(
    rag_client: TestClient, rag_api: FastAPI, admin: dict[str, str]
) -> None:
    handbook = ingest(rag_client, admin, "handbook.md", HANDBOOK).json()
    recipes = ingest(rag_client, admin, "recipes.md", RECIPES).json()
    deleted = rag_client.delete(f"{DOCUMENTS}/{handbook['id']}", headers=admin)
    assert deleted.status_code == 204
    assert points(rag_client, rag_api) == recipes["chunks"]
    assert rag_client.get(f"{DOCUMENTS}/{handbook['id']}", headers=admin).status_code == 404
    again = rag_client.delete(f"{DOCUMENTS}/{handbook['id']}", headers=admin)
    assert again.status_code == 404 and again.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthorized"),
        ({"Authorization": "Bearer wrong"}, 401, "unauthorized"),
        ({"Authorization": "Basic YWRtaW46YWRtaW4="}, 401, "unauthorized"),
    ],
)
def test_documents_need_the_admin_token(
    rag_client: TestClient, rag_api: FastAPI, headers: dict[str, str], status: int, code: str
) -> None:
    for method, path in [("POST", DOCUMENTS), ("GET", DOCUMENTS), ("POST", f"{DOCUMENTS}/reindex")]:
        response = rag_client.request(
            method, path, json={"source": "x", "text": "y"}, headers=headers
        )
        assert (response.status_code, response.json()["code"]) == (status, code), path
    assert points(rag_client, rag_api) == 0


def test_a_session_token_is_not_the_admin_token(
    rag_client: TestClient, rag_api: FastAPI, admin: dict[str, str]
) -> None:
    session = rag_client.post("/api/v1/sessions", json={}).json()["token"]
    response = ingest(rag_client, {"Authorization": f"Bearer {session}"}, "a.md", "text")
    assert response.status_code == 401


def test_without_an_admin_token_document_management_is_off(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = ingest(client, admin, "handbook.md", HANDBOOK)
    assert response.status_code == 503
    assert response.json()["code"] == "admin_not_configured"
    assert "ADMIN_TOKEN" in response.json()["detail"]


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"source": "a.md", "text": "   \n "}, "text must not be empty"),
        ({"source": "  ", "text": "hello"}, "source must not be empty"),
        ({"source": "a.md", "text": "x" * 600}, "MAX_DOCUMENT_CHARS"),
        ({"source": "a.md", "text": "hello", "format": "pdf"}, "format"),
        ({"source": "a.md"}, "text"),
        ({"source": "a" * 501, "text": "hello"}, "source"),
    ],
)
def test_bad_documents_are_refused_with_the_reason(
    make_settings: Any,
    upstream: FakeUpstream,
    admin: dict[str, str],
    fields: dict[str, Any],
    needle: str,
) -> None:
    settings = make_settings(
        model_base_url=upstream.url, admin_token=ADMIN_TOKEN, max_document_chars=500
    )
    with running(settings) as (client, api):
        response = client.post(DOCUMENTS, json=fields, headers=admin)
        assert response.status_code == 422, response.text
        assert needle in response.text
        assert points(client, api) == 0


def test_a_text_json_cannot_carry_is_refused(
    rag_client: TestClient, rag_api: FastAPI, admin: dict[str, str]
) -> None:
    body = b'{"source": "a.md", "text": "an unpaired surrogate: \\ud800"}'
    headers = {**admin, "Content-Type": "application/json"}
    response = rag_client.post(DOCUMENTS, content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert points(rag_client, rag_api) == 0


def test_a_failing_embedding_service_stores_nothing(
    rag_client: TestClient, rag_api: FastAPI, admin: dict[str, str]
) -> None:
    ingest(rag_client, admin, "handbook.md", HANDBOOK)
    before = points(rag_client, rag_api)
    response = ingest(rag_client, admin, "handbook.md", HANDBOOK + "\n\n[embed-error]")
    assert response.status_code == 502
    assert response.json()["code"] == "upstream_error"
    assert points(rag_client, rag_api) == before
    listed = rag_client.get(DOCUMENTS, headers=admin).json()
    assert listed[0]["characters"] == len(HANDBOOK.strip()), "the old version was replaced"


def test_vectors_of_the_wrong_size_are_refused_before_anything_is_stored(
    make_settings: Any, upstream: FakeUpstream, admin: dict[str, str]
) -> None:
    # A model outside text-embedding-3 gets no `dimensions`: the fake answers with 1536.
    settings = make_settings(
        model_base_url=upstream.url, admin_token=ADMIN_TOKEN, embedding_model="other-embedder"
    )
    with running(settings) as (client, api):
        response = client.post(DOCUMENTS, json={"source": "a", "text": "hello"}, headers=admin)
        assert response.status_code == 502
        body = response.json()
        assert body["code"] == "embedding_dimensions"
        assert "1536" in body["detail"] and "EMBEDDING_DIMENSIONS" in body["detail"]
        assert "dimensions" not in upstream.log[-1]["body"]
        assert points(client, api) == 0


def test_reindex_embeds_every_document_again(
    rag_client: TestClient, rag_api: FastAPI, admin: dict[str, str], upstream: FakeUpstream
) -> None:
    a = ingest(rag_client, admin, "handbook.md", HANDBOOK).json()
    b = ingest(rag_client, admin, "recipes.md", RECIPES, format="text").json()
    store: VectorStore = rag_api.state.vector_store
    for doc in (a, b):  # as if the embedded store was lost with the container's disk
        assert rag_client.portal is not None
        rag_client.portal.call(store.delete, uuid.UUID(doc["id"]))
    assert points(rag_client, rag_api) == 0
    response = rag_client.post(f"{DOCUMENTS}/reindex", json={}, headers=admin)
    assert response.status_code == 202
    assert response.headers["location"] == f"{DOCUMENTS}/reindex"
    deadline = time.monotonic() + 10
    while (status := rag_client.get(f"{DOCUMENTS}/reindex", headers=admin).json())[
        "state"
    ] == "running" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert status["state"] == "done", status
    assert (status["documents_done"], status["chunks_done"]) == (2, a["chunks"] + b["chunks"])
    assert points(rag_client, rag_api) == a["chunks"] + b["chunks"]


def test_the_store_reopens_with_its_points(tmp_path: Any) -> None:
    settings = Settings(
        _env_file=None,
        qdrant_url=None,
        qdrant_path=str(tmp_path / "qdrant"),
        embedding_dimensions=4,
        database_url="sqlite+aiosqlite:///:memory:",
    )
    doc = document_id("a.md")

    async def write_then_read() -> int:
        first = VectorStore(settings)
        await first.start()
        await first.write(doc, 1, "0" * 64, "a", ["one", "two"], [[1, 0, 0, 0], [0, 1, 0, 0]])
        await first.stop()
        second = VectorStore(settings)
        await second.start()
        try:
            return await second.count(doc)
        finally:
            await second.stop()

    assert asyncio.run(write_then_read()) == 2

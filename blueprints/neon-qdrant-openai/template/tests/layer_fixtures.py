"""Fixtures in every test module (``conftest`` imports this module): the chat layer's
(``tests.chat_fixtures``: ``upstream``, ``chat_client``, ``chat_auth``) and this backend's: a
client whose documents can be managed (``ADMIN_TOKEN`` set), its app, and the header that carries
the token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.edge import wrap
from app.main import create_api
from tests.chat_fixtures import *  # noqa: F403
from tests.fake_upstream import FakeUpstream
from tests.support import MakeSettings

ADMIN_TOKEN = "admin-token-for-tests"


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def rag_api(make_settings: MakeSettings, upstream: FakeUpstream) -> FastAPI:
    """The app talking to the fake upstream (chat and embeddings), with the admin token set;
    small chunks, so a short document makes several."""
    settings = make_settings(
        model_base_url=upstream.url,
        model_name="fake/model",
        model_timeout_s=2.0,
        stream_keepalive_s=0.3,
        admin_token=ADMIN_TOKEN,
        chunk_chars=300,
        chunk_overlap=40,
    )
    return create_api(settings)


@pytest.fixture
def rag_client(rag_api: FastAPI) -> Iterator[TestClient]:
    with TestClient(wrap(rag_api, rag_api.state.settings)) as client:
        yield client

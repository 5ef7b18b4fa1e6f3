"""The chat layer's fixtures (``tests.layer_fixtures`` brings them to every test module): a fake
OpenAI-compatible upstream (``tests.fake_upstream``) and a client of the app pointed at it
through its normal base-URL setting."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.edge import wrap
from app.main import create_api
from tests.fake_upstream import FakeUpstream
from tests.support import MakeSettings, new_session

__all__ = ["chat_auth", "chat_client", "upstream"]


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as server:
        yield server


@pytest.fixture
def chat_client(make_settings: MakeSettings, upstream: FakeUpstream) -> Iterator[TestClient]:
    """The app with a key, talking to the fake upstream; no retries, short timeouts."""
    settings = make_settings(
        model_base_url=upstream.url,
        model_api_key="test-key",
        model_name="fake/model",
        model_max_retries=0,
        model_timeout_s=1.0,
        stream_keepalive_s=0.3,
    )
    with TestClient(wrap(create_api(settings), settings)) as client:
        yield client


@pytest.fixture
def chat_auth(chat_client: TestClient) -> dict[str, str]:
    return new_session(chat_client)

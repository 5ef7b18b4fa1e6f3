"""OpenRouter specifics: its variable names, the attribution headers and the fallback models
reach the upstream as OpenRouter expects them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.config import OPENROUTER_URL, Settings
from app.edge import wrap
from app.main import create_api
from tests.fake_upstream import FakeUpstream
from tests.support import MakeSettings, new_session


def test_openrouter_names_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test")
    monkeypatch.setenv("OPENROUTER_MODEL", "anthropic/claude-3.5-haiku")
    monkeypatch.setenv("OPENROUTER_FALLBACK_MODELS", "openai/gpt-4o-mini, meta/llama")
    settings = Settings(_env_file=None)
    assert settings.model_api_key is not None
    assert settings.model_api_key.get_secret_value() == "sk-or-test"
    assert settings.model_name == "anthropic/claude-3.5-haiku"
    assert settings.model_fallbacks == ["openai/gpt-4o-mini", "meta/llama"]
    assert settings.model_base_url == OPENROUTER_URL
    assert "sk-or-test" not in repr(settings)


def test_attribution_headers_and_fallbacks_reach_openrouter(
    make_settings: MakeSettings, upstream: FakeUpstream
) -> None:
    settings = make_settings(
        model_base_url=upstream.url,
        model_api_key="k",
        model_name="openai/gpt-4o-mini",
        model_fallbacks=["anthropic/claude-3.5-haiku"],
    )
    with TestClient(wrap(create_api(settings), settings)) as client:
        auth = new_session(client)
        assert client.post("/api/v1/chat", json={"message": "hi"}, headers=auth).status_code == 200
    sent = upstream.log[-1]
    assert sent["headers"]["http-referer"] == settings.frontend_url
    assert sent["headers"]["x-openrouter-title"] == settings.app_title
    assert sent["body"]["models"] == ["openai/gpt-4o-mini", "anthropic/claude-3.5-haiku"]


def test_a_title_no_header_can_carry_still_lets_chat_work(
    make_settings: MakeSettings, upstream: FakeUpstream
) -> None:
    settings = make_settings(
        model_base_url=upstream.url,
        model_api_key="k",
        app_title='He said "hi"\nsecond line ünï 🚀',
    )
    with TestClient(wrap(create_api(settings), settings)) as client:
        auth = new_session(client)
        response = client.post("/api/v1/chat", json={"message": "hi"}, headers=auth)
    assert response.status_code == 200, response.text
    assert upstream.log[-1]["headers"]["x-openrouter-title"] == 'He said "hi" second line n'

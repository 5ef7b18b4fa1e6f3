"""Settings every test starts from, on top of the defaults in ``conftest.make_settings``: a chat
backend is healthy only with a model API key. The URL points at a closed port, so a test that
forgets to start ``tests.fake_upstream`` fails fast instead of calling a real service."""

from __future__ import annotations

from typing import Any

OVERRIDES: dict[str, Any] = {
    "model_api_key": "test-key",
    "model_base_url": "http://127.0.0.1:9/v1",
    "model_max_retries": 0,
}

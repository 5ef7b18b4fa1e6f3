"""Settings every test starts from, on top of the defaults in ``conftest.make_settings``: a key
for the model (at a closed port, so a test that forgets to start ``tests.fake_upstream`` fails
fast instead of calling a real service), small vectors, and Qdrant's embedded mode in memory,
so no test touches ./data/qdrant."""

from __future__ import annotations

from typing import Any

EMBEDDING_DIMENSIONS = 64

OVERRIDES: dict[str, Any] = {
    "model_api_key": "test-key",
    "model_base_url": "http://127.0.0.1:9/v1",
    "model_max_retries": 0,
    "embedding_model": "text-embedding-3-small",
    "embedding_dimensions": EMBEDDING_DIMENSIONS,
    "qdrant_url": None,
    "qdrant_path": ":memory:",
}

"""Settings every test starts from, on top of the defaults in ``conftest.make_settings``: a layer
or a blueprint that needs more to be healthy (an API key, say) replaces this file."""

from __future__ import annotations

from typing import Any

OVERRIDES: dict[str, Any] = {}

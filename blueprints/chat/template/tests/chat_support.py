"""Helpers for the chat tests (their fixtures are in ``tests.layer_fixtures``)."""

from __future__ import annotations

import json
from typing import Any


def events(body: str) -> list[dict[str, Any]]:
    """The ``data:`` events of a Server-Sent Events body, decoded."""
    return [
        json.loads(line.removeprefix("data: "))
        for line in body.splitlines()
        if line.startswith("data: ")
    ]

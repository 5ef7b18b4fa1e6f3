"""Helpers for the tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.config import Settings

MakeSettings = Callable[..., Settings]


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"

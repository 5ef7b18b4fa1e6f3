"""Health reporting: the state of each dependency, checked on every request to /health.

The backend registers its checks on ``api.state.health_checks`` (name → async callable);
``app.routers.health`` runs them. A failing dependency never stops /health from answering.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from pydantic import BaseModel


class DependencyHealth(BaseModel):
    status: Literal["ok", "error"]
    message: str | None = None

    @classmethod
    def ok(cls, message: str | None = None) -> DependencyHealth:
        return cls(status="ok", message=message)

    @classmethod
    def error(cls, message: str) -> DependencyHealth:
        return cls(status="error", message=message)


class HealthReport(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    dependencies: dict[str, DependencyHealth]


HealthCheck = Callable[[], Awaitable[DependencyHealth]]


def describe_error(exc: BaseException) -> str:
    """One line for logs and health reports: the exception's type and message."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

"""Health reporting: the state of each dependency, checked on every request to /health.

The backend registers its checks on ``api.state.health_checks`` (name → async callable);
``app.routers.health`` runs them. A failing dependency never stops /health from answering.

/health is public: it says which dependency is down and why in safe words
(:func:`public_reason`: "connection refused", "authentication failed", …), never a driver's
message, a host name or a file path. The details go to the log, and to /api/debug/... when
ENABLE_DEBUG_ENDPOINTS is on.
"""

from __future__ import annotations

import errno
import socket
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


# Words for failures by exception class name, for drivers this module does not import.
_BY_NAME = {
    "InvalidPasswordError": "authentication failed",
    "InvalidAuthorizationSpecificationError": "authentication failed",
    "InvalidCatalogNameError": "the database does not exist",
    "ArgumentError": "the database URL is not valid",
    "UnexpectedResponse": "unexpected answer from the server",
    "AuthenticationError": "authentication failed",
    "RateLimitError": "rate limited",
    "APITimeoutError": "no answer in time",
    "APIConnectionError": "cannot connect",
}


def public_reason(exc: BaseException) -> str:
    """Why a dependency failed, in words safe to show anyone: no message text, host or path.

    Looks through the chain of causes (a SQLAlchemy error wraps the driver's), so the words name
    the real cause where it is known, and the exception's class otherwise."""
    for candidate in _causes(exc):
        reason = _reason(candidate)
        if reason is not None:
            return reason
    return f"failed ({type(exc).__name__})"


def is_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says a server could not be reached in time: a
    failure that may pass, unlike a wrong password or URL."""
    return any(
        isinstance(e, TimeoutError)
        or (isinstance(e, OSError) and not isinstance(e, PermissionError))
        for e in _causes(exc)
    )


# Reasons (of :func:`public_reason`) that only a change of configuration fixes.
_LASTING = frozenset(
    {
        "authentication failed",
        "the database does not exist",
        "the database URL is not valid",
        "the driver is not installed",
        "the database path is not usable",
        "permission denied (the data directory must be writable by uid 1000)",
    }
)


def is_lasting(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure that trying again cannot fix (a wrong URL, password or
    path, a missing driver or database), unlike a server that is down, busy or failing for a
    moment."""
    return public_reason(exc) in _LASTING


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it (a SQLAlchemy error wraps the driver's in ``orig``)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 8:
        chain.append(current)
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return chain


def _reason(exc: BaseException) -> str | None:
    for cls in type(exc).__mro__:
        if cls.__name__ in _BY_NAME:
            return _BY_NAME[cls.__name__]
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, ModuleNotFoundError):
        return "the driver is not installed"
    if isinstance(exc, PermissionError):
        return "permission denied (the data directory must be writable by uid 1000)"
    if isinstance(exc, socket.gaierror):
        return "host name not found"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError) and exc.errno in _PATH_ERRNOS:
        return "the database path is not usable"
    if isinstance(exc, OSError):
        return "cannot connect"
    if "unable to open database file" in str(exc):
        return "the database file cannot be opened"
    return None


_PATH_ERRNOS = (errno.ENOTDIR, errno.ENOENT, errno.EISDIR, errno.EEXIST, errno.EROFS)

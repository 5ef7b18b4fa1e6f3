"""Error responses: one JSON shape for every error, from a 404 to an unexpected exception.

Every error the API answers with looks like this::

    {"detail": "Task 4f… not found", "code": "not_found"}

``detail`` is for people, ``code`` for programs (it never changes for a given kind of error).
A validation error (422) adds ``errors``, one entry per problem, with at most a short excerpt of
the offending value::

    {"detail": "Invalid request", "code": "validation_error",
     "errors": [{"loc": ["body", "title"], "msg": "String should have at least 1 character",
                 "type": "string_too_short", "input": ""}]}

A database that is down, locked, full or out of free connections answers 503 with
``Retry-After`` (code ``database_busy`` when the pool had no free connection in time,
``unavailable`` otherwise), a write that collides with another one 409: never a 500.

Nothing in a response carries a stack trace, a file path or a driver's message: those go to the
log. Because the whole application is wrapped in the CORS middleware (``app.edge``), every one
of these responses keeps its CORS headers, so the browser shows the real error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException

from app.health import describe_error, is_unreachable

logger = logging.getLogger(__name__)

# The ``code`` of each status this API answers with.
CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}

# How long a client is asked to wait after a 503 of the database (seconds).
DATABASE_RETRY_AFTER_S = 5
# Words of SQLite and Postgres errors that pass: another writer, a full disk, a server going away.
_PASSING = ("database is locked", "disk is full", "disk i/o error", "connection was closed")

# How much of an invalid value a validation error shows.
EXCERPT_CHARS = 40
# How many validation problems one response lists.
MAX_ERRORS = 20


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str
    input: str | int | float | bool | None = None


class ErrorBody(BaseModel):
    """The body of every error response."""

    detail: str
    code: str
    errors: list[FieldError] | None = None


class ApiError(HTTPException):
    """An HTTP error with a ``code`` of its own (otherwise the code follows the status)."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=dict(headers or {}))
        self.code = code or code_for(status_code)


def code_for(status_code: int) -> str:
    return CODES.get(status_code, "error" if status_code < 500 else "internal_error")


def safe_text(value: str, limit: int = EXCERPT_CHARS) -> str:
    """``value`` cut to ``limit`` characters, every character encodable as UTF-8 (an unpaired
    surrogate, which JSON allows but UTF-8 does not, is written as ``\\udXXX``)."""
    cut = value if len(value) <= limit else value[:limit] + "…"
    return cut.encode("utf-8", "backslashreplace").decode("utf-8")


def error_response(
    status_code: int,
    detail: str,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
    errors: list[FieldError] | None = None,
) -> JSONResponse:
    body = ErrorBody(detail=safe_text(detail, 500), code=code or code_for(status_code))
    if errors is not None:
        body.errors = errors
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status_code, headers=dict(headers or {})
    )


def _excerpt(value: Any) -> str | int | float | bool | None:
    """A short, safe stand-in for an invalid input: scalars cut short, containers omitted."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value if abs(value) < 1e15 else safe_text(repr(value))
    if isinstance(value, str):
        return safe_text(value)
    return None


def _field_errors(raw: Sequence[Any]) -> list[FieldError]:
    errors = []
    for item in list(raw)[:MAX_ERRORS]:
        loc = [part if isinstance(part, int) else safe_text(str(part)) for part in item["loc"]]
        errors.append(
            FieldError(
                loc=loc,
                msg=safe_text(str(item.get("msg", "")), 200),
                type=safe_text(str(item.get("type", "")), 60),
                input=_excerpt(item.get("input")),
            )
        )
    return errors


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else code_for(exc.status_code)
    code = getattr(exc, "code", None)
    return error_response(exc.status_code, detail, code, exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "Invalid request", errors=_field_errors(exc.errors()))


def database_error(exc: BaseException) -> tuple[int, str, str] | None:
    """Status, code and words for a database failure that is not the request's fault, or
    ``None`` for any other exception."""
    if isinstance(exc, sa_exc.TimeoutError):
        return 503, "database_busy", "The database is busy; try again shortly"
    if isinstance(exc, sa_exc.IntegrityError):
        return 409, "conflict", "This conflicts with a change made at the same time; try again"
    transient = sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.DisconnectionError
    if isinstance(exc, transient) or (
        isinstance(exc, sa_exc.DBAPIError)
        and (exc.connection_invalidated or any(w in str(exc).lower() for w in _PASSING))
    ):
        return 503, "unavailable", "The database is unavailable; try again shortly"
    if is_unreachable(exc):
        return 503, "unavailable", "A service this API needs is unavailable; try again shortly"
    return None


async def _passing_error(request: Request, exc: Exception) -> JSONResponse:
    """A database or network failure (handled here, not re-raised: it is no bug)."""
    return await _unexpected_error(request, exc)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    known = database_error(exc)
    if known is not None:
        status_code, code, detail = known
        logger.warning(
            "%s %s answered %d (%s): %s",
            request.method,
            request.url.path,
            status_code,
            code,
            describe_error(exc),
        )
        headers = {"Retry-After": str(DATABASE_RETRY_AFTER_S)} if status_code == 503 else None
        return error_response(status_code, detail, code, headers)
    logger.error("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "Internal server error: the details are in the server log")


def install_error_handlers(api: FastAPI) -> None:
    """Answer every error of ``api`` in the shape above."""
    api.add_exception_handler(HTTPException, _http_error)
    api.add_exception_handler(RequestValidationError, _validation_error)
    api.add_exception_handler(sa_exc.SQLAlchemyError, _passing_error)
    api.add_exception_handler(OSError, _passing_error)
    api.add_exception_handler(Exception, _unexpected_error)

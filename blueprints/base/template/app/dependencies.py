"""Request dependencies: the settings, the database, a database session per request, and the
client's session from its bearer token.

A request holds at most one pooled connection at a time: the token lookup uses a short session
of its own, closed before the route runs. Code that waits on another service (a model, a
vector store) opens short sessions around its database work (:func:`short_session`) instead of
holding ``DbDep`` across the wait."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.base_settings import BaseAppSettings
from app.db import RETRY_AFTER_S, Database
from app.errors import ApiError
from app.sessions import SessionRecord, hash_token

# Reads ``Authorization: Bearer <token>``; a missing header is answered below, in JSON.
_bearer = HTTPBearer(auto_error=False, description="The token of POST /api/v1/sessions")


def get_settings(request: Request) -> BaseAppSettings:
    settings: BaseAppSettings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


@asynccontextmanager
async def short_session(database: Database) -> AsyncIterator[AsyncSession]:
    """A database session for one piece of work; 503 while the database is unavailable."""
    if not await database.ready() or database.sessionmaker is None:
        reason = database.startup_reason or "not started"
        raise ApiError(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"Database unavailable: {reason}",
            headers={"Retry-After": str(int(RETRY_AFTER_S))},
        )
    async with database.sessionmaker() as session:
        yield session


async def get_db(
    database: Annotated[Database, Depends(get_database)],
) -> AsyncIterator[AsyncSession]:
    async with short_session(database) as session:
        yield session


SettingsDep = Annotated[BaseAppSettings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
DbDep = Annotated[AsyncSession, Depends(get_db)]


async def get_current_session(
    database: DatabaseDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> SessionRecord:
    """The session whose token the request carries; 401 without a known one."""
    if credentials is None:
        raise ApiError(
            status.HTTP_401_UNAUTHORIZED,
            "Send the session token: Authorization: Bearer <token> (POST /api/v1/sessions)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    statement = select(SessionRecord).where(
        SessionRecord.token_hash == hash_token(credentials.credentials)
    )
    async with short_session(database) as db:
        record = (await db.exec(statement)).first()
    if record is None:
        raise ApiError(
            status.HTTP_401_UNAUTHORIZED,
            "Unknown or expired session token: create a new session",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return record


CurrentSessionDep = Annotated[SessionRecord, Depends(get_current_session)]

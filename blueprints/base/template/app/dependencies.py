"""Request dependencies: the settings, the database, a database session per request, and the
client's session from its bearer token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.base_settings import BaseAppSettings
from app.db import Database
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


async def get_db(
    database: Annotated[Database, Depends(get_database)],
) -> AsyncIterator[AsyncSession]:
    if not await database.ready() or database.sessionmaker is None:
        reason = database.startup_reason or "not started"
        raise ApiError(status.HTTP_503_SERVICE_UNAVAILABLE, f"Database unavailable: {reason}")
    async with database.sessionmaker() as session:
        yield session


SettingsDep = Annotated[BaseAppSettings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
DbDep = Annotated[AsyncSession, Depends(get_db)]


async def get_current_session(
    db: DbDep,
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
    record = (await db.exec(statement)).first()
    if record is None:
        raise ApiError(
            status.HTTP_401_UNAUTHORIZED,
            "Unknown or expired session token: create a new session",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return record


CurrentSessionDep = Annotated[SessionRecord, Depends(get_current_session)]

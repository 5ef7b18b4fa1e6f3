"""Request dependencies: the settings, the database, a database session per request, and the
client's session from its bearer token.

A request holds at most one pooled connection at a time: the token lookup uses a short session
of its own, closed before the route runs. Code that waits on another service (a model, a
vector store) opens short sessions around its database work (:func:`short_session`) instead of
holding ``DbDep`` across the wait."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import exc as sa_exc
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.base_settings import BaseAppSettings
from app.db import RETRY_AFTER_S, Database
from app.errors import ApiError
from app.sessions import SessionActivity, SessionRecord, hash_token, refresh_interval
from app.timestamps import utcnow

logger = logging.getLogger(__name__)

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
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> SessionRecord:
    """The session whose token the request carries; 401 without a known one, or with one
    unused for SESSION_TTL_HOURS. Records the use (see ``app.sessions``)."""
    if credentials is None:
        raise ApiError(
            status.HTTP_401_UNAUTHORIZED,
            "Send the session token: Authorization: Bearer <token> (POST /api/v1/sessions)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    statement = (
        select(SessionRecord, SessionActivity.last_seen_at)
        .outerjoin(SessionActivity, col(SessionActivity.session_id) == col(SessionRecord.id))
        .where(SessionRecord.token_hash == hash_token(credentials.credentials))
    )
    ttl = timedelta(hours=settings.session_ttl_hours)
    async with short_session(database) as db:
        row = (await db.exec(statement)).first()
        if row is None:
            raise ApiError(
                status.HTTP_401_UNAUTHORIZED,
                "Unknown session token: create a new session",
                headers={"WWW-Authenticate": "Bearer"},
            )
        record, last_seen = row
        now = utcnow()
        if ttl and last_seen is not None and now - last_seen > ttl:
            raise ApiError(
                status.HTTP_401_UNAUTHORIZED,
                "This session expired (unused too long): create a new session",
                code="session_expired",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if last_seen is None or now - last_seen > refresh_interval(ttl):
            await _seen(db, record, last_seen, now)
    return record


async def _seen(
    db: AsyncSession, record: SessionRecord, last_seen: datetime | None, now: datetime
) -> None:
    """Records a use of ``record``'s session. A session from before its activity was kept
    (``last_seen`` None) starts its time now. Best effort: a database that cannot write now
    (locked, full) does not fail a request that only reads."""
    try:
        if last_seen is None:
            db.add(SessionActivity(session_id=record.id, last_seen_at=now))
        else:
            await db.exec(
                update(SessionActivity)
                .where(col(SessionActivity.session_id) == record.id)
                .values(last_seen_at=now)
            )
        await db.commit()
    except (sa_exc.IntegrityError, sa_exc.OperationalError) as exc:
        await db.rollback()  # another request recorded it first, or no write is possible now
        logger.info("The use of a session was not recorded: %s", type(exc).__name__)


CurrentSessionDep = Annotated[SessionRecord, Depends(get_current_session)]

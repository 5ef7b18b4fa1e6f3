"""``/api/v1/sessions``: anonymous client sessions (see ``app.sessions``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status

from app.clients import client_address
from app.dependencies import CurrentSessionDep, DbDep, SettingsDep
from app.errors import ErrorBody
from app.ratelimit import RateLimiter
from app.sessions import (
    SessionActivity,
    SessionCreated,
    SessionRead,
    SessionRecord,
    hash_token,
    new_token,
)

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No session token, or an unknown one"}
}


TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorBody, "description": "Too many new sessions from this address"}
}


@router.post("", status_code=status.HTTP_201_CREATED, responses=TOO_MANY, summary="Start a session")
async def create_session(request: Request, settings: SettingsDep, db: DbDep) -> SessionCreated:
    """A new anonymous session. The token is in this answer only: keep it, and send it as
    ``Authorization: Bearer <token>``. At most SESSION_RATE_LIMIT per client address per
    minute: every other limit is per session, so creating sessions must not be free."""
    limiter: RateLimiter = request.app.state.session_limiter
    limiter.check(client_address(request, settings.trusted_proxy_hops), "new sessions")
    token = new_token()
    record = SessionRecord(token_hash=hash_token(token))
    db.add(record)
    await db.flush()  # the session's row first: the activity row refers to it
    db.add(SessionActivity(session_id=record.id, last_seen_at=record.created_at))
    await db.commit()
    return SessionCreated(session_id=record.id, created_at=record.created_at, token=token)


@router.get("/me", responses=UNAUTHORIZED, summary="The session of this token")
async def read_session(session: CurrentSessionDep) -> SessionRead:
    return SessionRead(session_id=session.id, created_at=session.created_at)

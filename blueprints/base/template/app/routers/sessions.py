"""``/api/v1/sessions``: anonymous client sessions (see ``app.sessions``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from app.dependencies import CurrentSessionDep, DbDep
from app.errors import ErrorBody
from app.sessions import SessionCreated, SessionRead, SessionRecord, hash_token, new_token

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No session token, or an unknown one"}
}


@router.post("", status_code=status.HTTP_201_CREATED, summary="Start a session")
async def create_session(db: DbDep) -> SessionCreated:
    """A new anonymous session. The token is in this answer only: keep it, and send it as
    ``Authorization: Bearer <token>``."""
    token = new_token()
    record = SessionRecord(token_hash=hash_token(token))
    db.add(record)
    await db.commit()
    return SessionCreated(session_id=record.id, created_at=record.created_at, token=token)


@router.get("/me", responses=UNAUTHORIZED, summary="The session of this token")
async def read_session(session: CurrentSessionDep) -> SessionRead:
    return SessionRead(session_id=session.id, created_at=session.created_at)

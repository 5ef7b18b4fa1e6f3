"""``/api/v1/sessions``: anonymous client sessions (an id the frontend can keep)."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.dependencies import SessionDep
from app.models import SessionCreated, SessionRecord

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Start a session")
async def create_session(db: SessionDep) -> SessionCreated:
    record = SessionRecord()
    db.add(record)
    await db.commit()
    return SessionCreated(session_id=record.id, created_at=record.created_at)

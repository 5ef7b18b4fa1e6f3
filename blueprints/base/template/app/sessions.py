"""Anonymous sessions: the client's identity, without an account.

``POST /api/v1/sessions`` creates a session and returns its token **once**; the server keeps
only the token's SHA-256, so a copy of the database does not let anyone act as a client. The
frontend stores the token (e.g. in ``localStorage``) and sends it with every request::

    Authorization: Bearer <token>

Everything a client creates belongs to its session; another session's data answers 404, as if
it did not exist.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from app.timestamps import UTCDateTime, utcnow

# 32 random bytes: 43 URL-safe characters.
TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class SessionRecord(SQLModel, table=True):
    __tablename__ = "sessions"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SessionRead(BaseModel):
    session_id: uuid.UUID
    created_at: datetime


class SessionCreated(SessionRead):
    """Returned once, at creation: the only time the token is ever shown."""

    token: str

"""Anonymous sessions: the client's identity, without an account.

``POST /api/v1/sessions`` creates a session and returns its token **once**; the server keeps
only the token's SHA-256, so a copy of the database does not let anyone act as a client. The
frontend stores the token (e.g. in ``localStorage``) and sends it with every request::

    Authorization: Bearer <token>

Everything a client creates belongs to its session; another session's data answers 404, as if
it did not exist.

A session unused for SESSION_TTL_HOURS expires (its token answers 401 ``session_expired``; what
it created stays in the database). Every use starts the time again: the last use is kept in
``session_activity``, written at most every :func:`refresh_interval`, so that reading does not
turn into a write on every request.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

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


class SessionActivity(SQLModel, table=True):
    """When a session was last used (a table of its own: the sessions table is not changed)."""

    __tablename__ = "session_activity"

    session_id: uuid.UUID = Field(foreign_key="sessions.id", primary_key=True)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# The longest a session's last use may go unrecorded.
MAX_REFRESH_INTERVAL = timedelta(hours=1)


def refresh_interval(ttl: timedelta) -> timedelta:
    """How stale a session's recorded last use may get before it is written again: a tenth of
    the TTL, at most :data:`MAX_REFRESH_INTERVAL`."""
    return min(MAX_REFRESH_INTERVAL, ttl / 10) if ttl else MAX_REFRESH_INTERVAL


class SessionRead(BaseModel):
    session_id: uuid.UUID
    created_at: datetime


class SessionCreated(SessionRead):
    """Returned once, at creation: the only time the token is ever shown."""

    token: str

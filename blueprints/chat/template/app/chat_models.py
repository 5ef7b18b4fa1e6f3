"""The messages of a conversation, each owned by the session that sent or received it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from app.grounding import Source
from app.timestamps import UTCDateTime, utcnow

Role = Literal["user", "assistant"]


class ChatMessage(SQLModel, table=True):
    __tablename__ = "chat_messages"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    session_id: uuid.UUID = Field(foreign_key="sessions.id", index=True)
    role: str = Field(max_length=16)
    content: str = Field(sa_type=Text)
    # False for an answer that did not finish (the upstream failed or the client went away).
    complete: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class ChatRequest(BaseModel):
    message: str


class ChatAnswer(BaseModel):
    message_id: uuid.UUID
    content: str
    # The passages the answer was grounded in, best first (empty without grounding).
    sources: list[Source] = []


class MessageRead(BaseModel):
    id: uuid.UUID
    role: Role
    content: str
    complete: bool
    created_at: datetime

"""The documents the answers come from: one row per document (its text included, so that the
vector store can be rebuilt from the database), and the request and response models."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from app.timestamps import UTCDateTime, utcnow

Format = Literal["markdown", "text"]

# Document ids derive from their source name: the same source is the same document.
_NAMESPACE = uuid.UUID("5d1c7a57-2f4e-4b8e-9a43-6f0d6f1b8c21")


def document_id(source: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, source)


class Document(SQLModel, table=True):
    __tablename__ = "documents"

    id: uuid.UUID = Field(primary_key=True)
    source: str = Field(max_length=500, unique=True)
    title: str = Field(max_length=300)
    format: str = Field(max_length=16)
    content: str = Field(sa_type=Text)
    sha256: str = Field(max_length=64)
    chunks: int
    characters: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class DocumentIn(BaseModel):
    # A name the document is known by (a file name, a URL, …): sending the same source again
    # replaces the document.
    source: str = PydanticField(min_length=1, max_length=500)
    # Shown with the answers' sources; the source when empty.
    title: str | None = PydanticField(default=None, max_length=300)
    text: str
    format: Format = "markdown"


class DocumentRead(BaseModel):
    id: uuid.UUID
    source: str
    title: str
    format: Format
    chunks: int
    characters: int
    sha256: str
    created_at: datetime
    updated_at: datetime


class Ingested(DocumentRead):
    # True when a document with this source existed and was replaced.
    replaced: bool


class ReindexStatus(BaseModel):
    """The re-index job: ``idle`` (none since the app started), ``running``, ``done`` or
    ``failed`` (``error`` says why; the documents not done yet keep their passages)."""

    state: Literal["idle", "running", "done", "failed"] = "idle"
    documents_total: int = 0
    documents_done: int = 0
    chunks_done: int = 0
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

"""The tasks table and the request/response models built on it. A task belongs to the session
that created it (``app.sessions``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, model_validator
from sqlmodel import Field, SQLModel

from app.text import encodable
from app.timestamps import UTCDateTime, utcnow

TITLE_MAX = 200
DESCRIPTION_MAX = 2000

Text = Annotated[str, AfterValidator(encodable)]


class TaskBase(SQLModel):
    title: Text = Field(min_length=1, max_length=TITLE_MAX)
    description: Text | None = Field(default=None, max_length=DESCRIPTION_MAX)
    done: bool = False


class Task(TaskBase, table=True):
    __tablename__ = "tasks"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    session_id: uuid.UUID = Field(foreign_key="sessions.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TaskCreate(TaskBase):
    pass


class TaskUpdate(SQLModel):
    """A partial update: only the fields present in the request body change."""

    title: Text | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    description: Text | None = Field(default=None, max_length=DESCRIPTION_MAX)
    done: bool | None = None

    @model_validator(mode="after")
    def _required_fields_not_null(self) -> TaskUpdate:
        for name in ("title", "done"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class TaskRead(TaskBase):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime

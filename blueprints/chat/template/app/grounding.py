"""Grounding: what a backend adds to a question before the model sees it (passages retrieved
from its documents, say), and the sources they came from, returned with the answer.

A backend passes a :class:`Grounding` to ``app.chat.build_chat_api``; without one, questions go
to the model as they are and answers carry no sources.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel


class Source(BaseModel):
    """A passage the answer was grounded in."""

    document_id: uuid.UUID
    title: str
    chunk: int
    score: float
    text: str


@dataclass
class Grounded:
    """Instructions for the model (sent as the system message) and the sources behind them."""

    instructions: str | None = None
    sources: list[Source] = field(default_factory=list)


class Grounding(Protocol):
    async def ground(self, question: str) -> Grounded:
        """Context for ``question``; raises ``app.errors.ApiError`` (or
        ``app.upstream.UpstreamError``) when what it needs is unavailable."""
        ...

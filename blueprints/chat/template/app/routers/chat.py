"""``/api/v1/chat``: answers from the model, whole (``POST /api/v1/chat``) or streamed as
Server-Sent Events (``POST /api/v1/chat/stream``), and the conversation so far
(``GET /api/v1/chat/messages``).

Every route needs the session token. The user's message is stored before the model is asked;
the answer is stored when it is complete, or marked incomplete when the upstream failed or the
client went away. The stream sends one JSON object per event::

    data: {"type": "token", "content": "Hel"}
    data: {"type": "sources", "sources": [{"document_id": "…", "title": "…", "chunk": 0, …}]}
    data: {"type": "done", "message_id": "…", "content": "Hello"}
    data: {"type": "error", "code": "upstream_timeout", "message": "…"}

(``sources`` only from a backend that grounds its answers, ``app.grounding``)

and a comment line (``: keep-alive``) when it has been quiet for STREAM_KEEPALIVE_S. When the
client disconnects, the upstream request is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import StreamingResponse
from sqlmodel import col, select

from app.chat_models import ChatAnswer, ChatMessage, ChatRequest, MessageRead
from app.chat_settings import ChatSettings
from app.db import Database
from app.dependencies import CurrentSessionDep, DatabaseDep, DbDep, SettingsDep
from app.errors import ApiError, ErrorBody
from app.grounding import Grounded, Grounding, Source
from app.history import bounded
from app.ratelimit import RateLimiter
from app.routers.sessions import UNAUTHORIZED
from app.sessions import SessionRecord
from app.text import encodable
from app.upstream import Upstream, UpstreamError

router = APIRouter(prefix="/api/v1/chat", tags=["chat"], responses=UNAUTHORIZED)

RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorBody, "description": "Too many chat requests from this session"},
    503: {"model": ErrorBody, "description": "The model is not configured or rate limited"},
}


def get_upstream(request: Request) -> Upstream:
    upstream: Upstream = request.app.state.model
    return upstream


def get_chat_settings(settings: SettingsDep) -> ChatSettings:
    assert isinstance(settings, ChatSettings)
    return settings


UpstreamDep = Annotated[Upstream, Depends(get_upstream)]
ChatSettingsDep = Annotated[ChatSettings, Depends(get_chat_settings)]


async def rate_limited_session(request: Request, session: CurrentSessionDep) -> SessionRecord:
    """The caller's session, within its rate limit (429 with Retry-After beyond it)."""
    limiter: RateLimiter = request.app.state.chat_limiter
    wait = limiter.retry_after(str(session.id))
    if wait is not None:
        raise ApiError(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"Too many chat requests; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    return session


ChatSessionDep = Annotated[SessionRecord, Depends(rate_limited_session)]


def _checked(payload: ChatRequest, settings: ChatSettings, upstream: Upstream) -> str:
    text = payload.message.strip()
    if not text or len(text) > settings.max_message_chars:
        raise ApiError(
            422,
            f"message must hold 1 to {settings.max_message_chars} characters",
            code="validation_error",
        )
    try:
        encodable(text)
    except ValueError as exc:
        raise ApiError(422, str(exc), code="validation_error") from exc
    if not upstream.configured:
        raise ApiError(
            503,
            f"The model is not configured: set {settings.KEY_VARIABLE}",
            code="model_not_configured",
        )
    return text


async def _store(database: Database, message: ChatMessage) -> ChatMessage:
    """Stores ``message`` with a session of its own: it may run after the request's ended."""
    if database.sessionmaker is None:
        raise ApiError(503, "Database unavailable", code="unavailable")
    async with database.sessionmaker() as db:
        db.add(message)
        await db.commit()
    return message


async def _history(
    database: Database, session: SessionRecord, settings: ChatSettings
) -> list[dict[str, str]]:
    if database.sessionmaker is None:
        raise ApiError(503, "Database unavailable", code="unavailable")
    async with database.sessionmaker() as db:
        statement = (
            select(ChatMessage)
            .where(col(ChatMessage.session_id) == session.id)
            .order_by(col(ChatMessage.created_at).desc(), col(ChatMessage.id))
            .limit(2 * settings.history_max_turns + 1)
        )
        newest_first = list(await db.exec(statement))
    return bounded(
        list(reversed(newest_first)), settings.history_max_turns, settings.history_max_chars
    )


@dataclass
class Question:
    """A checked and stored question, with the conversation to send to the model and, from a
    backend that grounds its answers, the sources (``None`` without grounding)."""

    session_id: uuid.UUID
    messages: list[dict[str, str]]
    sources: list[Source] | None = None


async def _grounded(grounding: Grounding | None, text: str) -> Grounded | None:
    if grounding is None:
        return None
    try:
        return await grounding.ground(text)
    except UpstreamError as exc:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        raise ApiError(exc.status, exc.message, code=exc.code, headers=headers) from exc


async def ask(
    request: Request,
    payload: ChatRequest,
    session: ChatSessionDep,
    database: DatabaseDep,
    upstream: UpstreamDep,
    settings: ChatSettingsDep,
) -> Question:
    text = _checked(payload, settings, upstream)
    # Grounded first: a question that cannot be answered now is not stored.
    grounded = await _grounded(getattr(request.app.state, "grounding", None), text)
    await _store(database, ChatMessage(session_id=session.id, role="user", content=text))
    messages = await _history(database, session, settings)
    if grounded is None:
        return Question(session.id, messages)
    if grounded.instructions:
        messages = [{"role": "system", "content": grounded.instructions}, *messages]
    return Question(session.id, messages, grounded.sources)


QuestionDep = Annotated[Question, Depends(ask)]


@router.post("", responses=RESPONSES, summary="Ask the model; the answer comes whole")
async def chat(question: QuestionDep, database: DatabaseDep, upstream: UpstreamDep) -> ChatAnswer:
    try:
        answer = await upstream.complete(question.messages)
    except UpstreamError as exc:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        raise ApiError(exc.status, exc.message, code=exc.code, headers=headers) from exc
    message = ChatMessage(session_id=question.session_id, role="assistant", content=answer)
    stored = await _store(database, message)
    return ChatAnswer(message_id=stored.id, content=answer, sources=question.sources or [])


def _event(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post(
    "/stream",
    responses={**RESPONSES, 200: {"content": {"text/event-stream": {}}}},
    response_class=StreamingResponse,
    summary="Ask the model; the answer streams as Server-Sent Events",
)
async def chat_stream(
    question: QuestionDep,
    database: DatabaseDep,
    upstream: UpstreamDep,
    settings: ChatSettingsDep,
) -> StreamingResponse:
    events = _answer_events(database, question, upstream, settings.stream_keepalive_s)
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _answer_events(
    database: Database, question: Question, upstream: Upstream, keepalive_s: float
) -> AsyncIterator[str]:
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for piece in upstream.stream(question.messages):
                await queue.put(("token", piece))
            await queue.put(("done", None))
        except UpstreamError as exc:
            await queue.put(("error", exc))

    task = asyncio.create_task(pump())
    parts: list[str] = []
    stored = False

    async def store(complete: bool) -> ChatMessage:
        nonlocal stored
        stored = True
        message = ChatMessage(
            session_id=question.session_id,
            role="assistant",
            content="".join(parts),
            complete=complete,
        )
        return await _store(database, message)

    try:
        while True:
            try:
                kind, value = await asyncio.wait_for(queue.get(), timeout=keepalive_s)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if kind == "token":
                parts.append(value)
                yield _event({"type": "token", "content": value})
            elif kind == "done":
                message = await store(complete=True)
                if question.sources is not None:
                    sources = [source.model_dump(mode="json") for source in question.sources]
                    yield _event({"type": "sources", "sources": sources})
                yield _event(
                    {"type": "done", "message_id": str(message.id), "content": message.content}
                )
                return
            else:
                await store(complete=False)
                yield _event({"type": "error", "code": value.code, "message": value.message})
                return
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if not stored:  # the client went away: keep what came, marked incomplete
            with contextlib.suppress(Exception):
                await asyncio.shield(store(complete=False))


@router.get("/messages", summary="This session's conversation, oldest first")
async def list_messages(
    db: DbDep,
    session: CurrentSessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[MessageRead]:
    statement = (
        select(ChatMessage)
        .where(col(ChatMessage.session_id) == session.id)
        .order_by(col(ChatMessage.created_at), col(ChatMessage.id))
        .offset(offset)
        .limit(limit)
    )
    return [MessageRead.model_validate(m, from_attributes=True) for m in await db.exec(statement)]

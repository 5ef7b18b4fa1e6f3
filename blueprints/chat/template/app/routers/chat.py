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
client disconnects, the upstream request is cancelled. A stream always ends with ``done`` or
``error``: whatever goes wrong while the answer is read (see ``app.upstream``), and when the
answer takes longer than MODEL_DEADLINE_S (code ``answer_deadline``).

No database connection is held while the model answers: the question and the answer are stored
with short sessions of their own. What a request may spend is checked before the model is asked:
the session's rate limit, the global one, and the global token budget (``app.ratelimit``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlmodel import col, select

from app.chat_models import ChatAnswer, ChatMessage, ChatRequest, MessageRead
from app.chat_settings import ChatSettings
from app.db import Database
from app.dependencies import (
    CurrentSessionDep,
    DatabaseDep,
    DbDep,
    SettingsDep,
    short_session,
)
from app.errors import ApiError, ErrorBody
from app.grounding import Grounded, Grounding, Source
from app.history import bounded
from app.ratelimit import RateLimiter
from app.routers.sessions import UNAUTHORIZED
from app.sessions import SessionRecord
from app.text import encodable
from app.upstream import Upstream, UpstreamError, translate

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/chat", tags=["chat"], responses=UNAUTHORIZED)

# Budget and global limiter keys.
EVERYONE = "*"
# Characters per token, to estimate a prompt's tokens before sending it.
CHARS_PER_TOKEN = 4

RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorBody, "description": "Too many chat requests, or the budget is spent"},
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
    """The caller's session, within its rate limit and the global one (429 with Retry-After
    beyond them)."""
    limiter: RateLimiter = request.app.state.chat_limiter
    limiter.check(str(session.id), "chat requests from this session")
    everyone: RateLimiter = request.app.state.chat_global_limiter
    everyone.check(EVERYONE, "chat requests on this Space")
    return session


def _spend(request: Request, messages: list[dict[str, str]], settings: ChatSettings) -> None:
    """Counts the request against the token budget at its worst (prompt plus the longest
    answer allowed); 429 when the budget of the last minute is spent."""
    prompt = sum(len(m["content"]) for m in messages) // CHARS_PER_TOKEN + 1
    budget: RateLimiter = request.app.state.chat_token_budget
    budget.check(EVERYONE, "tokens spent on this Space", prompt + settings.model_max_tokens)


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
    async with short_session(database) as db:
        db.add(message)
        await db.commit()
    return message


async def _record(
    request: Request,
    database: Database,
    settings: ChatSettings,
    question: ChatMessage,
    instructions: str | None,
) -> list[dict[str, str]]:
    """What the model gets (``instructions``, the newest turns of the conversation, then
    ``question``), with ``question`` stored, in one short database session. Nothing is stored
    when the token budget refuses the request."""
    async with short_session(database) as db:
        statement = (
            select(ChatMessage)
            .where(col(ChatMessage.session_id) == question.session_id)
            .order_by(col(ChatMessage.created_at).desc(), col(ChatMessage.id))
            .limit(2 * settings.history_max_turns)
        )
        earlier = list(reversed(list(await db.exec(statement))))
        messages = bounded(
            [*earlier, question], settings.history_max_turns, settings.history_max_chars
        )
        if instructions:
            messages = [{"role": "system", "content": instructions}, *messages]
        _spend(request, messages, settings)
        db.add(question)
        await db.commit()
    return messages


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
    user = ChatMessage(session_id=session.id, role="user", content=text)
    instructions = grounded.instructions if grounded is not None else None
    messages = await _record(request, database, settings, user, instructions)
    if grounded is None:
        return Question(session.id, messages)
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
    events = _answer_events(database, question, upstream, settings)
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _deadline_passed() -> UpstreamError:
    return UpstreamError("answer_deadline", "The answer took longer than this Space allows", 504)


async def _answer_events(
    database: Database, question: Question, upstream: Upstream, settings: ChatSettings
) -> AsyncIterator[str]:
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def pump() -> None:
        """Reads the upstream into ``queue``; always ends with ``done`` or ``error``."""
        try:
            async with asyncio.timeout(settings.model_deadline_s):
                async for piece in upstream.stream(question.messages):
                    await queue.put(("token", piece))
        except TimeoutError:
            await queue.put(("error", _deadline_passed()))
        except UpstreamError as exc:
            await queue.put(("error", exc))
        except Exception as exc:  # never a silent end: the client would wait forever
            logger.exception("Reading the model's answer failed")
            await queue.put(("error", translate(exc)))
        else:
            await queue.put(("done", None))

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
                kind, value = await asyncio.wait_for(queue.get(), settings.stream_keepalive_s)
            except TimeoutError:
                if task.done() and queue.empty():  # the reader was cancelled without a word
                    kind, value = "error", translate(RuntimeError("the reader ended"))
                else:
                    yield ": keep-alive\n\n"
                    continue
            if kind == "token":
                parts.append(value)
                yield _event({"type": "token", "content": value})
                continue
            try:
                message = await store(complete=kind == "done")
            except Exception as exc:
                logger.warning("Storing the answer failed: %s", exc)
                yield _event(
                    {
                        "type": "error",
                        "code": "not_stored",
                        "message": "The answer could not be stored; try again shortly",
                    }
                )
                return
            if kind == "done":
                if question.sources is not None:
                    sources = [source.model_dump(mode="json") for source in question.sources]
                    yield _event({"type": "sources", "sources": sources})
                yield _event(
                    {"type": "done", "message_id": str(message.id), "content": message.content}
                )
            else:
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

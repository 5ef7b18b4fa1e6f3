"""What a chat backend adds to the application: the model upstream as a component, the chat
routes and their rate limiter. ``app.main`` of a chat backend calls :func:`build_chat_api`."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI

from app.application import Component, build_api
from app.chat_settings import ChatSettings
from app.grounding import Grounding
from app.ratelimit import RateLimiter
from app.routers import chat
from app.upstream import Upstream


def build_chat_api(
    settings: ChatSettings,
    routers: Sequence[APIRouter] = (),
    components: Sequence[Component] = (),
    grounding: Grounding | None = None,
    upstream: Upstream | None = None,
) -> FastAPI:
    """The application with the model upstream (``api.state.model``; ``upstream`` when the
    backend needs it too) and the chat routes; ``grounding`` adds context and sources to every
    question (``app.grounding``)."""
    model = upstream if upstream is not None else Upstream(settings)
    api = build_api(settings, [chat.router, *routers], [model, *components])
    api.state.chat_limiter = RateLimiter(settings.chat_rate_limit)
    api.state.chat_global_limiter = RateLimiter(settings.chat_global_rate_limit)
    api.state.chat_token_budget = RateLimiter(settings.chat_tokens_per_minute)
    api.state.grounding = grounding
    return api

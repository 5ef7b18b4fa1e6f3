"""What a chat backend adds to the application: the model upstream as a component, the chat
routes and their rate limiter. ``app.main`` of a chat backend calls :func:`build_chat_api`."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI

from app.application import Component, build_api
from app.chat_settings import ChatSettings
from app.ratelimit import RateLimiter
from app.routers import chat
from app.upstream import Upstream


def build_chat_api(
    settings: ChatSettings,
    routers: Sequence[APIRouter] = (),
    components: Sequence[Component] = (),
) -> FastAPI:
    api = build_api(settings, [chat.router, *routers], [Upstream(settings), *components])
    api.state.chat_limiter = RateLimiter(settings.chat_rate_limit)
    return api

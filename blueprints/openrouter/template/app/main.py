"""The application: ``uvicorn app.main:app``.

``api`` is the FastAPI application (``app.chat.build_chat_api``: the database, the OpenRouter
upstream, the shared routers and the chat routes); ``app`` is ``api`` behind the request guard
and the CORS middleware (``app.edge``). Use ``api`` for anything that needs the FastAPI object.
"""

from __future__ import annotations

from fastapi import FastAPI

from app.chat import build_chat_api
from app.config import Settings
from app.edge import wrap
from app.logs import configure_logging


def create_api(settings: Settings) -> FastAPI:
    return build_chat_api(settings)


settings = Settings()
configure_logging(settings.log_level)
api = create_api(settings)
app = wrap(api, settings)

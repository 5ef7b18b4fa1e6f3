"""The application: ``uvicorn app.main:app``.

``api`` is the FastAPI application (``app.chat.build_chat_api``: the database, the OpenAI
upstream, the vector store, the shared routers, the chat routes grounded in the documents, and
the document routes); ``app`` is ``api`` behind the request guard and the CORS middleware
(``app.edge``). Use ``api`` for anything that needs the FastAPI object.
"""

from __future__ import annotations

from fastapi import FastAPI

from app.chat import build_chat_api
from app.config import Settings
from app.edge import wrap
from app.logs import configure_logging
from app.retrieval import Retriever
from app.routers import documents
from app.upstream import Upstream
from app.vectors import VectorStore


def create_api(settings: Settings) -> FastAPI:
    upstream = Upstream(settings)
    store = VectorStore(settings)
    return build_chat_api(
        settings,
        routers=[documents.router],
        components=[store],
        grounding=Retriever(settings, upstream, store),
        upstream=upstream,
    )


settings = Settings()
configure_logging(settings.log_level)
api = create_api(settings)
app = wrap(api, settings)

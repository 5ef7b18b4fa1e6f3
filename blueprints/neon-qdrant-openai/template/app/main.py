"""The application: ``uvicorn app.main:app``.

``api`` is the FastAPI application (``app.chat.build_chat_api``: the database, the OpenAI
upstream, the vector store, the shared routers, the chat routes grounded in the documents, and
the document routes); ``app`` is ``api`` behind the request guard and the CORS middleware
(``app.edge``). Use ``api`` for anything that needs the FastAPI object.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.chat import build_chat_api
from app.config import Settings
from app.edge import wrap
from app.knowledge import Library
from app.logs import configure_logging
from app.retrieval import Retriever
from app.routers import documents
from app.upstream import Upstream
from app.vectors import VectorStore


def create_api(settings: Settings) -> FastAPI:
    upstream = Upstream(settings)
    store = VectorStore(settings)
    library = Library(settings, upstream, store)
    api = build_chat_api(
        settings,
        routers=[documents.router],
        components=[store],
        grounding=Retriever(settings, upstream, store, library),
        upstream=upstream,
    )
    library.database = api.state.database
    api.state.library = library
    # Every start of the store (the first, or a retry) removes points no committed document
    # version owns: the database starts before it.
    store.on_start = library.reconcile
    components = api.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with components(app):
            try:
                yield
            finally:
                await library.stop()  # a re-index under way, before the store closes

    api.router.lifespan_context = lifespan
    return api


settings = Settings()
configure_logging(settings.log_level)
api = create_api(settings)
app = wrap(api, settings)

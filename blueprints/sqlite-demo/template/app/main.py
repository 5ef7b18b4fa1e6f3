"""The application: ``uvicorn app.main:app``.

``api`` is the FastAPI application; ``app`` is ``api`` behind the request guard and the CORS
middleware (``app.edge``), so that every response, a 413 or an unhandled 500 included, is JSON
with the CORS headers. Use ``api`` for anything that needs the FastAPI object (routes,
``state``, ``dependency_overrides``, ``openapi()``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__
from app.config import Settings
from app.db import Database
from app.edge import wrap
from app.errors import install_error_handlers
from app.logs import configure_logging
from app.routers import debug, health, root, sessions, tasks


@asynccontextmanager
async def lifespan(api: FastAPI) -> AsyncIterator[None]:
    database: Database = api.state.database
    await database.start()  # never raises: a failure shows in /health
    try:
        yield
    finally:
        await database.stop()


def create_api(settings: Settings) -> FastAPI:
    api = FastAPI(
        title=settings.app_title,
        version=__version__,
        summary="API-only backend; the user interface is the separate frontend.",
        lifespan=lifespan,
    )
    database = Database(settings.database_url)
    api.state.settings = settings
    api.state.database = database
    api.state.health_checks = {"database": database.check}
    install_error_handlers(api)

    api.include_router(root.router)
    api.include_router(health.router)
    api.include_router(sessions.router)
    api.include_router(tasks.router)
    if settings.enable_debug_endpoints:
        api.include_router(debug.router)
    return api


settings = Settings()
configure_logging(settings.log_level)
api = create_api(settings)
app = wrap(api, settings)

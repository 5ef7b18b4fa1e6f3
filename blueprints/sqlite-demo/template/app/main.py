"""The application: ``uvicorn app.main:app``.

``api`` is the FastAPI application (``app.application.build_api``: the database, the shared
routers, the error handlers) with this backend's tasks; ``app`` is ``api`` behind the request
guard and the CORS middleware (``app.edge``), so that every response, a 413 or an unhandled 500
included, is JSON with the CORS headers. Use ``api`` for anything that needs the FastAPI object
(routes, ``state``, ``dependency_overrides``, ``openapi()``).
"""

from __future__ import annotations

from fastapi import FastAPI

from app.application import build_api
from app.config import Settings
from app.edge import wrap
from app.logs import configure_logging
from app.routers import tasks


def create_api(settings: Settings) -> FastAPI:
    return build_api(settings, [tasks.router])


settings = Settings()
configure_logging(settings.log_level)
api = create_api(settings)
app = wrap(api, settings)

"""Everything between the network and the API, in order: CORS outermost, so that every answer
(a 413, a 415, an unexpected 500) carries the CORS headers and the browser shows the real error;
then the request guard (body size, JSON for writes); then the FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp

from app.base_settings import BaseAppSettings
from app.cors import wrap_with_cors
from app.guard import RequestGuard


def wrap(api: FastAPI, settings: BaseAppSettings) -> ASGIApp:
    """The ASGI application uvicorn serves: ``api`` behind the guard, behind CORS."""
    return wrap_with_cors(RequestGuard(api, settings.max_request_bytes), settings)

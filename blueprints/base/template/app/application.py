"""The FastAPI application every backend builds: ``build_api(settings, routers, components)``.

Components are what the app depends on (the database, a model upstream, …). Each is started in
the lifespan (never raising: a failure shows in /health and in the routes that need it), stopped
at shutdown in reverse order, reachable as ``api.state.<name>``, and checked by /health. The
routers every backend shares come first: ``/``, ``/health``, sessions, and the debug endpoints
when ENABLE_DEBUG_ENDPOINTS is on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

from fastapi import APIRouter, FastAPI

from app import __version__
from app.base_settings import BaseAppSettings
from app.db import Database, PoolLimits
from app.errors import install_error_handlers
from app.health import DependencyHealth
from app.ratelimit import RateLimiter
from app.routers import debug, health, root, sessions


class Component(Protocol):
    """Something the app depends on, with a lifecycle and a health check."""

    @property
    def name(self) -> str: ...

    async def start(self) -> None:
        """Get ready; never raises (keep the failure for ``check``)."""

    async def stop(self) -> None: ...

    async def check(self) -> DependencyHealth: ...


def build_api(
    settings: BaseAppSettings,
    routers: Sequence[APIRouter],
    components: Sequence[Component] = (),
) -> FastAPI:
    """The application: the database and ``components``, the shared routers, then ``routers``."""
    limits = PoolLimits(settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout_s)
    parts: list[Component] = [
        Database(settings.database_url, limits, settings.migrate_on_start),
        *components,
    ]

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        for part in parts:
            await part.start()
        try:
            yield
        finally:
            for part in reversed(parts):
                await part.stop()

    api = FastAPI(
        title=settings.app_title,
        version=__version__,
        summary="API-only backend; the user interface is the separate frontend.",
        lifespan=lifespan,
    )
    api.state.settings = settings
    for part in parts:
        setattr(api.state, part.name, part)
    api.state.health_checks = {part.name: part.check for part in parts}
    api.state.session_limiter = RateLimiter(settings.session_rate_limit)
    install_error_handlers(api)

    api.include_router(root.router)
    api.include_router(health.router)
    api.include_router(sessions.router)
    for router in routers:
        api.include_router(router)
    if settings.enable_debug_endpoints:
        api.include_router(debug.router)
    return api

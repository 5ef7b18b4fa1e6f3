"""``/health`` and ``/api/health``: 200 when every dependency is ok, 503 otherwise. ``HEAD``
answers the same status without a body, for uptime monitors."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response, status

from app import __version__
from app.health import DependencyHealth, HealthCheck, HealthReport, public_reason

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="Service and dependency health",
    responses={503: {"model": HealthReport, "description": "A dependency is failing"}},
)
@router.get("/api/health", include_in_schema=False)
@router.head("/health", include_in_schema=False)
@router.head("/api/health", include_in_schema=False)
async def health(request: Request, response: Response) -> HealthReport:
    checks: dict[str, HealthCheck] = getattr(request.app.state, "health_checks", {})
    dependencies: dict[str, DependencyHealth] = {}
    for name, check in checks.items():
        try:
            dependencies[name] = await check()
        except Exception as exc:  # a broken check is reported, never raised
            logger.exception("Health check %r failed", name)
            dependencies[name] = DependencyHealth.error(public_reason(exc))
    healthy = all(dep.status == "ok" for dep in dependencies.values())
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return HealthReport(
        status="ok" if healthy else "degraded",
        version=__version__,
        dependencies=dependencies,
    )

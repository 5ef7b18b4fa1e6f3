"""Two health checks:

- ``/health`` and ``/api/health`` (readiness): 200 when every dependency is ok, 503 otherwise.
- ``/health/live`` (liveness): 200 whenever the process serves requests, whatever the state of
  its dependencies. The image's ``HEALTHCHECK`` asks this one, so a Space whose API key is not
  set yet is reported as a running container with a failing dependency (in ``/health``), not as
  an unhealthy one.

``HEAD`` answers the same status without a body, for uptime monitors."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from app import __version__
from app.health import DependencyHealth, HealthCheck, HealthReport, public_reason

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    status: str = "ok"


@router.get("/health/live", summary="Liveness: the process serves requests")
@router.head("/health/live", include_in_schema=False)
async def live() -> Liveness:
    """Always 200 while the server answers: no dependency is checked (``/health`` does that).
    For the container's ``HEALTHCHECK`` and for monitors that restart what stops answering."""
    return Liveness()


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

"""``/``: tells a visitor that this Space is an API, not a website, and where to go instead.
``HEAD /`` answers 200 too, for uptime monitors."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from app import __version__
from app.base_settings import BaseAppSettings

router = APIRouter(tags=["meta"])


class ServiceInfo(BaseModel):
    service: str
    version: str
    message: str
    frontend: str
    api_base: str
    docs: str
    health: str


@router.get("/", summary="What this service is and where its docs are")
@router.head("/", include_in_schema=False)
async def root(request: Request) -> ServiceInfo:
    settings: BaseAppSettings = request.app.state.settings
    # On a Space, SPACE_HOST is the public host; elsewhere use the host the request came to.
    base_url = settings.public_url or str(request.base_url).rstrip("/")
    return ServiceInfo(
        service=settings.app_title,
        version=__version__,
        message=(
            "This is an API-only backend: it serves JSON, not web pages. "
            f"The user interface is the frontend at {settings.frontend_url}; "
            f"the API is documented at {base_url}/docs."
        ),
        frontend=settings.frontend_url,
        api_base=f"{base_url}/api",
        docs=f"{base_url}/docs",
        health=f"{base_url}/health",
    )

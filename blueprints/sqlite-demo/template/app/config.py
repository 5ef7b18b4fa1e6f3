"""Settings of this backend: the shared ones (``app.base_settings``: CORS, the database URL,
the request size limit, …). Add this backend's own settings here."""

from __future__ import annotations

from app.base_settings import BaseAppSettings


class Settings(BaseAppSettings):
    pass

"""Settings of this backend: the shared ones plus the database URL."""

from __future__ import annotations

from app.base_settings import BaseAppSettings

# Relative to the working directory: /app/data/app.db in the container, ./data/app.db locally.
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/app.db"


class Settings(BaseAppSettings):
    # DATABASE_URL: SQLite by default. A postgres:// or postgresql:// URL is rewritten for the
    # asyncpg driver (see app.db.normalize_database_url); asyncpg must then be installed.
    database_url: str = DEFAULT_DATABASE_URL

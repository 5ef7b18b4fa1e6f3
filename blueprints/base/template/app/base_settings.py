"""Settings every backend shares, read from the environment (and from ``.env`` when present).

On a Space, set them under Settings → Variables and secrets; locally, copy ``.env.example`` to
``.env``. Environment variables win over ``.env``; names are case-insensitive.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app import defaults
from app.cors import parse_origins, validate_origin_regex

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

# Relative to the working directory: /app/data/app.db in the container, ./data/app.db locally.
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/app.db"
# The largest request body accepted by default: 1 MiB.
DEFAULT_MAX_REQUEST_BYTES = 1_048_576


class BaseAppSettings(BaseSettings):
    """Fields shared by every backend; ``app.config.Settings`` adds the backend's own."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    # APP_TITLE: shown at / and in the API docs.
    app_title: str = defaults.TITLE
    # FRONTEND_URL: the production frontend, shown at / (it must also be in CORS_ORIGINS).
    frontend_url: str = defaults.FRONTEND_URL
    # CORS_ORIGINS: exact origins, comma-separated; a trailing slash or path is removed.
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [defaults.FRONTEND_URL, *defaults.DEV_ORIGINS]
    )
    # CORS_ORIGIN_REGEX: origins matched as a whole (fullmatch), e.g. Vercel previews; empty: none.
    cors_origin_regex: str | None = defaults.VERCEL_PREVIEW_REGEX or None
    # CORS_ALLOW_CREDENTIALS: only for cookies; a bearer token in Authorization does not need it.
    cors_allow_credentials: bool = False
    # VERCEL_PROJECT, VERCEL_SCOPE: the frontend's Vercel project and team/account slug. With
    # credentials on, CORS_ORIGIN_REGEX may admit nothing outside them.
    vercel_project: str = defaults.VERCEL_PROJECT
    vercel_scope: str = defaults.VERCEL_SCOPE
    # DATABASE_URL (or NEON_DATABASE_URL): SQLite in ./data by default. A postgres:// or
    # postgresql:// URL (Neon's) is rewritten for the asyncpg driver (see
    # app.db.normalize_database_url).
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("DATABASE_URL", "NEON_DATABASE_URL", "database_url"),
    )
    # DB_POOL_SIZE / DB_MAX_OVERFLOW: database connections kept open, and opened beyond them at
    # peaks. A request holds at most one, and never while it waits on another service.
    db_pool_size: int = Field(default=5, ge=1, le=100)
    db_max_overflow: int = Field(default=10, ge=0, le=100)
    # DB_POOL_TIMEOUT_S: how long a request waits for a free connection before answering 503.
    db_pool_timeout_s: float = Field(default=10.0, gt=0, le=60)
    # MIGRATE_ON_START: at start-up, apply the schema revisions the database lacks (off: apply
    # them by hand with `alembic upgrade heads`; until then the database routes answer 503).
    migrate_on_start: bool = True
    # SESSION_TTL_HOURS: a session unused this long expires (0: never); every use starts it again.
    session_ttl_hours: float = Field(default=720.0, ge=0, le=87_600)
    # SESSION_RATE_LIMIT: new sessions per client address per minute (0: no limit).
    session_rate_limit: int = Field(default=10, ge=0, le=10_000)
    # TRUSTED_PROXY_HOPS: proxies in front of the app that append to X-Forwarded-For (a Space:
    # Hugging Face's, 1). The client address is the entry that many places from the right.
    trusted_proxy_hops: int = Field(default=1, ge=0, le=10)
    # MAX_REQUEST_BYTES: the largest request body accepted; a larger one is answered with 413.
    max_request_bytes: int = Field(default=DEFAULT_MAX_REQUEST_BYTES, ge=1024, le=1 << 30)
    # ENABLE_DEBUG_ENDPOINTS: mounts /api/debug/... (otherwise they answer 404).
    enable_debug_endpoints: bool = False
    # LOG_LEVEL: level of the app's own log messages.
    log_level: LogLevel = "INFO"
    # SPACE_HOST: set by Hugging Face on a Space (e.g. owner-name.hf.space); unset locally.
    space_host: str | None = None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: object) -> object:
        if isinstance(value, (str, list, tuple)):
            return parse_origins(value)
        return value

    @field_validator("cors_origin_regex", mode="before")
    @classmethod
    def _check_origin_regex(cls, value: object) -> object:
        return validate_origin_regex(value) if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("space_host", mode="before")
    @classmethod
    def _blank_space_host(cls, value: object) -> object:
        return (value.strip() or None) if isinstance(value, str) else value

    @property
    def public_url(self) -> str | None:
        """``https://<SPACE_HOST>`` on a Space, ``None`` elsewhere."""
        return f"https://{self.space_host}" if self.space_host else None

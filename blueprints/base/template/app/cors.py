"""Cross-origin access for the browser frontend.

The whole FastAPI application is wrapped in Starlette's ``CORSMiddleware`` instead of being given
the middleware with ``add_middleware``: an unhandled exception then still produces a 500 that
carries ``Access-Control-Allow-Origin``, so the browser shows the real error instead of a
misleading "blocked by CORS policy".

Starlette compares ``allow_origins`` by exact string equality, so a value like
``https://*.vercel.app`` would never match anything. Preview deployments are matched by a
project-scoped regular expression instead (``allow_origin_regex``, matched with ``fullmatch``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Protocol
from urllib.parse import urlsplit

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

ALLOWED_METHODS: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# Content-Type is safelisted by Starlette anyway; listing it keeps the intent explicit.
ALLOWED_HEADERS: tuple[str, ...] = ("Authorization", "Content-Type")

# An origin no configuration should ever allow; used to detect catch-all regular expressions.
_FOREIGN_ORIGIN = "https://cors-probe.invalid"


class CorsConfigError(ValueError):
    """The CORS settings are unsafe or malformed; raised at startup."""


class CorsSettings(Protocol):
    """What :func:`wrap_with_cors` reads; ``app.base_settings.BaseAppSettings`` provides it."""

    @property
    def cors_origins(self) -> Sequence[str]: ...

    @property
    def cors_origin_regex(self) -> str | None: ...

    @property
    def cors_allow_credentials(self) -> bool: ...


def normalize_origin(value: str) -> str:
    """Reduce ``value`` to ``scheme://host[:port]`` (lowercase, no path, no trailing slash).

    Returns ``""`` for a blank value and ``"*"`` for the wildcard.
    """
    value = value.strip()
    if value in ("", "*"):
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CorsConfigError(
            f"{value!r} is not an origin: expected scheme://host[:port], e.g. https://my-app.vercel.app"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def parse_origins(raw: str | Iterable[str]) -> list[str]:
    """Parse a comma-separated list (or an iterable) of origins.

    Items are trimmed and normalised, empty items are dropped, duplicates are removed (first one
    wins, order kept).
    """
    items = raw.split(",") if isinstance(raw, str) else raw
    origins: list[str] = []
    for item in items:
        origin = normalize_origin(item)
        if origin and origin not in origins:
            origins.append(origin)
    return origins


def validate_origin_regex(pattern: str | None) -> str | None:
    """Return ``pattern`` if it compiles, ``None`` if it is blank."""
    if pattern is None or not pattern.strip():
        return None
    pattern = pattern.strip()
    try:
        re.compile(pattern)
    except re.error as exc:
        raise CorsConfigError(
            f"CORS_ORIGIN_REGEX {pattern!r} is not a valid regular expression: {exc}"
        ) from exc
    return pattern


def wrap_with_cors(app: ASGIApp, settings: CorsSettings) -> CORSMiddleware:
    """Wrap ``app`` (the FastAPI object) so every response, 500s included, gets CORS headers.

    Refuses a configuration that would give every website credentialed access: with
    ``allow_credentials`` Starlette echoes any allowed origin, so ``*`` (or a regular expression
    matching any origin) would let any page read responses with the user's cookies.
    """
    origins = list(settings.cors_origins)
    origin_regex = settings.cors_origin_regex
    allow_credentials = settings.cors_allow_credentials
    if allow_credentials and "*" in origins:
        raise CorsConfigError(
            "CORS_ORIGINS contains '*' while CORS_ALLOW_CREDENTIALS is true: every website "
            "would get credentialed access. List the exact origins, or turn credentials off "
            "(a bearer token in the Authorization header does not need them)."
        )
    if allow_credentials and origin_regex and re.fullmatch(origin_regex, _FOREIGN_ORIGIN):
        raise CorsConfigError(
            f"CORS_ORIGIN_REGEX {origin_regex!r} matches any origin while "
            "CORS_ALLOW_CREDENTIALS is true. Scope it to your project, e.g. "
            "https://my-app(-[a-z0-9-]+)?\\.vercel\\.app"
        )
    return CORSMiddleware(
        app,
        allow_origins=origins,
        allow_origin_regex=origin_regex,
        allow_credentials=allow_credentials,
        allow_methods=ALLOWED_METHODS,
        allow_headers=ALLOWED_HEADERS,
    )

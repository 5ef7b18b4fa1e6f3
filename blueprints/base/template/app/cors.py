"""Cross-origin access for the browser frontend.

The whole FastAPI application is wrapped in Starlette's ``CORSMiddleware`` instead of being given
the middleware with ``add_middleware``: an unhandled exception then still produces a 500 that
carries ``Access-Control-Allow-Origin``, so the browser shows the real error instead of a
misleading "blocked by CORS policy".

Starlette compares ``allow_origins`` by exact string equality, so a value like
``https://*.vercel.app`` would never match anything, and every configured origin is normalised
the way browsers serialise the ``Origin`` header. Preview deployments are matched by a regular
expression scoped to the Vercel project and its team (``allow_origin_regex``, matched with
``fullmatch``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Protocol
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from app.errors import error_response

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

    @property
    def vercel_project(self) -> str: ...

    @property
    def vercel_scope(self) -> str: ...


def normalize_origin(value: str) -> str:
    """Reduce ``value`` to an origin as browsers serialise it: ``scheme://host[:port]``, scheme and
    host lowercase (a Unicode host in its ``xn--`` form), the default port (443 for https, 80 for
    http) left out, no path and no trailing slash. The browser sends exactly this in ``Origin``,
    and Starlette compares origins as plain strings.

    Returns ``""`` for a blank value and ``"*"`` for the wildcard.
    """
    value = value.strip()
    if value in ("", "*"):
        return value
    parts = urlsplit(value)
    problem = None
    try:
        port = parts.port
        host = parts.hostname
    except ValueError as exc:
        port, host, problem = None, None, str(exc)
    if parts.scheme not in ("http", "https") or not host:
        problem = problem or "expected scheme://host[:port]"
    elif parts.username is not None or parts.password is not None:
        problem = "an origin has no user name or password"
    if problem:
        raise CorsConfigError(
            f"{value!r} is not an origin ({problem}), e.g. https://my-app.vercel.app"
        )
    assert host is not None
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as exc:
        raise CorsConfigError(f"{value!r}: the host is not a valid domain name") from exc
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    default_port = 443 if parts.scheme == "https" else 80
    suffix = f":{port}" if port is not None and port != default_port else ""
    return f"{parts.scheme}://{host}{suffix}"


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


def vercel_preview_regex(project: str, scope: str) -> str | None:
    """The expression admitting the preview deployments of Vercel project ``project`` of the team
    or account ``scope``: ``<project>-git-<branch>-<scope>.vercel.app`` and
    ``<project>-<9-character hash>-<scope>.vercel.app``. ``None`` without a scope: every Vercel
    account shares ``vercel.app``, and only the scope tells this project's previews from another
    account's project of a similar name."""
    if not project or not scope:
        return None
    # Vercel project and scope names are [a-z0-9-]: literal in an expression.
    return f"https://{project}-(git-[a-z0-9-]+|[a-z0-9]{{9}})-{scope}" + r"\.vercel\.app"


def foreign_origins(project: str, scope: str) -> list[str]:
    """Origins outside the configured frontend that an origin expression must never admit when
    credentials are on: any site, any Vercel account, and look-alikes of the project."""
    probes = [
        _FOREIGN_ORIGIN,
        "https://evil.example",
        "https://vercel.app",
        "https://evil.vercel.app",
        "https://evil-git-main-evil.vercel.app",
    ]
    if project:
        other = f"{scope}-x" if scope else "someone-else"
        probes += [
            f"https://{project}-evil.vercel.app",
            f"https://evil-{project}.vercel.app",
            f"https://{project}.vercel.app.evil.example",
            f"https://{project}-git-main-{other}.vercel.app",
            f"https://{project}-a1b2c3d4e-{other}.vercel.app",
            f"http://{project}-git-main-{scope or 'x'}.vercel.app",
        ]
    if scope:
        probes += [
            f"https://evil-{scope}.vercel.app",
            f"https://other-project-git-main-{scope}.vercel.app",
        ]
    return probes


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware, with a refused preflight answered in this API's JSON error
    shape (``"code": "cors_rejected"``) instead of plain text; the CORS headers are the same."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        detail = bytes(response.body).decode("utf-8", "replace")
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in ("content-length", "content-type")
        }
        return error_response(400, detail, "cors_rejected", headers)


def wrap_with_cors(app: ASGIApp, settings: CorsSettings) -> CORSMiddleware:
    """Wrap ``app`` (the FastAPI object) so every response, 500s included, gets CORS headers.

    Refuses a configuration that would give other websites credentialed access: with
    ``allow_credentials`` Starlette echoes any allowed origin, so ``*``, or a regular expression
    admitting origins outside the configured project (see :func:`foreign_origins`), would let
    those pages read responses with the user's cookies.
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
    if allow_credentials and origin_regex:
        probes = foreign_origins(settings.vercel_project, settings.vercel_scope)
        admitted = [o for o in probes if re.fullmatch(origin_regex, o)]
        if admitted:
            raise CorsConfigError(
                f"CORS_ORIGIN_REGEX {origin_regex!r} admits {admitted[0]}, which is not the "
                "configured frontend, while CORS_ALLOW_CREDENTIALS is true. Scope it to your "
                "Vercel project and team, e.g. " + (vercel_preview_regex("my-app", "my-team") or "")
            )
    return JsonCORSMiddleware(
        app,
        allow_origins=origins,
        allow_origin_regex=origin_regex,
        allow_credentials=allow_credentials,
        allow_methods=ALLOWED_METHODS,
        allow_headers=ALLOWED_HEADERS,
    )

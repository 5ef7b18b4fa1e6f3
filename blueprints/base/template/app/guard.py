"""What requests the API accepts before any route sees them: bodies up to a size limit, and
JSON only for requests that change something.

- **Size.** A body larger than ``MAX_REQUEST_BYTES`` is refused with 413. A ``Content-Length``
  over the limit is refused before a byte is read; a body sent without one (chunked) is counted
  while it streams in and refused as soon as it passes the limit. Memory stays bounded whatever
  the client sends. (FastAPI's own ``max_body_size`` answers the first case in plain text; this
  API promises JSON errors, with CORS headers, everywhere.)
- **JSON only for writes.** ``POST``, ``PUT`` and ``PATCH`` need ``Content-Type:
  application/json`` (415 otherwise). A browser sends a cross-origin request with that type only
  after a CORS preflight, so a page on an origin that is not allowed cannot make the API write
  anything, not even with a form or a ``text/plain`` "simple" request whose answer it could not
  read.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import error_response

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body larger than {limit} bytes")


def is_json(content_type: str | None) -> bool:
    """``application/json`` or ``application/<something>+json``, parameters allowed."""
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class RequestGuard:
    """ASGI middleware enforcing the two rules above; wrap the FastAPI application with it."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] in WRITE_METHODS and not is_json(headers.get("content-type")):
            response = error_response(
                415, "Send the request body as JSON, with Content-Type: application/json"
            )
            await response(scope, receive, send)
            return
        declared = headers.get("content-length")
        if declared is not None and not declared.isdigit():
            response = error_response(400, "Content-Length is not a number")
            await response(scope, receive, send)
            return
        if declared is not None and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge(self.max_body_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, f"Request body larger than {self.max_body_bytes} bytes")
        # The client may still be sending: close the connection after this answer.
        response.headers["Connection"] = "close"
        await response(scope, receive, send)

"""The HTTP/1.1 protocol the server speaks: uvicorn's httptools protocol with a limit on the size
of a request's head (request target and header fields).

The Dockerfile starts uvicorn with ``--http app.http_protocol:HttpProtocol``. uvicorn itself sets
no such limit with httptools, whose parser keeps appending to a header until its end arrives: a
single header of tens of MiB holds the worker for seconds and all the memory it takes. Here a
head larger than ``MAX_HEAD_BYTES`` gets ``431 Request Header Fields Too Large`` and the
connection is closed:

- as soon as the bytes received for a head that is still incomplete pass the limit (so the
  parser never holds much more than the limit), and
- when a complete head arrives in one piece and its target and fields add up to more than the
  limit (each field counted as its name, its value and 4 bytes for ``": "`` and the line end).

After the answer the server stops parsing and drops whatever else the client sends for at most
a second, so that a client still sending reads the 431 rather than a reset connection.

The 431 is answered by the server, before the application sees the request: it has a JSON body
in the shape of the API's other errors, but no CORS headers. Requests run locally with plain
``uvicorn app.main:app`` (no ``--http``) are not limited.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

# Browsers send a few KiB of headers; large cookies or tokens stay well under this.
MAX_HEAD_BYTES = 32 * 1024

logger = logging.getLogger("uvicorn.error")


def head_too_large_response(limit: int = MAX_HEAD_BYTES) -> bytes:
    """The whole 431 answer, status line to body."""
    body = json.dumps(
        {
            "detail": f"Request header fields larger than {limit} bytes",
            "code": "request_header_fields_too_large",
        }
    ).encode("ascii")
    return b"".join(
        [
            STATUS_LINE[431],
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n",
            b"\r\n",
            body,
        ]
    )


class HttpProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` that answers 431 to a request head over ``max_head_bytes``."""

    max_head_bytes = MAX_HEAD_BYTES
    # How long a refused connection is still read after the 431 (see _refuse).
    linger_seconds = 1.0

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        # A head has begun and has not ended yet.
        self._head_open = False
        # The head began in the data being parsed now (part of it may be an earlier request).
        self._head_began_here = False
        # Bytes received for the open head: what was parsed of it in the read where it began,
        # then every byte read since (the parser keeps them until the head ends).
        self._head_bytes = 0
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._head_began_here = False
        super().data_received(data)
        if self._refused:
            self._refuse()
            return
        if self._head_open:
            if self._head_began_here:
                # This data may end an earlier request: count only what the head holds so far.
                self._head_bytes = self._parsed_head_size()
            else:
                self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes:
                self._refused = True
                self._refuse()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_open = True
        self._head_began_here = True
        self._head_bytes = 0

    def _parsed_head_size(self) -> int:
        """The size of the request target and the header fields parsed so far."""
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def on_headers_complete(self) -> None:
        self._head_open = False
        if self._parsed_head_size() > self.max_head_bytes:
            # The rest of this data is not handed to the application; data_received answers.
            self._refused = True
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def _refuse(self) -> None:
        if self.transport.is_closing():
            return
        client = f"{self.client[0]}:{self.client[1]} - " if self.client else ""
        logger.warning("%sRequest header fields too large: answered 431", client)
        self.transport.write(head_too_large_response(self.max_head_bytes))
        if self.transport.can_write_eof():
            # A close with unread data would reset the connection, and a client still sending
            # could lose the answer: end the writing side, drop what still arrives (see
            # data_received), and close once the client has or after ``linger_seconds``.
            self.transport.write_eof()
            self.loop.call_later(self.linger_seconds, self.transport.close)
        else:
            self.transport.close()

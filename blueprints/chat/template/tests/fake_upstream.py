"""A small OpenAI-compatible server for tests: ``POST /v1/chat/completions``, streamed or not,
and ``POST /v1/embeddings``.

The answer is deterministic: ``Echo: <the last user message>``, streamed word by word. When a
system message carries passages (``<source …>text</source>``, as a grounded backend sends them),
`` | From [1]: <the first line of the first passage that is not a heading>`` follows. What the
last user message contains switches the behaviour:

- ``[error]``: answers 500 with an OpenAI-style error body;
- ``[429]``: answers 429 (rate limited) with ``Retry-After: 1``;
- ``[slow]``: waits ``SLOW_SECONDS`` before the first token;
- ``[pause]``: streams one word, pauses ``PAUSE_SECONDS``, then the rest;
- ``[long]``: streams 2000 words, one every 10 ms, for disconnect tests;

and these break the answer the ways real upstreams do, after one good word when streamed:

- ``[garbage]``: an event line that is not JSON;
- ``[binary]``: bytes that are not UTF-8;
- ``[truncated]``: half a JSON chunk, then the connection closes;
- ``[drop]``: the connection closes without ``[DONE]``;
- ``[stall]``: nothing more for ``STALL_SECONDS`` (until the client gives up);
- ``[html]``: a 200 with an HTML page instead of the answer (streamed or not);
- ``[nochoices]``: chunks (or a whole answer) without ``choices``.

A whole answer breaks the same ways: a JSON body that is not JSON, not UTF-8 or cut short, a
connection that closes halfway through the body, or a body that never comes.

Embeddings are deterministic too, and similar texts get similar vectors: each word (lowercased,
common words left out) adds ±1 to a coordinate picked by its hash, and the vector is scaled to
length 1. Their size is the request's ``dimensions``, or 1536 (text-embedding-3-small's) without
it; ``encoding_format: base64`` is honoured as the SDK asks for it. An input containing
``[embed-error]`` gets a 500, one containing ``[embed-slow]`` waits ``SLOW_SECONDS`` first.

Every request is recorded: its headers and body, and how it ended (``complete``, or ``cut`` when
the client went away before the end). ``GET /_fake/log`` returns that record as JSON.

The generated tests start it in a thread (:class:`FakeUpstream`); the end-to-end tests of the
generator run it as ``python -m tests.fake_upstream --port N``. The app reaches it through its
normal base-URL setting: nothing is mocked.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import re
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SLOW_SECONDS = 2.0
PAUSE_SECONDS = 0.8
STALL_SECONDS = 60.0
# The modes that break an answer (see above).
FAULTS = ("[garbage]", "[binary]", "[truncated]", "[drop]", "[stall]", "[html]", "[nochoices]")
DEFAULT_DIMENSIONS = 1536
_COMMON = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "do",
        "does",
        "for",
        "from",
        "how",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
    ]
)
_PASSAGE = re.compile(r"<source[^>]*>\s*(.*?)\s*</source>", re.DOTALL)


def embedding(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """The fake embedding of ``text``: a unit vector; texts sharing words point alike."""
    vector = [0.0] * dimensions
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if word in _COMMON:
            continue
        digest = hashlib.sha256(word.encode()).digest()
        index = int.from_bytes(digest[:4], "big") % dimensions
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0:
        vector[0], norm = 1.0, 1.0
    return [v / norm for v in vector]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _json(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/_fake/log":
            with self.server.lock:
                self._json(200, list(self.server.log))
        elif self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "fake/model", "object": "model"}]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        entry: dict[str, Any] = {
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
            "outcome": "pending",
        }
        with self.server.lock:
            self.server.log.append(entry)
        if self.path.rstrip("/").endswith("/embeddings"):
            self._embeddings(entry, body)
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            entry["outcome"] = "not found"
            self._json(404, {"error": {"message": "not found"}})
            return
        messages = body.get("messages") or []
        last = next(
            (m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), ""
        )
        if "[error]" in last:
            entry["outcome"] = "error"
            self._json(500, {"error": {"message": "upstream exploded", "type": "server_error"}})
            return
        if "[429]" in last:
            entry["outcome"] = "rate limited"
            self._json(
                429,
                {"error": {"message": "Rate limit exceeded", "type": "rate_limit"}},
                {"Retry-After": "1"},
            )
            return
        if "[slow]" in last:
            time.sleep(SLOW_SECONDS)
        fault = next((f for f in FAULTS if f in last), None)
        if fault == "[html]":
            entry["outcome"] = "html"
            self._raw(200, "text/html", b"<!DOCTYPE html><html><body>Bad gateway</body></html>")
            return
        if fault is not None and not body.get("stream"):
            self._broken_whole(entry, fault)
            return
        answer = f"Echo: {last}"
        system = " ".join(m.get("content", "") for m in messages if m.get("role") == "system")
        passage = _PASSAGE.search(system)
        if passage is not None:
            lines = [line for line in passage.group(1).splitlines() if line.strip()]
            prose = [line for line in lines if not line.startswith("#")] or lines
            answer += f" | From [1]: {prose[0].strip()}"
        words = ["word"] * 2000 if "[long]" in last else answer.split(" ")
        tokens = [w if i == 0 else " " + w for i, w in enumerate(words)]
        if not body.get("stream"):
            entry["outcome"] = "complete"
            self._json(200, _completion(body, "".join(tokens)))
            return
        if fault is not None:
            self._broken(entry, body, tokens[0], fault)
            return
        self._stream(entry, body, tokens, pause="[pause]" in last, long="[long]" in last)

    def _raw(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _broken_whole(self, entry: dict[str, Any], fault: str) -> None:
        """A whole (not streamed) answer broken as ``fault`` says."""
        entry["outcome"] = fault.strip("[]")
        bodies = {
            "[garbage]": b"<html>this is not json</html>",
            "[binary]": b"\xff\xfe\xfd\x80 not utf-8",
            "[truncated]": b'{"id": "chatcmpl-fake", "choices": [{"message": {"cont',
            "[nochoices]": b'{"id": "chatcmpl-fake", "object": "chat.completion", "model": "m"}',
        }
        if fault in bodies:
            self._raw(200, "application/json", bodies[fault])
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.close_connection = True
        try:
            if fault == "[stall]":
                self.wfile.flush()
                time.sleep(STALL_SECONDS)
            else:  # [drop]: part of the body, then the connection closes
                self.wfile.write(b'{"id": "chatcmpl-fake", ')
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            entry["outcome"] = "cut"

    def _broken(self, entry: dict[str, Any], body: dict[str, Any], first: str, fault: str) -> None:
        """A streamed answer that starts well and then breaks as ``fault`` says."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        entry["outcome"] = fault.strip("[]")
        try:
            if fault == "[nochoices]":
                bare = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": "m"}
                self.wfile.write(f"data: {json.dumps(bare)}\n\n".encode() * 3)
                self.wfile.write(b"data: [DONE]\n\n")
                return
            self.wfile.write(f"data: {json.dumps(_chunk(body, first))}\n\n".encode())
            self.wfile.flush()
            if fault == "[garbage]":
                self.wfile.write(b"data: <html>this is not json</html>\n\n")
            elif fault == "[binary]":
                self.wfile.write(b"data: \xff\xfe\xfd\x80 not utf-8\n\n")
            elif fault == "[truncated]":
                self.wfile.write(b'data: {"id": "chatcmpl-fake", "choices": [{"delta": {"cont')
            elif fault == "[stall]":
                self.wfile.flush()
                time.sleep(STALL_SECONDS)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            entry["outcome"] = "cut"

    def _embeddings(self, entry: dict[str, Any], body: dict[str, Any]) -> None:
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            entry["outcome"] = "bad request"
            self._json(400, {"error": {"message": "input must be a string or a list of them"}})
            return
        if any("[embed-error]" in t for t in texts):
            entry["outcome"] = "error"
            self._json(500, {"error": {"message": "upstream exploded", "type": "server_error"}})
            return
        if any("[embed-slow]" in t for t in texts):
            time.sleep(SLOW_SECONDS)
        dimensions = int(body.get("dimensions") or DEFAULT_DIMENSIONS)
        data = []
        for i, text in enumerate(texts):
            vector: object = embedding(text, dimensions)
            if body.get("encoding_format") == "base64":
                packed = struct.pack(f"<{dimensions}f", *vector)  # type: ignore[misc]
                vector = base64.b64encode(packed).decode()
            data.append({"object": "embedding", "index": i, "embedding": vector})
        entry["outcome"] = "complete"
        self._json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model", "fake/embedding"),
                "usage": {"prompt_tokens": len(texts), "total_tokens": len(texts)},
            },
        )

    def _stream(
        self,
        entry: dict[str, Any],
        body: dict[str, Any],
        tokens: list[str],
        pause: bool,
        long: bool,
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for i, token in enumerate(tokens):
                self.wfile.write(f"data: {json.dumps(_chunk(body, token))}\n\n".encode())
                self.wfile.flush()
                if pause and i == 0:
                    time.sleep(PAUSE_SECONDS)
                if long:
                    time.sleep(0.01)
            last = _chunk(body, "", finish_reason="stop")
            self.wfile.write(f"data: {json.dumps(last)}\n\ndata: [DONE]\n\n".encode())
            self.wfile.flush()
            entry["outcome"] = "complete"
        except (BrokenPipeError, ConnectionResetError):
            entry["outcome"] = "cut"


def _chunk(body: dict[str, Any], token: str, finish_reason: str | None = None) -> dict[str, Any]:
    """A piece of a streamed answer; the last one (empty) says why the answer ended."""
    delta = {"content": token} if token else {}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "model": body.get("model", "fake/model"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": body.get("model", "fake/model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Connections waiting to be accepted (the default, 5, refuses a burst of many streams).
    request_queue_size = 1024

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.log: list[dict[str, Any]] = []
        self.lock = threading.Lock()


class FakeUpstream:
    """The server in a background thread; ``url`` is the base URL the SDK takes."""

    def __init__(self) -> None:
        self._server = _Server(0)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeUpstream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def log(self) -> list[dict[str, Any]]:
        with self._server.lock:
            return list(self._server.log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    server = _Server(port)
    print(f"fake upstream on http://127.0.0.1:{port}/v1", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

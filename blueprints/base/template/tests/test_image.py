"""The image and the server as the image runs it: code and packages that the app's user cannot
change, liveness apart from readiness, and a limit on request headers.

The header tests start uvicorn with the arguments of the Dockerfile's ``CMD`` (host and port
changed to a free port on localhost) and talk to it over a raw socket.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.edge import wrap
from app.http_protocol import MAX_HEAD_BYTES
from app.main import create_api
from tests.support import MakeSettings, sqlite_url

ROOT = Path(__file__).resolve().parent.parent


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_only_the_data_folder_belongs_to_the_apps_user() -> None:
    """Packages go to the system site-packages as root, the code is root's (Dev Mode, which edits
    the code in place, needs /app to be uid 1000's), and the container runs as uid 1000."""
    text = dockerfile()
    dev_mode = "git-lfs" in text
    assert re.search(r"^RUN pip install --no-deps --require-hashes -r requirements.txt", text, re.M)
    assert "--user" not in text
    assert "COPY requirements.txt ." in text
    if dev_mode:
        assert "COPY --chown=1000:1000 . ." in text
        assert "chown 1000:1000 /app /app/data" in text
    else:
        assert "--chown" not in text
        assert re.findall(r"chown\b.*", text) == ["chown 1000:1000 /app/data"]
    assert re.search(r"^USER 1000:1000$", text, re.M)
    assert re.search(r"^ENV HOME=/home/user$", text, re.M)


def test_liveness_answers_200_while_a_dependency_fails(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory should be")
    settings = make_settings(database_url=sqlite_url(blocker / "app.db"))
    with TestClient(wrap(create_api(settings), settings)) as client:
        ready = client.get("/health")
        live = client.get("/health/live")
        head = client.head("/health/live")
    assert ready.status_code == 503
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert (head.status_code, head.content) == (200, b"")


def test_the_image_checks_liveness_not_readiness() -> None:
    match = re.search(r"^HEALTHCHECK .*\n +CMD (\[.*\])$", dockerfile(), re.M)
    assert match is not None
    command = json.loads(match.group(1))
    assert command[0] == "python"
    assert "/health/live'" in command[-1]


def dockerfile_command(port: int) -> list[str]:
    """The Dockerfile's CMD (exec form), serving on 127.0.0.1:``port``."""
    line = next(line for line in dockerfile().splitlines() if line.startswith("CMD "))
    command: list[str] = json.loads(line[len("CMD ") :])
    assert command[0] == "uvicorn", command
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    return [sys.executable, "-m", *command]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The port of a uvicorn started as the Dockerfile starts it."""
    tmp = tmp_path_factory.mktemp("server")
    port = free_port()
    env = {**os.environ, "DATABASE_URL": sqlite_url(tmp / "app.db")}
    with (tmp / "server.log").open("w+b") as log:
        process = subprocess.Popen(
            dockerfile_command(port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 30
            while not answers(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail("the server did not start:\n" + log.read().decode(errors="replace"))
                time.sleep(0.1)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=10)


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def receive_all(sock: socket.socket) -> bytes:
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionError:
            return data
        if not chunk:
            return data
        data += chunk


def send_head(port: int, head: bytes) -> tuple[bytes, float]:
    """Sends ``head`` in one piece; the answer's status line and how long it took."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        with contextlib.suppress(ConnectionError):
            sock.sendall(head)
        answer = receive_all(sock)
    return answer.split(b"\r\n", 1)[0], time.monotonic() - started


def request(header: bytes) -> bytes:
    return (
        b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + header
        + b"\r\n\r\n"
    )


def test_headers_under_the_limit_are_served(server: int) -> None:
    status, _ = send_head(server, request(b"X-Filler: " + b"a" * (MAX_HEAD_BYTES // 2)))
    assert status == b"HTTP/1.1 200 OK"


def test_a_request_with_too_large_headers_gets_431_and_the_server_goes_on(server: int) -> None:
    status, elapsed = send_head(server, request(b"X-Filler: " + b"a" * (64 * 1024 + 1)))
    assert status == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert elapsed < 2
    # Many small fields count too.
    fields = b"\r\n".join(b"X-Field-%d: value" % i for i in range(4000))
    status, _ = send_head(server, request(fields))
    assert status == b"HTTP/1.1 431 Request Header Fields Too Large"
    status, _ = send_head(server, request(b""))
    assert status == b"HTTP/1.1 200 OK"


def test_a_header_that_never_ends_is_cut_off_at_the_limit(server: int) -> None:
    """A header streamed in pieces is answered once it passes the limit, long before it ends."""
    started = time.monotonic()
    sent = 0
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ")
        try:
            while sent < 8 * 1024 * 1024 and not select.select([sock], [], [], 0)[0]:
                sock.sendall(b"a" * 8192)
                sent += 8192
        except ConnectionError:
            pass
        answer = receive_all(sock)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]
    assert sent < 8 * 1024 * 1024  # answered before the header was over
    assert time.monotonic() - started < 2
    status, _ = send_head(server, request(b""))
    assert status == b"HTTP/1.1 200 OK"

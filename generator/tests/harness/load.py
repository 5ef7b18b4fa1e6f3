"""Load for the end-to-end tests: many browsers at once against a running backend, with /health
asked throughout. Run with the generated project's Python (it has httpx2 or httpx):

    python load.py streams BASE N MESSAGE   N sessions, one streamed chat each, all at once
    python load.py sessions BASE N -        N sessions created at once (N database writers)
    python load.py uploads BASE N TOKEN     N uploads of one source at once (the RAG blueprint)

Prints one JSON object: how each request ended, and every /health answer with its latency.
Bounded: every request has a timeout, and the whole run ends when the requests do.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

try:  # what openai 3 and starlette's TestClient bring
    import httpx2 as httpx
except ModuleNotFoundError:
    import httpx  # type: ignore[no-redef]

# How often /health is asked while the load runs, and how long one request may take.
HEALTH_EVERY_S = 0.1
REQUEST_TIMEOUT_S = 120.0


async def _health(base: str, stop: asyncio.Event, seen: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10.0) as client:
        while not stop.is_set():
            started = time.monotonic()
            try:
                status: int | str = (await client.get("/health")).status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            seen.append({"status": status, "ms": round((time.monotonic() - started) * 1000, 1)})
            await asyncio.sleep(HEALTH_EVERY_S)


def _limits(n: int) -> httpx.Limits:
    return httpx.Limits(max_connections=n + 8, max_keepalive_connections=n + 8)


async def _stream(client: httpx.AsyncClient, token: str, message: str) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with client.stream(
            "POST", "/api/v1/chat/stream", json={"message": message}, headers=headers
        ) as response:
            if response.status_code != 200:
                body = json.loads(await response.aread())
                return f"http {response.status_code} {body.get('code')}"
            last: dict[str, Any] = {}
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    last = json.loads(line[6:])
            if last.get("type") == "error":
                return f"error {last.get('code')}"
            return str(last.get("type", "nothing"))
    except httpx.HTTPError as exc:
        return type(exc).__name__


async def _measured(
    base: str, n: int, requests: Callable[[httpx.AsyncClient], list[Awaitable[str]]]
) -> dict[str, Any]:
    """Runs ``requests`` at once on a client of ``base`` while /health is asked; the report."""
    async with httpx.AsyncClient(
        base_url=base, timeout=REQUEST_TIMEOUT_S, limits=_limits(n)
    ) as client:
        pending = requests(client)
        stop, health = asyncio.Event(), []
        probe = asyncio.create_task(_health(base, stop, health))
        started = time.monotonic()
        ends = await asyncio.gather(*pending)
        took = time.monotonic() - started
        stop.set()
        await probe
    return _report(list(ends), health, took)


async def streams(base: str, n: int, message: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S) as client:
        tokens = []
        for _ in range(n):
            created = await client.post("/api/v1/sessions", json={})
            created.raise_for_status()
            tokens.append(created.json()["token"])
    return await _measured(base, n, lambda c: [_stream(c, t, message) for t in tokens])


async def _create(client: httpx.AsyncClient) -> str:
    try:
        return str((await client.post("/api/v1/sessions", json={})).status_code)
    except httpx.HTTPError as exc:
        return type(exc).__name__


async def sessions(base: str, n: int) -> dict[str, Any]:
    return await _measured(base, n, lambda c: [_create(c) for _ in range(n)])


async def _upload(client: httpx.AsyncClient, token: str, body: dict[str, Any]) -> str:
    try:
        response = await client.post(
            "/api/v1/documents", json=body, headers={"Authorization": f"Bearer {token}"}
        )
    except httpx.HTTPError as exc:
        return type(exc).__name__
    return str(response.status_code)


async def uploads(base: str, n: int, token: str) -> dict[str, Any]:
    bodies = [
        {
            "source": "handbook.md",
            "title": f"Handbook, edition {i}",
            "text": f"# Edition {i}\n\n" + f"Edition {i} says the code is {1000 + i}. " * 40,
        }
        for i in range(n)
    ]
    return await _measured(base, n, lambda c: [_upload(c, token, b) for b in bodies])


def _report(ends: list[str], health: list[dict[str, Any]], took: float) -> dict[str, Any]:
    latencies = sorted(h["ms"] for h in health)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None
    return {
        "ends": dict(Counter(ends)),
        "seconds": round(took, 2),
        "health": dict(Counter(str(h["status"]) for h in health)),
        "health_p99_ms": p99,
        "health_max_ms": latencies[-1] if latencies else None,
    }


def main(argv: list[str]) -> int:
    commands = {
        "streams": lambda base, n, arg: streams(base, n, arg),
        "sessions": lambda base, n, _: sessions(base, n),
        "uploads": lambda base, n, arg: uploads(base, n, arg),
    }
    if len(argv) != 5 or argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    command, base, n, arg = argv[1], argv[2], int(argv[3]), argv[4]
    print(json.dumps(asyncio.run(commands[command](base, n, arg))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Trying again after a failed start: a component whose server could not be reached (down,
waking up, a blocked port) starts again on a later request, so the app recovers without a
restart. One attempt at a time, at most one per ``after_s`` seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class Retry:
    def __init__(self) -> None:
        self._at: float | None = None
        self._lock = asyncio.Lock()

    def schedule(self, after_s: float) -> None:
        """Allow another attempt ``after_s`` seconds from now."""
        self._at = time.monotonic() + after_s

    def cancel(self) -> None:
        """No more attempts (the start succeeded, or failed in a way time does not fix)."""
        self._at = None

    async def attempt(self, start: Callable[[], Awaitable[None]]) -> bool:
        """Runs ``start`` if an attempt is due; whether one ran."""
        if self._at is None or time.monotonic() < self._at:
            return False
        async with self._lock:
            if self._at is None or time.monotonic() < self._at:
                return False  # another request just tried
            self._at = None
            await start()
            return True

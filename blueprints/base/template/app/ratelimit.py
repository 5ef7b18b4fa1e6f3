"""Rate limits: at most N requests (or N units of something, such as tokens) in any 60 seconds,
per key (a session, a client address) or for everyone at once.

Kept in memory: one Space runs one process, and a restart forgetting the counts is harmless.
"""

from __future__ import annotations

import math
import time
from collections import deque

from fastapi import status

from app.errors import ApiError

WINDOW_S = 60.0
# Keys remembered before idle ones are forgotten.
MAX_KEYS = 10_000


class RateLimiter:
    """At most ``per_minute`` units per key in any :data:`WINDOW_S` seconds (0: no limit)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[tuple[float, int]]] = {}
        self._used: dict[str, int] = {}

    def retry_after(self, key: str, cost: int = 1, now: float | None = None) -> int | None:
        """Records ``cost`` units of ``key``: ``None`` if they fit, else the seconds to wait
        (nothing is recorded then). A cost above the whole limit never fits."""
        if self.per_minute <= 0:
            return None
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault(key, deque())
        used = self._used.get(key, 0)
        while hits and hits[0][0] <= now - WINDOW_S:
            used -= hits.popleft()[1]
        if used + cost > self.per_minute:
            self._used[key] = used
            if cost > self.per_minute or not hits:
                return math.ceil(WINDOW_S)
            # The earliest moment enough of the window has passed.
            freed, wait_until = used, hits[-1][0]
            for at, amount in hits:
                freed -= amount
                if freed + cost <= self.per_minute:
                    wait_until = at
                    break
            return max(1, math.ceil(wait_until + WINDOW_S - now))
        hits.append((now, cost))
        self._used[key] = used + cost
        if len(self._hits) > MAX_KEYS:
            self._forget_idle(now)
        return None

    def check(self, key: str, what: str, cost: int = 1) -> None:
        """Records ``cost`` units of ``key``, or raises a 429 with Retry-After naming ``what``."""
        wait = self.retry_after(key, cost)
        if wait is not None:
            raise ApiError(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"Too many {what}; try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1][0] <= now - WINDOW_S]:
            del self._hits[key]
            self._used.pop(key, None)

"""A per-session rate limit for the chat endpoints: at most N requests in any 60 seconds.

Kept in memory: one Space runs one process, and a restart forgetting the counts is harmless.
"""

from __future__ import annotations

import math
import time
from collections import deque

WINDOW_S = 60.0


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}

    def retry_after(self, key: str, now: float | None = None) -> int | None:
        """Records a request of ``key``: ``None`` if it is allowed, else the seconds to wait."""
        if self.per_minute <= 0:
            return None
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - WINDOW_S:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return max(1, math.ceil(hits[0] + WINDOW_S - now))
        hits.append(now)
        if len(self._hits) > 10_000:  # forget idle sessions
            for idle in [k for k, v in self._hits.items() if not v or v[-1] <= now - WINDOW_S]:
                del self._hits[idle]
        return None

"""A small token-bucket limiter for web guests (in memory, per key).

Keys are the client address as the socket reports it plus the room: we never
trust ``X-Forwarded-For`` here (a spoofed header must not reset the limit).
"""

from __future__ import annotations

import time

# A room's recap in every format, a few times over, per minute and address;
# a loop gets 429 and builds nothing.
RECAP_DOWNLOADS_PER_MINUTE = 20.0


class RateLimiter:
    def __init__(self, count: float, per_seconds: float = 60.0, max_keys: int = 100_000) -> None:
        self.capacity = max(1.0, count)
        self.rate = count / per_seconds if per_seconds > 0 else 0.0
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return False
        if len(self._buckets) >= self.max_keys and key not in self._buckets:
            self._buckets.clear()  # crude but bounded: forget everyone rather than grow
        self._buckets[key] = (tokens - 1.0, now)
        return True

"""A small token-bucket limiter for web guests (in memory, per key).

Callers key it by what they limit plus ``address_block`` of the client's
address (``client_address``: the socket's peer, or the first hop a trusted
proxy did not add). An IPv6 client counts per /64: with a key per full
address, one subscriber's 2^64 addresses would each get a fresh bucket.

The number of keys is bounded. When full, the keys least recently used go
first: a flood of new keys then forgets idle visitors, never the busy ones.
(Clearing every bucket, as this did before, let anyone with enough addresses
reset everyone's limit, their own included.)
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict


class RateLimiter:
    """``count`` per ``per_seconds`` per key, in bursts of up to ``count`` (at
    least 1); a ``count`` of 0 allows nothing (a setting of 0 turns the thing
    off, it does not lift the limit)."""

    def __init__(self, count: float, per_seconds: float = 60.0, max_keys: int = 100_000) -> None:
        self.capacity = max(1.0, count) if count > 0 else 0.0
        self.rate = count / per_seconds if per_seconds > 0 else 0.0
        self.max_keys = max(1, max_keys)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        while len(self._buckets) >= self.max_keys:
            self._buckets.popitem(last=False)  # the least recently used key
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        return allowed

    def retry_after_headers(self) -> dict[str, str]:
        """``Retry-After`` for a refusal: whole seconds until a refused key has
        a token again; none when nothing is ever allowed (a count of 0)."""
        if self.rate <= 0:
            return {}
        return {"Retry-After": str(max(1, math.ceil(1.0 / self.rate)))}

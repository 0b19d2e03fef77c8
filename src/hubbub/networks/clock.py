"""Time as the network code sees it: a monotonic clock for delays and
deadlines, a wall clock for what people read (``next at 12:03:05``), an async
``sleep`` and a ``wait_for`` with a timeout.

Every connector takes a ``Clock`` so tests can run its backoff with a
``FakeClock``: sleeps return at once and advance the fake time, and the
delays asked for are recorded, so a test compares them with the documented
schedule without waiting minutes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Protocol, TypeVar

T = TypeVar("T")


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (delays, deadlines)."""
        ...

    def time(self) -> float:
        """Unix time in seconds (shown to people, compared with ``x-rate-limit-reset``)."""
        ...

    async def sleep(self, seconds: float) -> None: ...

    async def wait_for(self, awaitable: Awaitable[T], timeout: float) -> T:
        """``awaitable``'s result, or ``TimeoutError`` after ``timeout`` seconds."""
        ...


class SystemClock:
    """The real clocks."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    async def wait_for(self, awaitable: Awaitable[T], timeout: float) -> T:
        return await asyncio.wait_for(awaitable, timeout)


class FakeClock:
    """A clock for tests. ``sleep`` advances the fake time by the delay and
    records it (``sleeps``), yielding to the loop but not waiting. ``wait_for``
    waits ``timeout * scale`` real seconds (the loopback server still has to
    answer in real time) and, on timeout, advances the fake time by the full
    ``timeout``: a 20 s stall is detected in 0.2 s of a test with scale 0.01.
    """

    def __init__(self, start: float = 1_800_000_000.0, *, scale: float = 0.01) -> None:
        self._wall_offset = start
        self._now = 0.0
        self.scale = scale
        self.sleeps: list[float] = []
        self.timeouts: list[float] = []

    def monotonic(self) -> float:
        return self._now

    def time(self) -> float:
        return self._wall_offset + self._now

    def advance(self, seconds: float) -> None:
        self._now += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.sleeps.append(seconds)
        self._now += seconds
        await asyncio.sleep(0)

    async def wait_for(self, awaitable: Awaitable[T], timeout: float) -> T:
        try:
            return await asyncio.wait_for(awaitable, timeout * self.scale)
        except TimeoutError:
            self.timeouts.append(timeout)
            self._now += timeout
            raise

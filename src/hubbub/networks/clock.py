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
        # asyncio.timeout rather than asyncio.wait_for: on Python 3.11 wait_for
        # can swallow a cancellation that arrives as the awaitable completes,
        # leaving a stopped source running (a hang in Pipeline.stop under load).
        async with asyncio.timeout(timeout):
            return await awaitable


class FakeClock:
    """A clock for tests on which time runs ``1 / scale`` times faster than
    real time (scale 0.01: a 320 s backoff takes 3.2 real seconds, a 20 s
    stall is detected after 0.2 s). Fake time is one for every task, so
    timestamps stay consistent; ``advance`` jumps it forward by hand.
    ``sleeps`` records every delay asked for, by task name, so a test
    compares them with the documented schedule.
    """

    def __init__(self, start: float | None = None, *, scale: float = 0.01) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive")
        # Wall time starts at the real one: loopback servers stamp posts with it.
        self._wall_offset = time.time() if start is None else start
        self._jumped = 0.0
        self._real0 = time.monotonic()
        self.scale = scale
        self.sleeps: list[float] = []
        self.sleeps_by_task: dict[str, list[float]] = {}
        self.timeouts: list[float] = []

    def monotonic(self) -> float:
        return (time.monotonic() - self._real0) / self.scale + self._jumped

    def time(self) -> float:
        return self._wall_offset + self.monotonic()

    def advance(self, seconds: float) -> None:
        self._jumped += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.sleeps.append(seconds)
        task = asyncio.current_task()
        name = task.get_name() if task is not None else "?"
        self.sleeps_by_task.setdefault(name, []).append(seconds)
        await asyncio.sleep(seconds * self.scale)

    async def wait_for(self, awaitable: Awaitable[T], timeout: float) -> T:
        try:
            async with asyncio.timeout(timeout * self.scale):  # see SystemClock.wait_for
                return await awaitable
        except TimeoutError:
            self.timeouts.append(timeout)
            raise

"""Request budgets: at most N requests per window, and what the server said.

``WindowBudget.acquire()`` waits (on the injected clock) until a request fits
in the documented window (X: 450 recent searches / 15 min per app, 100 rule
changes / 15 min, 50 stream connections / 15 min), and after a response
``observe(remaining, reset_at)`` makes it wait for the server's reset when the
server says the budget is spent. So a source never sends a request it knows
would be refused.
"""

from __future__ import annotations

from collections import deque

from hubbub.networks.clock import Clock


class WindowBudget:
    def __init__(self, limit: int, window: float, clock: Clock) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a budget needs limit >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self.clock = clock
        self._sent: deque[float] = deque()
        self._blocked_until = 0.0  # monotonic time the server's window reopens
        self.waited = 0.0  # seconds spent waiting (health, tests)
        self.requests = 0

    def _trim(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()

    def wait_needed(self) -> float:
        now = self.clock.monotonic()
        self._trim(now)
        wait = max(0.0, self._blocked_until - now)
        if len(self._sent) >= self.limit:
            wait = max(wait, self._sent[0] + self.window - now)
        return wait

    async def acquire(self) -> None:
        while (wait := self.wait_needed()) > 0:
            self.waited += wait
            await self.clock.sleep(wait)
        self._sent.append(self.clock.monotonic())
        self.requests += 1

    def observe(self, remaining: int | None, reset_in: float | None) -> None:
        """The server's ``x-rate-limit-remaining`` / reset (seconds from now)."""
        if remaining is not None and remaining <= 0 and reset_in is not None and reset_in > 0:
            self._blocked_until = max(self._blocked_until, self.clock.monotonic() + reset_in)

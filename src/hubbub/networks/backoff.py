"""Backoff schedules: how long to wait before the next connection attempt.

A ``Schedule`` maps the number of failed attempts in a row (1, 2, …) to a
delay in seconds. ``Reconnect`` keeps those counts per kind of failure and
applies the rule every network shares: after a connection that *worked*
drops, reconnect at once; only failed attempts back off.

The X numbers are X's documented ones (filtered stream, "handling
disconnections"); other networks build their own from ``Linear`` and
``Exponential`` (E.g. Mastodon streaming or Jetstream: ``Exponential(1, cap=60)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Schedule(Protocol):
    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt`` + 1, after ``attempt`` failures."""
        ...


@dataclass(frozen=True, slots=True)
class Linear:
    """``first``, then +``step`` per failure, capped at ``cap``."""

    step: float
    cap: float
    first: float = 0.0

    def delay(self, attempt: int) -> float:
        if attempt <= 0:
            return 0.0
        return min(self.first + self.step * (attempt - 1), self.cap)


@dataclass(frozen=True, slots=True)
class Exponential:
    """``start`` × ``factor``^(failures − 1), capped at ``cap`` (None: no cap)."""

    start: float
    factor: float = 2.0
    cap: float | None = None

    def delay(self, attempt: int) -> float:
        if attempt <= 0:
            return 0.0
        # Bounded exponent: a source failing for days must not overflow a float.
        value = self.start * self.factor ** min(attempt - 1, 64)
        return value if self.cap is None else min(value, self.cap)


class Failure(StrEnum):
    NETWORK = "network"  # TCP/TLS errors, resets, timeouts, stalls
    HTTP = "http"  # an HTTP error status other than 429
    RATE_LIMIT = "rate_limit"  # 429 (X: "Too Many Requests" / "TooManyConnections")


@dataclass(frozen=True, slots=True)
class Policy:
    network: Schedule
    http: Schedule
    rate_limit: Schedule

    def schedule(self, kind: Failure) -> Schedule:
        if kind is Failure.NETWORK:
            return self.network
        if kind is Failure.HTTP:
            return self.http
        return self.rate_limit


# X filtered stream: network errors +250 ms per try up to 16 s (the first
# retry after a drop is immediate, see Reconnect); HTTP errors 5 s doubling to
# 320 s; 429 60 s doubling (X gives no cap: 15 min, its rate-limit window).
X_POLICY = Policy(
    network=Linear(step=0.25, cap=16.0, first=0.25),
    http=Exponential(5.0, cap=320.0),
    rate_limit=Exponential(60.0, cap=900.0),
)


def generic_policy(
    network_start: float = 1.0,
    network_cap: float = 60.0,
    http_start: float = 5.0,
    http_cap: float = 320.0,
    rate_limit_start: float = 60.0,
    rate_limit_cap: float = 900.0,
) -> Policy:
    """An exponential policy for networks that document less than X
    (Mastodon streaming, Jetstream): doubling from each start to its cap."""
    return Policy(
        network=Exponential(network_start, cap=network_cap),
        http=Exponential(http_start, cap=http_cap),
        rate_limit=Exponential(rate_limit_start, cap=rate_limit_cap),
    )


@dataclass(slots=True)
class Reconnect:
    """Failure counts and the delay before the next attempt.

    Call ``connected()`` when a connection is established (counts reset),
    ``dropped()`` when an established connection ends (returns 0: reconnect
    at once), ``failed(kind, reset_in=...)`` when an attempt fails (returns
    the schedule's delay; for a 429 a server-given reset wins when later).
    """

    policy: Policy
    attempts: dict[Failure, int] = field(default_factory=dict)

    @property
    def failures(self) -> int:
        """Failed attempts since the last established connection."""
        return sum(self.attempts.values())

    def connected(self) -> None:
        self.attempts.clear()

    def dropped(self) -> float:
        self.attempts.clear()
        return 0.0

    def failed(self, kind: Failure, *, reset_in: float | None = None) -> float:
        count = self.attempts.get(kind, 0) + 1
        self.attempts[kind] = count
        delay = self.policy.schedule(kind).delay(count)
        if kind is Failure.RATE_LIMIT and reset_in is not None and reset_in > 0:
            # The server says when the window reopens: waiting longer than
            # that is pointless, shorter earns another 429.
            return max(reset_in, 1.0)
        return delay

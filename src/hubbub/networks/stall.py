"""Stall detection: a stream that says nothing for too long is dead.

X sends a keep-alive newline every 20 s, Mastodon a ``:thump`` every 15 s;
Jetstream has no heartbeat but a busy firehose. A connection can die without
a FIN (NAT timeouts, a proxy that keeps the socket open), so every stream
read goes through ``next_within``: silence longer than the limit raises
``Stalled`` and the source reconnects like after any network error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TypeVar

from hubbub.networks.clock import Clock

T = TypeVar("T")


class Stalled(Exception):
    """No data (not even a keep-alive) within the stall limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no data for {seconds:g} s")
        self.seconds = seconds


async def next_within(iterator: AsyncIterator[T], seconds: float, clock: Clock) -> T:
    """The iterator's next item, or ``Stalled`` after ``seconds`` of silence.
    ``StopAsyncIteration`` passes through (the server closed the stream)."""
    try:
        return await clock.wait_for(anext(iterator), seconds)
    except TimeoutError:
        raise Stalled(seconds) from None

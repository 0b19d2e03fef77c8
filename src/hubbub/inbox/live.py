"""The inbox's live consumer: new posts become cases while Hubbub runs.

It listens to the pipeline's bus only as a doorbell: case building reads
the store from its own cursor (``hubbub.inbox.build``), so a dropped
subscription, a restart or a second process loses and doubles nothing.
It also builds every ``TICK_SECONDS`` without a post: listening stores a
post's matches after the post, and a rule's case must not wait for the
next post to arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from hubbub.inbox.build import build_cases
from hubbub.pipeline.bus import Subscription
from hubbub.store import Store
from hubbub.store.scope import scope

log = logging.getLogger(__name__)

TICK_SECONDS = 3.0
GATHER_SECONDS = 0.3  # posts of one burst are built in one round
SUBSCRIPTION_QUEUE = 10_000


class _Bus(Protocol):
    def subscribe(self, tag: str | None = None, maxsize: int = 10_000) -> Subscription: ...


class InboxWatcher:
    """Builds cases after new posts (and on a timer), until stopped."""

    def __init__(self, store: Store, workspace: str, pipeline: _Bus) -> None:
        self.store = store
        self.workspace = workspace
        self.pipeline = pipeline
        self.rounds = 0  # builds done (tests wait on it)
        self.failures = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sub: Subscription | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="hubbub-inbox")

    async def stop(self) -> None:
        self._stop.set()
        if self._sub is not None:
            self._sub.close()
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), timeout=10)
            if not self._task.done():
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)

    async def build(self) -> None:
        try:
            await asyncio.to_thread(build_cases, scope(self.store, self.workspace))
        except Exception as exc:  # noqa: BLE001 - the next round tries again
            self.failures += 1
            log.warning("inbox: building cases failed: %s", type(exc).__name__)
        self.rounds += 1

    async def _run(self) -> None:
        while not self._stop.is_set():
            sub = self.pipeline.subscribe(None, SUBSCRIPTION_QUEUE)
            self._sub = sub
            try:
                await self.build()  # what was stored before we subscribed
                while not self._stop.is_set():
                    item = await sub.get(TICK_SECONDS)
                    if item is None and sub.closed:
                        break  # the bus closed (shutting down) or dropped us
                    if item is not None:
                        # A burst: let it land, drop the doorbells already
                        # rung (one build reads every new post anyway).
                        await asyncio.sleep(GATHER_SECONDS)
                        while sub.qsize() > 0 and not sub.closed:
                            with contextlib.suppress(StopAsyncIteration):
                                await sub.__anext__()
                    await self.build()
            finally:
                sub.close()
            if not sub.overflowed:
                return
            log.info("inbox fell behind the bus; resubscribing (nothing is lost)")

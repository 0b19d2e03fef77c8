"""The Pipeline: sources → batches → stages (normalise → store → repost tags → publish).

One task per source pumps its items into a bounded queue (a slow store
slows the sources down rather than growing memory); one batcher task cuts the
queue into batches and runs the stages over each batch in turn, so the store
sees one writer and rooms see posts in arrival order.

Listening is not a stage: the runtime's ``Listener`` (``hubbub.listen.live``)
subscribes to the bus like a room and matches and classifies there, so that work
never delays a post on its way to the rooms (``hubbub import`` runs its own
listening pass over what it stored, ``hubbub.listen.imported``).

Batching is adaptive (group commit): by default (``flush_interval=0``) a
batch is whatever is queued when the batcher comes back for more, up to
``batch_size`` items. An idle pipeline therefore writes and publishes a post
as soon as it arrives, and a busy one writes bigger batches on its own,
because items pile up while the previous batch is being written. A positive
``flush_interval`` makes the batcher wait up to that long for a batch to
fill (fewer, larger transactions for bulk feeds, at the cost of latency).

A source that raises is logged (secrets scrubbed), shown in ``health()``,
and restarted with a doubling delay; after ``max_restarts`` failures in a row
without a single item it is marked ``failed``. It never stops the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from hubbub.pipeline.bus import Bus, LivePost, MemoryBus, Subscription
from hubbub.pipeline.repost_tags import RepostTags
from hubbub.pipeline.stages import Batch, Entry, Normalise, Publish, Stage, StoreStage
from hubbub.post import Post
from hubbub.sources.base import RawItem, Resumable, Source, describe_error
from hubbub.store import Store

log = logging.getLogger(__name__)

_STOP = object()  # tells the batcher to flush what it has and finish
_YIELD_EVERY = 64  # a source that never sleeps still lets the loop breathe
_MAX_BACKOFF = 60.0


@dataclass(slots=True)
class SourceHealth:
    state: str = "connected"  # connected | backing_off | done | failed | stopped
    posts: int = 0  # posts parsed from its items (embedded copies not counted)
    errors: int = 0  # failures of the source plus payloads no parser could read
    last_error: str | None = None
    items: int = 0  # raw items received
    restarts: int = 0
    retry_at: float | None = None  # time.time() of the next attempt while backing off


class Pipeline:
    def __init__(
        self,
        store: Store,
        workspace: str = "default",
        *,
        batch_size: int = 200,
        flush_interval: float = 0.0,
        bus: Bus | None = None,
        queue_size: int | None = None,
        restart_delay: float = 1.0,
        max_restarts: int = 5,
    ) -> None:
        if batch_size < 1 or flush_interval < 0:
            raise ValueError("batch_size must be ≥ 1 and flush_interval ≥ 0")
        self.store = store
        self.workspace = workspace
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.bus: Bus = bus if bus is not None else MemoryBus()
        self.restart_delay = restart_delay
        self.max_restarts = max_restarts
        self.store_stage = StoreStage(store, workspace)
        self.stages: list[Stage] = [
            Normalise(self._normalised),
            self.store_stage,
            RepostTags(store, workspace),  # a repost reaches its original's rooms
            Publish(self.bus),
        ]
        self._queue: asyncio.Queue[Any] = asyncio.Queue(
            maxsize=queue_size or max(1000, batch_size * 20)
        )
        self._health: dict[str, SourceHealth] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._waiting: list[Source] = []  # added before start()
        self._batcher: asyncio.Task[None] | None = None
        self._stopped = False
        self.batches = 0
        self.stage_errors = 0
        self.submitted = 0

    # -- lifecycle -----------------------------------------------------------

    async def start(self, sources: Sequence[Source] = ()) -> None:
        """Start the batcher and the sources; returns at once."""
        if self._batcher is not None:
            raise RuntimeError("pipeline already started")
        self._batcher = asyncio.create_task(self._run_batches(), name="hubbub-pipeline-batcher")
        for source in [*self._waiting, *sources]:
            self.add_source(source)
        self._waiting.clear()

    def add_source(self, source: Source) -> None:
        """Start reading ``source`` (before or while running)."""
        if self._stopped:
            raise RuntimeError("pipeline stopped")
        task = self._tasks.get(source.name)
        if task is not None and not task.done():
            raise ValueError(f"a source named {source.name!r} is already running")
        self._health[source.name] = SourceHealth()
        if self._batcher is None:
            self._waiting.append(source)
            return
        self._tasks[source.name] = asyncio.create_task(
            self._pump(source), name=f"hubbub-source:{source.name}"
        )

    async def remove_source(self, name: str) -> bool:
        """Stop reading the source ``name`` while the pipeline runs on: its pump
        is cancelled and waited for, which closes the source's iterator and so
        its connections, before this returns (the runtime drops a source whose
        account was removed, and its credentials must not be used again). What
        it had already queued is still stored and published. False when no
        source of that name was added."""
        waiting = [s for s in self._waiting if s.name == name]
        self._waiting = [s for s in self._waiting if s.name != name]
        task = self._tasks.pop(name, None)
        if task is None and not waiting:
            return False
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        health = self._health.get(name)
        if health is not None:
            health.state, health.retry_at = "stopped", None
        return True

    async def stop(self) -> None:
        """Stop the sources, flush what was received, end subscriptions."""
        if self._stopped:
            return
        self._stopped = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._batcher is not None:
            await self._queue.put(_STOP)
            await self._batcher
        await self.bus.close()

    async def __aenter__(self) -> Pipeline:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- input and output ----------------------------------------------------

    async def submit(self, item: RawItem | Post) -> None:
        """Feed one item (a web post, or a raw payload from elsewhere)."""
        source = "web" if isinstance(item, Post) else item.ctx.source
        self.submitted += 1
        await self._queue.put(Entry(item, time.time(), source))

    def subscribe(self, tag: str | None = None, maxsize: int = 10_000) -> Subscription:
        return self.bus.subscribe(tag, maxsize)

    def health(self) -> dict[str, dict[str, Any]]:
        """Per source: state, posts, errors, last_error (and items, restarts, retry_at)."""
        return {name: asdict(h) for name, h in self._health.items()}

    def stats(self) -> dict[str, Any]:
        """Pipeline-wide numbers (queue depth, batches, store outcome)."""
        return {
            "queued": self._queue.qsize(),
            "batches": self.batches,
            "stage_errors": self.stage_errors,
            "submitted": self.submitted,
            "store": asdict(self.store_stage.stats),
        }

    # -- tasks -----------------------------------------------------------------

    async def _pump(self, source: Source) -> None:
        health = self._health[source.name]
        failures = 0
        while True:
            health.state, health.retry_at = "connected", None
            if isinstance(source, Resumable):
                # Continue after what the store has committed for this source.
                try:
                    cursor = await asyncio.to_thread(
                        self.store.get_cursor, source.name, self.workspace
                    )
                except Exception as exc:  # noqa: BLE001 - read it all again: the store dedupes
                    log.warning(
                        "source %s: no stored cursor (%s)", source.name, describe_error(exc)
                    )
                    cursor = None
                source.resume_from(cursor)
            iterator = source.__aiter__()
            got_any = False
            try:
                async for item in iterator:
                    got_any = True
                    health.items += 1
                    await self._queue.put(Entry(item, time.time(), source.name))
                    if health.items % _YIELD_EVERY == 0:
                        await asyncio.sleep(0)
                health.state = "done"
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a source's failure is reported, never fatal
                health.errors += 1
                health.last_error = describe_error(exc)
                log.warning("source %s failed: %s", source.name, health.last_error)
                failures = 1 if got_any else failures + 1
            finally:
                close = getattr(iterator, "aclose", None)
                if close is not None:
                    with contextlib.suppress(Exception):
                        await close()
            if failures >= self.max_restarts:
                health.state = "failed"
                return
            delay = min(self.restart_delay * 2 ** (failures - 1), _MAX_BACKOFF)
            health.state, health.retry_at = "backing_off", time.time() + delay
            await asyncio.sleep(delay)
            health.restarts += 1

    async def _run_batches(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is _STOP:
                return
            entries: list[Entry] = [first]
            deadline = loop.time() + self.flush_interval
            while len(entries) < self.batch_size:
                try:
                    entry = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    try:
                        async with asyncio.timeout(remaining):
                            entry = await self._queue.get()
                    except TimeoutError:
                        break
                if entry is _STOP:
                    stopping = True
                    break
                entries.append(entry)
            await self._process(entries)

    async def _process(self, entries: list[Entry]) -> None:
        self.batches += 1
        batch: list[LivePost] = Batch(entries=entries)
        for stage in self.stages:
            try:
                batch = await stage(batch)
            except Exception as exc:  # noqa: BLE001 - a broken stage must not stop the pipeline
                # The batch goes on unchanged, so a failing stage (the repost
                # tags' store lookup, say) still lets posts reach the rooms.
                self.stage_errors += 1
                log.exception("pipeline stage %r failed: %s", stage, describe_error(exc))

    def _normalised(self, source: str, posts: int, error: str | None) -> None:
        health = self._health.get(source)
        if health is None:
            return  # submitted items: not a source with health
        health.posts += posts
        if error is not None:
            health.errors += 1
            health.last_error = error

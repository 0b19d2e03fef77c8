"""``replay:FILE`` — play an import file back in its original order and pace.

The delay before each item is the time since the previous item divided by
``speed``, capped at ``maxgap`` seconds so a capture with a quiet night in it
does not stall a demo. An item's time is what the parser says (a stream's
receive time when the payload has one, else the post's ``created_at``); an
item without a usable time goes at once and does not move the clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from hubbub.formats import Context, parse_record
from hubbub.formats.reader import Record, iter_file_records
from hubbub.post import Deletion, Post
from hubbub.sources.base import RawItem, Sleep

log = logging.getLogger(__name__)

_CHUNK = 500  # records read per trip to the worker thread


def item_time(value: Any, ctx: Context | None = None) -> datetime | None:
    """When the network saw this value, or None when no parser can tell."""
    try:
        _fmt, items = parse_record(value, ctx or Context(source="replay"))
    except Exception:  # noqa: BLE001 - any unreadable value simply has no time
        return None
    for item in items:
        if isinstance(item, Post) and not item.embedded:
            return item.seen_at or item.created_at
        if isinstance(item, Deletion) and item.at is not None:
            return item.at
    return None


def replay_delays(
    times: Iterable[datetime | None], speed: float = 1.0, maxgap: float = 5.0
) -> Iterator[float]:
    """Seconds to wait before each item, given the items' times. Pure, so the
    pacing is tested without a clock. Going back in time (a reordered capture)
    waits nothing and leaves the clock where it was."""
    if speed <= 0:
        raise ValueError("speed must be positive")
    previous: datetime | None = None
    for when in times:
        if when is None:
            yield 0.0
            continue
        if previous is None:
            delay = 0.0
        else:
            delay = min(max((when - previous).total_seconds() / speed, 0.0), maxgap)
        if previous is None or when > previous:
            previous = when
        yield delay


class ReplaySource:
    def __init__(
        self,
        path: str | Path,
        *,
        speed: float = 1.0,
        maxgap: float = 5.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if speed <= 0:
            raise ValueError("replay: speed must be positive")
        if maxgap < 0:
            raise ValueError("replay: maxgap must not be negative")
        self.path = Path(path)
        self.speed, self.maxgap = speed, maxgap
        self.name = f"replay:{path}"
        self.bad_records = 0  # lines that are not JSON (logged with their line number)
        self._sleep = sleep
        self._after_line = 0  # resume: records up to this line were stored already

    def resume_from(self, cursor: str | None) -> None:
        """Skip the records up to line ``cursor`` (a stored RawItem.cursor)."""
        self._after_line = int(cursor) if cursor and cursor.isdigit() else 0

    async def _records(self) -> AsyncGenerator[Record, None]:
        # File reading and JSON decoding happen in a worker thread, a chunk at
        # a time, so a large capture never blocks the event loop.
        stream = await asyncio.to_thread(self.path.open, "rb")
        try:
            records = iter_file_records(stream)
            while chunk := await asyncio.to_thread(lambda: list(islice(records, _CHUNK))):
                for record in chunk:
                    yield record
        finally:
            await asyncio.to_thread(stream.close)

    async def __aiter__(self) -> AsyncIterator[RawItem]:
        previous: datetime | None = None
        records = self._records()
        try:
            async for record in records:
                if record.line <= self._after_line:
                    continue  # stored before a restart: neither re-sent nor waited for
                if record.error is not None:
                    self.bad_records += 1
                    log.warning("%s:%d: skipped: %s", self.path, record.line, record.error)
                    continue
                ctx = Context(source=self.name, fetched_at=datetime.now(UTC))
                when = item_time(record.value, ctx)
                delay = _delay(previous, when, self.speed, self.maxgap)
                if when is not None and (previous is None or when > previous):
                    previous = when
                if delay > 0:
                    await self._sleep(delay)
                yield RawItem(record.value, ctx, raw=record.raw, cursor=str(record.line))
        finally:
            await records.aclose()


def _delay(previous: datetime | None, when: datetime | None, speed: float, maxgap: float) -> float:
    """One step of ``replay_delays``."""
    if previous is None or when is None:
        return 0.0
    return list(replay_delays([previous, when], speed, maxgap))[1]

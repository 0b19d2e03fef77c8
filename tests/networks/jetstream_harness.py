"""What the Jetstream v1 and v2 connector tests share: the recorded capture
plus generated posts as the servers' log, a SQLite store per test, the source
as the tests build it, and running it until a condition holds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from hubbub.networks.backoff import generic_policy
from hubbub.networks.clock import FakeClock
from hubbub.sources.bluesky import JetstreamSource
from hubbub.store import Store, open_store
from tests.conftest import require_shared_data
from tests.loopback.jetstream_server import generated_posts, load_recorded
from tests.networks.connector_oracle import DEADLINE, ingest_until

NAME = "bluesky:jetstream"
POLICY = generic_policy()


def recorded() -> list[dict[str, Any]]:
    return load_recorded(require_shared_data() / "payloads" / "bluesky_jetstream")


def events(count: int = 300) -> list[dict[str, Any]]:
    """The recorded events, then ``count`` generated #hubchat posts 20 ms apart."""
    base = recorded()
    start = max(e["time_us"] for e in base) + 1_000_000
    return base + generated_posts(base, count, tag="hubchat", start_us=start, step_us=20_000)


def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A SQLite store for one test, closed after it (the body of each test
    module's ``store`` fixture: these tests run on SQLite only)."""
    store = open_store(f"sqlite:///{tmp_path / 'hubbub.db'}")
    yield store
    store.close()


def first_time(log: list[dict[str, Any]]) -> int:
    return min(e["time_us"] for e in log)


def source(url: str | tuple[str, ...], clock: FakeClock, **kwargs: Any) -> JetstreamSource:
    urls = (url,) if isinstance(url, str) else url
    kwargs.setdefault("stall_seconds", 30.0)
    return JetstreamSource(urls, name=NAME, clock=clock, **kwargs)


async def ingest_from(
    store: Store, src: JetstreamSource, first_us: int, expected: set[str]
) -> list[str]:
    """Store a time cursor at ``first_us`` (plus the source's rewind, so the
    resume asks for exactly that time), then ingest until ``expected`` is stored."""
    store.set_cursor(NAME, str(first_us + src.rewind_us))
    return await ingest_until(store, src, "bluesky", expected)


async def drain_until(
    src: JetstreamSource, done: Callable[[], bool], *, deadline: float = DEADLINE
) -> None:
    """Read the source with no store behind it until ``done``."""

    async def drain() -> None:
        async for _item in src:
            pass

    task = asyncio.create_task(drain())
    try:
        async with asyncio.timeout(deadline):
            while not done():
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

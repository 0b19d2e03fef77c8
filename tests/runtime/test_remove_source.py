"""Pipeline.remove_source: one source stops while the pipeline and the other
sources go on; its iterator is closed (where a network source closes its
connection) before the call returns; the name can be added again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hubbub.formats import Context
from hubbub.pipeline import Pipeline
from hubbub.sources.base import RawItem
from hubbub.sources.sim import SimSource
from hubbub.store import Store, open_store

START = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)
DEADLINE = 10.0  # a safety net against hangs, never a timing assertion


class EndlessSource:
    """Yields Mastodon statuses for ever, one at a time; says when it was closed."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.open = False
        self.closed = 0
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[RawItem]:
        self.open = True
        try:
            while True:
                await asyncio.sleep(0.001)
                self.sent += 1
                value = {
                    "id": str(self.sent),
                    "uri": f"https://example.org/{self.name}/{self.sent}",
                    "created_at": "2025-03-01T18:00:00Z",
                    "content": "<p>hello</p>",
                    "account": {"id": "1", "acct": "a", "username": "a", "display_name": "A"},
                }
                ctx = Context(source=self.name, fetched_at=START, server="example.org")
                yield RawItem(value, ctx, "mastodon")
        finally:
            self.open = False
            self.closed += 1


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(f"sqlite:///{tmp_path / 'hubbub.db'}")
    yield s
    s.close()


async def _until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(DEADLINE):
        while not check():
            await asyncio.sleep(0.005)


async def _no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


async def test_one_source_stops_the_others_go_on(store: Store) -> None:
    gone, kept = EndlessSource("gone"), EndlessSource("kept")
    async with Pipeline(store) as pipeline:
        await pipeline.start([gone, kept])
        await _until(lambda: gone.sent > 3 and kept.sent > 3)
        assert await pipeline.remove_source("gone")
        assert not gone.open and gone.closed == 1  # closed before the call returned
        sent = gone.sent
        assert pipeline.health()["gone"]["state"] == "stopped"
        later = kept.sent + 20
        await _until(lambda: kept.sent > later)  # the others go on
        assert gone.sent == sent
        assert not await pipeline.remove_source("gone")  # once only
        assert not await pipeline.remove_source("nobody")
        # The name is free again.
        again = EndlessSource("gone")
        pipeline.add_source(again)
        await _until(lambda: again.sent > 3)
        assert pipeline.health()["gone"]["state"] == "connected"
    assert not again.open and not kept.open
    assert store.count() > 0


async def test_a_source_removed_before_start_never_runs(store: Store) -> None:
    waiting = SimSource(
        "hubchat", rate=50.0, speed=10.0, seed=1, limit=5, start=START, sleep=_no_sleep
    )
    pipeline = Pipeline(store)
    pipeline.add_source(waiting)
    assert await pipeline.remove_source("sim:hubchat")
    await pipeline.start()
    await pipeline.stop()
    assert store.count() == 0
    assert pipeline.health()["sim:hubchat"]["state"] == "stopped"

"""Stand-in used ONLY while hubbub.pipeline is not importable yet (it is being
built in parallel): store a submitted Post and publish it if new. The tests
use the real Pipeline as soon as it exists."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from hubbub.post import Post
from hubbub.query.tokens import fold
from hubbub.store import Ingest


@dataclass(frozen=True)
class _Live:
    post: Post
    entered_at: float
    stored: bool = True


class _Sub:
    def __init__(self, owner: StubPipeline, tag: str | None) -> None:
        self.owner, self.tag, self.queue = owner, tag, asyncio.Queue()
        self.overflowed = False

    def __aiter__(self) -> _Sub:
        return self

    async def __anext__(self) -> Any:
        item = await self.queue.get()
        if item is None:
            raise StopAsyncIteration
        return item

    def close(self) -> None:
        if self in self.owner.subs:
            self.owner.subs.remove(self)


class StubPipeline:
    def __init__(self, store: Any, workspace: str = "default") -> None:
        self.store, self.workspace, self.subs = store, workspace, []

    async def start(self, sources: Any = ()) -> None:
        return None

    async def stop(self) -> None:
        for sub in list(self.subs):
            sub.queue.put_nowait(None)

    def subscribe(self, tag: str | None = None, maxsize: int = 10_000) -> _Sub:
        sub = _Sub(self, tag)
        self.subs.append(sub)
        return sub

    async def submit(self, post: Post) -> None:
        entered = time.time()
        result = await asyncio.to_thread(self.store.ingest, [Ingest(post)], self.workspace)
        for new in result.new:
            tags = {fold(t) for t in new.hashtags}
            for sub in list(self.subs):
                if sub.tag is None or fold(sub.tag) in tags:
                    sub.queue.put_nowait(_Live(new, entered))

    def health(self) -> dict:
        return {}

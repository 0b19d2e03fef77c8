"""Running an X source against the loopback X server, in process, into a
real SQLite store, and the checks every fault test makes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from hubbub.networks.clock import FakeClock
from hubbub.networks.env import Credentials, Follows, SourceEnv
from hubbub.pipeline import Pipeline
from hubbub.sources.network_specs import network_source_from_spec
from hubbub.sources.x_backfill import Cursors, id_key
from hubbub.store import Store, open_store
from hubbub.store import schema as t
from hubbub.store.leases import try_lease
from tests.loopback.x_server import XServer


def stored_ids(store: Store) -> list[str]:
    p = t.posts
    with store.engine.connect() as conn:
        return list(conn.execute(sa.select(p.c.post_id).where(p.c.network == "x")).scalars())


@dataclass
class Run:
    server: XServer
    url: str
    store: Store
    env: SourceEnv
    clock: FakeClock
    pipeline: Pipeline
    source_name: str
    cursor_history: list[dict[str, str]] = field(default_factory=list)

    async def wait(self, predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            self.record_cursor()
            if predicate():
                return True
            await asyncio.sleep(0.05)
        return predicate()

    def record_cursor(self) -> None:
        value = self.store.get_cursor(self.source_name)
        if value is not None:
            current = Cursors.parse(value).by_key
            if not self.cursor_history or self.cursor_history[-1] != current:
                self.cursor_history.append(current)

    def all_stored(self, query: str | None = None) -> bool:
        served = self.server.served_ids(query)
        return bool(served) and set(stored_ids(self.store)) >= served

    def check(self, query: str | None = None) -> None:
        """Stored ids == served ids, no duplicates, cursors never went back."""
        ids = stored_ids(self.store)
        assert len(ids) == len(set(ids)), "a post is stored twice"
        assert set(ids) == self.server.served_ids(query)
        self.record_cursor()
        for before, after in zip(self.cursor_history, self.cursor_history[1:], strict=False):
            for key, value in before.items():
                if key in after:
                    assert id_key(after[key]) >= id_key(value), f"cursor of {key} went back"

    async def stop(self) -> None:
        await self.pipeline.stop()
        await self.server.stop()
        self.store.close()


async def start_run(
    tmp_path: Path,
    server: XServer,
    spec: str = "x:stream?url={url}",
    *,
    hashtags: tuple[str, ...] = ("hubchat",),
    queries: tuple[tuple[str, str], ...] = (),
    scale: float = 0.01,
    limits: dict[str, float] | None = None,
    token: str | None = None,
    db: str | None = None,
) -> Run:
    clock = FakeClock(scale=scale)
    server.now = clock.time
    url = await server.start()
    store = open_store(db or str(tmp_path / "x.db"))
    secret = server.token if token is None else token

    def account(network: str, name: str | None) -> Credentials | None:
        return Credentials("main", "x", secret) if network == "x" else None

    env = SourceEnv(
        clock=clock,
        account=account,
        follows=lambda: Follows(queries=queries, hashtags=hashtags),
        limits=limits or {},
        lease=lambda name: try_lease(store, name),  # as the runtime wires it
    )
    source = network_source_from_spec(spec.format(url=url), env)
    pipeline = Pipeline(store, restart_delay=0.05)
    await pipeline.start([source])
    return Run(server, url, store, env, clock, pipeline, source.name)

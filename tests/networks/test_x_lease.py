"""One X stream connection per app, whatever process runs it: a lease held
by the operating system (flock beside SQLite, advisory lock on PostgreSQL),
so a second runtime waits and a crashed holder lets go at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubbub.networks.env import Credentials, Follows, SourceEnv
from hubbub.networks.health import State
from hubbub.pipeline import Pipeline
from hubbub.sources.network_specs import network_source_from_spec
from hubbub.store import open_store
from hubbub.store.leases import try_lease
from tests.conftest import require_shared_data
from tests.loopback.x_server import XServer, load_recorded_tweets
from tests.networks.x_harness import start_run


def test_lease_is_exclusive_and_released(db_url: str) -> None:
    with open_store(db_url) as one, open_store(db_url) as two:
        held = try_lease(one, "x-stream:abc")
        assert held is not None
        assert try_lease(two, "x-stream:abc") is None
        other = try_lease(two, "x-stream:other")  # another app: its own lease
        assert other is not None
        other.release()
        held.release()
        again = try_lease(two, "x-stream:abc")
        assert again is not None
        again.release()


async def test_second_runtime_waits_for_the_stream(tmp_path: Path) -> None:
    recorded = load_recorded_tweets(require_shared_data() / "payloads")
    server = XServer(recorded, keepalive=0.04)
    server.publish_generated(10)
    run = await start_run(tmp_path, server)
    second_store = open_store(str(tmp_path / "x.db"))  # another process's handle on the same file
    env = SourceEnv(
        clock=run.clock,
        account=lambda n, name: Credentials("main", "x", server.token),
        follows=lambda: Follows(hashtags=("hubchat",)),
        lease=lambda name: try_lease(second_store, name),
    )
    try:
        # The first runtime's source took the lease before connecting.
        assert await run.wait(lambda: server.open_streams == 1)
        second = network_source_from_spec(f"x:stream?url={run.url}", env)
        # Leases are per process in real life; here the first holds a flock on
        # its own file descriptor, which the second's open() does not share.
        pipeline = Pipeline(second_store, restart_delay=0.05)
        await pipeline.start([second])
        tracker = env.health.tracker("x:stream", "x")
        assert await run.wait(lambda: "another Hubbub process" in (tracker.snapshot.reason or ""))
        assert server.stream_connections == 1 and server.max_open_streams == 1
        await run.pipeline.stop()  # the first runtime stops: its lease goes with it
        assert await run.wait(lambda: tracker.snapshot.state is State.CONNECTED)
        assert server.max_open_streams == 1
        await pipeline.stop()
    finally:
        second_store.close()
        await run.stop()


@pytest.fixture(autouse=True)
def _no_leftover_leases(tmp_path: Path):
    yield
    for path in tmp_path.glob("*.lease-*"):
        assert path.stat().st_mode & 0o077 == 0  # private, like every file beside the database

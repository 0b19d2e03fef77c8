"""x:stream's health while X cannot be reached before the stream connects.

The stream waits for a first rule sync, so a failing rules endpoint is all
the source does: its health must say so (reconnecting: attempt N, reason,
next try at T; rate-limited until T) with X's backoff, as a failing stream
connection does, instead of "starting" for as long as the failure lasts
(a reviewer saw "starting" after 20 minutes and 105 failed syncs).

The clock is a ``FakeClock`` that notes the source's health each time the
rules task waits: exactly what ``hubbub sources status`` shows during that wait.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hubbub.networks.clock import FakeClock
from hubbub.networks.env import Credentials, Follows, SourceEnv
from hubbub.networks.health import HealthBoard, HealthSnapshot, State
from hubbub.pipeline import Pipeline
from hubbub.sources.network_specs import network_source_from_spec
from hubbub.store import open_store
from hubbub.store.leases import try_lease
from hubbub.store.source_health import read_health, write_health
from tests.conftest import require_shared_data
from tests.loopback.x_server import Fault, XServer, load_recorded_tweets
from tests.networks.x_harness import Run

RULES_TASK = "x:stream:rules"
PATIENT = {"x_stall_seconds": 2000.0}  # scheduling jitter is not a dead stream


class HealthAtEachWait(FakeClock):
    """A FakeClock that keeps (delay, health) each time the rules task
    sleeps: the health shown for the whole of that wait."""

    def __init__(self, board: HealthBoard, *, scale: float) -> None:
        super().__init__(scale=scale)
        self.board = board
        self.waits: list[tuple[float, HealthSnapshot]] = []

    async def sleep(self, seconds: float) -> None:
        task = asyncio.current_task()
        if task is not None and task.get_name() == RULES_TASK:
            tracker = self.board.tracker("x:stream", "x")
            snap = HealthSnapshot.from_json(tracker.snapshot.as_json())
            self.waits.append((seconds, snap))
        await super().sleep(seconds)


@pytest.fixture(scope="module")
def recorded():
    return load_recorded_tweets(require_shared_data() / "payloads")


async def _until(predicate, timeout: float = 30.0) -> bool:  # noqa: ANN001 - test helper
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def _at_most_just_before(reported_at: float, updated_at: float) -> None:
    """The next try was counted from the moment health was written (the
    tracker reads the clock for it first, then for ``updated_at``)."""
    assert updated_at - 5.0 <= reported_at <= updated_at


async def _start(tmp_path: Path, server: XServer, url: str, scale: float) -> Run:
    """x:stream on ``url`` into a SQLite store, as the runtime wires it, with
    a clock that watches the source's own health board."""
    board = HealthBoard()
    clock = HealthAtEachWait(board, scale=scale)
    board.clock = clock
    server.now = clock.time
    store = open_store(str(tmp_path / "x.db"))
    env = SourceEnv(
        clock=clock,
        health=board,
        account=lambda network, name: Credentials("main", "x", server.token),
        follows=lambda: Follows(hashtags=("hubchat",)),
        limits=PATIENT,
        lease=lambda name: try_lease(store, name),
    )
    source = network_source_from_spec(f"x:stream?url={url}", env)
    pipeline = Pipeline(store, restart_delay=0.05)
    await pipeline.start([source])
    return Run(server, url, store, env, clock, pipeline, source.name)


async def test_rules_failures_show_as_reconnecting_then_connected(tmp_path: Path, recorded) -> None:
    scale = 0.002
    server = XServer(recorded, keepalive=20 * scale / 5)
    # The rules endpoint: three dropped connections, two 503s, one 429 whose
    # reset has passed (X's 60 s then applies); then it answers.
    server.faults += [Fault("cut", on="rules")] * 3
    server.faults += [Fault("5xx", on="rules")] * 2 + [Fault("429", on="rules", seconds=0)]
    run = await _start(tmp_path, server, await server.start(), scale)
    clock = run.clock
    assert isinstance(clock, HealthAtEachWait)
    try:
        tracker = run.env.health.tracker(run.source_name, "x")
        assert await _until(lambda: server.open_streams == 1)
        failed = clock.waits[:6]
        # X's backoff: +250 ms per network error, 5 s doubling for HTTP errors, 60 s for 429.
        assert [delay for delay, _ in failed] == pytest.approx(
            [0.25, 0.5, 0.75, 5.0, 10.0, 60.0], rel=0.1
        )
        for attempt, (delay, snap) in enumerate(failed[:5], start=1):
            assert snap.state is State.RECONNECTING, (attempt, snap)
            assert snap.attempt == attempt
            assert snap.next_at is not None
            _at_most_just_before(snap.next_at - delay, snap.updated_at)
            assert snap.reason is not None and snap.reason.startswith("rules: ")
            assert server.token not in snap.reason
        # The cut connection: no HTTP answer, so no status, and httpx's words.
        assert failed[0][1].reason == (
            "rules: connection failed: Server disconnected without sending a response."
        )
        assert failed[3][1].reason == "rules: HTTP 503 (Service Unavailable)"
        delay, limited = failed[5]
        assert limited.state is State.RATE_LIMITED
        assert limited.until is not None
        _at_most_just_before(limited.until - delay, limited.updated_at)
        assert "HTTP 429" in (limited.reason or "")
        # Synced at last: the stream connects and says so; posts flow.
        assert await _until(lambda: tracker.snapshot.state is State.CONNECTED)
        assert tracker.snapshot.attempt == 0 and tracker.snapshot.next_at is None
        server.publish_generated(10)
        assert await run.wait(run.all_stored)
        run.check()
    finally:
        await run.stop()


async def test_unreachable_x_is_reconnecting_in_stored_status(tmp_path: Path, recorded) -> None:
    """The reviewer's case: nothing answers (connection refused), for many
    attempts. What ``sources status`` reads from the store says reconnecting,
    the attempt count, the reason and the next try, never "starting"."""
    server = XServer(recorded, token="secret-x-token-0123456789")  # noqa: S106
    url = await server.start()
    await server.stop()  # nothing listens on that port any more
    run = await _start(tmp_path, server, url, 0.01)
    clock, board, store = run.clock, run.env.health, run.store
    assert isinstance(clock, HealthAtEachWait)
    try:
        assert await _until(lambda: len(clock.waits) >= 8)
        delays = [delay for delay, _ in clock.waits[:8]]
        assert delays == pytest.approx([0.25 * n for n in range(1, 9)], rel=0.1)
        for attempt, (_, snap) in enumerate(clock.waits[:8], start=1):
            assert snap.state is State.RECONNECTING
            assert snap.attempt == attempt
            assert snap.reason == "rules: connection failed: All connection attempts failed"
        tracker = board.tracker(run.source_name, "x")
        snapshot = tracker.take()
        assert snapshot is not None
        write_health(store, "default", [snapshot])
        (stored,) = read_health(store, "default", now=clock.time())
        assert stored.state is State.RECONNECTING
        assert stored.attempt >= 8
        assert stored.next_at is not None and stored.next_at >= snapshot.updated_at
        assert stored.reason == "rules: connection failed: All connection attempts failed"
        assert server.token not in str(stored.as_json())
        assert "reconnecting (try" in stored.line()
    finally:
        await run.stop()

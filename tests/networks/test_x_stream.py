"""x:stream against the loopback X server: rules kept in step, backfill on
first start and after every fault, backoff as X documents, stall detection.
After every fault the stored ids equal the served ids, none twice, and the
cursors never went back."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubbub.networks.health import State
from tests.conftest import require_shared_data
from tests.loopback.x_server import Fault, XServer, load_recorded_tweets
from tests.networks.x_harness import Run, start_run


@pytest.fixture(scope="module")
def recorded():
    return load_recorded_tweets(require_shared_data() / "payloads")


def _server(recorded, scale: float = 0.01, **kw) -> XServer:
    # Keep-alives well inside the client's 20 s of (scaled) patience.
    return XServer(recorded, keepalive=20 * scale / 5, **kw)


async def _connected(run: Run) -> None:
    assert await run.wait(lambda: run.server.open_streams == 1)


async def test_first_start_backfills_then_streams(tmp_path: Path, recorded) -> None:
    server = _server(recorded)
    server.publish_generated(150)  # before we start: recent search brings them (pages of 100)
    server.publish_generated(5, tag="elsewhere")  # not followed: never stored
    run = await start_run(tmp_path, server)
    try:
        await _connected(run)
        # the rule Hubbub made, tagged as ours
        assert [r.value for r in server.rules.values()] == ["#hubchat"]
        assert all(r.tag and r.tag.startswith("hubbub:") for r in server.rules.values())
        server.publish_generated(40)
        assert await run.wait(run.all_stored)
        run.check()
        assert server.search_requests >= 2  # 150 posts: two pages
        assert server.max_open_streams == 1
    finally:
        await run.stop()


async def test_foreign_rules_left_alone_and_changes_idempotent(tmp_path: Path, recorded) -> None:
    server = _server(recorded)
    await server.start()
    from tests.loopback.x_server import Rule

    server.rules["1"] = Rule("1", "someone else", "their-tag")
    server.rules["2"] = Rule("2", "#old", "hubbub:0000000000000000")  # ours, no longer wanted
    await server.stop()
    run = await start_run(
        tmp_path, server, hashtags=("hubchat", "second"), queries=(("brand", "acme OR #acme"),)
    )
    try:
        await _connected(run)
        values = sorted(r.value for r in server.rules.values())
        assert values == sorted(["someone else", "#hubchat", "#second", "acme OR #acme"])
        posts_before = server.rules_posts
        # Another sync with nothing changed sends nothing.
        source = run.pipeline._tasks  # noqa: SLF001 - the source is running; give it rounds
        assert source
        await run.wait(lambda: False, timeout=1.0)  # ~100 s of fake time: several rule checks
        assert server.rules_posts == posts_before
    finally:
        await run.stop()


@pytest.mark.parametrize(
    "fault",
    [
        Fault("cut"),
        Fault("truncated"),
        Fault("duplicate", count=10),
        Fault("shuffle"),
        Fault("stall", seconds=1.0),
    ],
    ids=lambda f: f.kind,
)
async def test_stream_faults_lose_nothing(tmp_path: Path, recorded, fault: Fault) -> None:
    server = _server(recorded)
    server.publish_generated(20)
    run = await start_run(tmp_path, server)
    try:
        await _connected(run)
        server.publish_generated(10)
        assert await run.wait(run.all_stored)
        server.faults.append(fault)
        server.publish_generated(60)  # the fault strikes in this burst
        if fault.kind in ("cut", "stall"):
            assert await run.wait(lambda: server.stream_connections >= 2)
        server.publish_generated(20)
        assert await run.wait(run.all_stored), f"missing {len(server.served_ids())} served"
        run.check()
        snap = run.env.health.tracker(run.source_name, "x").snapshot
        if fault.kind in ("cut", "stall", "truncated"):
            assert snap.gaps_found >= 1
            assert await run.wait(lambda: snap.gaps_backfilled >= 1)
        if fault.kind == "stall":
            assert 20.0 in run.clock.timeouts  # silence for 20 s of clock time is a dead stream
        assert server.max_open_streams == 1
    finally:
        await run.stop()


# Backoff tests run time fast; a long stall limit keeps a busy machine's
# scheduling jitter from passing for a dead stream there.
PATIENT = {"x_stall_seconds": 2000.0}


def _stream_sleeps(run: Run) -> list[float]:
    return [s for s in run.clock.sleeps_by_task.get("x:stream:stream", []) if s > 0]


async def test_http_errors_back_off_5s_doubling(tmp_path: Path, recorded) -> None:
    server = _server(recorded, scale=0.002)
    server.faults += [Fault("5xx"), Fault("5xx"), Fault("5xx")]
    run = await start_run(tmp_path, server, scale=0.002, limits=PATIENT)
    try:
        await _connected(run)
        assert _stream_sleeps(run) == pytest.approx([5.0, 10.0, 20.0], rel=0.1)
        server.publish_generated(10)
        assert await run.wait(run.all_stored)
        run.check()
    finally:
        await run.stop()


async def test_429_waits_for_reset_then_doubles(tmp_path: Path, recorded) -> None:
    server = _server(recorded, scale=0.002)
    server.faults += [Fault("429", seconds=0)]  # a reset already passed: X's 60 s applies
    run = await start_run(tmp_path, server, scale=0.002, limits=PATIENT)
    try:
        await _connected(run)
        waits = _stream_sleeps(run)
        assert waits == pytest.approx([60.0], rel=0.1)
        health = run.env.health.tracker(run.source_name, "x").snapshot
        assert health.state is State.CONNECTED
    finally:
        await run.stop()


@pytest.mark.serial
async def test_429_with_reset_header_is_honoured(tmp_path: Path, recorded) -> None:
    server = _server(recorded, scale=0.001)
    server.faults += [Fault("429", seconds=120)]
    run = await start_run(tmp_path, server, scale=0.001, limits=PATIENT)
    try:
        tracker = run.env.health.tracker(run.source_name, "x")
        assert await run.wait(lambda: tracker.snapshot.state is State.RATE_LIMITED, timeout=10)
        await _connected(run)
        (wait,) = _stream_sleeps(run)
        assert 100 <= wait <= 132  # the header's reset (120 s ahead, whole seconds), ±10%
    finally:
        await run.stop()


async def test_network_errors_step_250ms(tmp_path: Path, recorded) -> None:
    server = _server(recorded)
    url = await server.start()
    await server.stop()  # nothing listens: connection refused, a TCP error
    import contextlib

    from hubbub.networks.clock import FakeClock
    from hubbub.networks.env import Credentials, Follows, SourceEnv
    from hubbub.sources.network_specs import network_source_from_spec

    clock = FakeClock(scale=0.01)
    env = SourceEnv(
        clock=clock,
        account=lambda n, name: Credentials("m", "x", "tok"),
        follows=lambda: Follows(hashtags=("hubchat",)),
    )
    source = network_source_from_spec(f"x:stream?url={url}", env)
    source._synced.set()  # noqa: SLF001 - rules cannot sync without a server; test the stream alone
    import asyncio

    task = asyncio.create_task(source._stream_loop(), name="x:stream:stream")  # noqa: SLF001
    for _ in range(200):
        if len(clock.sleeps_by_task.get("x:stream:stream", [])) >= 6:
            break
        await asyncio.sleep(0.02)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await source.client.aclose()
    assert clock.sleeps_by_task["x:stream:stream"][:6] == pytest.approx(
        [0.25, 0.5, 0.75, 1.0, 1.25, 1.5], rel=0.1
    )
    snap = env.health.tracker("x:stream", "x").snapshot
    assert snap.state is State.RECONNECTING and snap.attempt >= 5


async def test_refused_token_stops_with_reason(tmp_path: Path, recorded) -> None:
    server = _server(recorded)
    run = await start_run(tmp_path, server, token="not-the-server-token")  # noqa: S106
    try:
        tracker = run.env.health.tracker(run.source_name, "x")
        assert await run.wait(lambda: tracker.snapshot.state is State.STOPPED)
        assert "401" in (tracker.snapshot.reason or "")
        assert "not-the-server-token" not in (tracker.snapshot.reason or "")
    finally:
        await run.stop()


@pytest.mark.serial
async def test_faults_lose_nothing_on_postgresql(
    tmp_path: Path, recorded, postgres_url: str
) -> None:
    """The same guarantees with the store on PostgreSQL (its lease is an advisory lock)."""
    server = _server(recorded)
    server.publish_generated(120)
    run = await start_run(tmp_path, server, db=postgres_url)
    try:
        await _connected(run)
        server.faults += [Fault("cut"), Fault("duplicate", count=10)]
        server.publish_generated(60)
        assert await run.wait(lambda: server.stream_connections >= 2)
        server.faults.append(Fault("truncated"))
        server.publish_generated(60)
        assert await run.wait(run.all_stored)
        run.check()
        assert server.max_open_streams == 1
    finally:
        await run.stop()

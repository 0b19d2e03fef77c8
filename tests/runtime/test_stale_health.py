"""A SIGKILLed worker cannot say it stopped: its sources' health rows would
read "connected" forever. The runtime's health writer touches the rows of
its running sources every second (a heartbeat); a reader shows a row whose
heartbeat stopped as stale (worker not running, last seen T).

The readers' clock is injected (``read_health(now=…)``), so "later" is a
number, not a wait; the CLI reads the real clock and is polled until it says
so (no timing assertion: the wait only bounds a hung test)."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from click.testing import CliRunner

from hubbub.cli import main
from hubbub.networks.clock import FakeClock
from hubbub.networks.health import HealthBoard, State
from hubbub.store import open_store
from hubbub.store.source_health import STALE_SECONDS, read_health, touch_health, write_health
from tests.conftest import require_shared_data
from tests.loopback.jetstream_server import (
    JetstreamServer,
    generated_posts,
    load_recorded,
    post_uri,
)
from tests.networks.connector_oracle import stored_ids

DEADLINE = 60.0


def test_a_row_without_heartbeat_reads_as_stale_and_a_stopped_one_stays_stopped(
    db_url: str,
) -> None:
    clock = FakeClock(scale=1e6)  # time stands still unless advanced
    board = HealthBoard(clock)
    board.tracker("bluesky:jetstream", "bluesky").connected()
    board.tracker("x:stream", "x").stopped("the runtime running it stopped")
    t0 = clock.time()
    with open_store(db_url) as store:
        write_health(store, "default", board.take_dirty())

        def states(now: float) -> dict[str, State]:
            return {s.source: s.state for s in read_health(store, "default", now=now)}

        assert states(t0 + 1) == {"bluesky:jetstream": State.CONNECTED, "x:stream": State.STOPPED}
        late = t0 + STALE_SECONDS + 1
        assert states(late) == {"bluesky:jetstream": State.STALE, "x:stream": State.STOPPED}
        # A heartbeat (nothing changed, the runtime is alive) makes it fresh again.
        touch_health(store, "default", ["bluesky:jetstream"], late - 1)
        assert states(late)["bluesky:jetstream"] is State.CONNECTED
        stale = read_health(store, "default", now=late + STALE_SECONDS)[0]
        assert stale.line().startswith("stale: worker not running (last seen ")
        # The room header (anonymous readers): network, state and time only.
        from hubbub.web.routes_status import network_states

        (x, bluesky) = network_states(read_health(store, "default", now=late + STALE_SECONDS))
        assert bluesky["state"] == "stale" and x["state"] == "stopped"
        assert bluesky["line"].startswith("stale: worker not running (last seen ")
        # Another workspace's heartbeat does not touch these rows.
        touch_health(store, "other", ["bluesky:jetstream"], late + 100)
        assert states(late + STALE_SECONDS)["bluesky:jetstream"] is State.STALE


async def _worker(db: str, spec: str, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as err:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hubbub.cli",
            "worker",
            "--db",
            db,
            "--source",
            spec,
            "--no-accounts",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=err,
        )


def _connected_at(db: str, expected: set[str]) -> float | None:
    """The row's time once it is connected and every ``expected`` post is stored."""
    with open_store(db) as store:
        if not expected <= set(stored_ids(store, "bluesky")):
            return None
        rows = read_health(store, "default")
    for snap in rows:
        if snap.state is State.CONNECTED:
            return snap.updated_at
    return None


async def test_sigkilled_worker_reads_as_stale(tmp_path: Path) -> None:
    base = load_recorded(require_shared_data() / "payloads" / "bluesky_jetstream")
    start = max(e["time_us"] for e in base) + 1_000_000
    posts = generated_posts(base, 20, tag="hubchat", start_us=start, step_us=100_000)
    db = str(tmp_path / "hubbub.db")
    log = tmp_path / "worker.log"
    async with JetstreamServer([]) as server:
        spec = f"bluesky:jetstream?url={server.url}&all=1"
        expected = {u for e in posts if (u := post_uri(e))}
        worker = await _worker(db, spec, log)
        try:
            async with asyncio.timeout(DEADLINE):
                while await asyncio.to_thread(_connected_at, db, set()) is None:
                    await asyncio.sleep(0.2)
                server.publish(posts)  # live: a first start reads the tail
                first = None
                while first is None:
                    await asyncio.sleep(0.2)
                    first = await asyncio.to_thread(_connected_at, db, expected)
                # The posts are all in: no event changes the row from now on,
                # only the heartbeat moves it.
                beat = first
                while beat <= first:
                    await asyncio.sleep(0.2)
                    beat = await asyncio.to_thread(_connected_at, db, expected) or first
        finally:
            worker.send_signal(signal.SIGKILL)
            await asyncio.wait_for(worker.wait(), 20)
    assert worker.returncode == -signal.SIGKILL
    with open_store(db) as store:
        (row,) = read_health(store, "default", now=beat + 1)
        assert row.state is State.CONNECTED  # as the dead worker left it
        (row,) = read_health(store, "default", now=beat + STALE_SECONDS + 1)
        assert row.state is State.STALE
        assert row.posts >= 1  # its counters are kept
    # The command a person runs, on the real clock.
    async with asyncio.timeout(DEADLINE + STALE_SECONDS):
        while True:
            out = CliRunner().invoke(main, ["sources", "status", "--db", db]).output
            if "stale: worker not running (last seen " in out:
                break
            assert "connected" in out, out
            await asyncio.sleep(1.0)
    assert out.startswith(f"{spec}: stale: worker not running"), out

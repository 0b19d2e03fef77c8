"""The shared network core: schedules, reconnect rules, stall detection,
health trackers and their rows in the store."""

from __future__ import annotations

import asyncio

import pytest

from hubbub.networks.backoff import X_POLICY, Exponential, Failure, Linear, Reconnect
from hubbub.networks.clock import FakeClock
from hubbub.networks.health import HealthBoard, State
from hubbub.networks.stall import Stalled, next_within
from hubbub.store.source_health import forget_health, read_health, write_health


def test_x_network_schedule_is_250ms_steps_to_16s() -> None:
    r = Reconnect(X_POLICY)
    assert r.dropped() == 0.0  # an established stream that drops: at once
    delays = [r.failed(Failure.NETWORK) for _ in range(70)]
    assert delays[:4] == [0.25, 0.5, 0.75, 1.0]
    assert delays[63] == 16.0 and max(delays) == 16.0


def test_x_http_and_429_schedules_double() -> None:
    r = Reconnect(X_POLICY)
    assert [r.failed(Failure.HTTP) for _ in range(8)] == [5, 10, 20, 40, 80, 160, 320, 320]
    r = Reconnect(X_POLICY)
    assert [r.failed(Failure.RATE_LIMIT) for _ in range(3)] == [60, 120, 240]
    # The server's reset time wins for a 429.
    assert r.failed(Failure.RATE_LIMIT, reset_in=42.0) == 42.0


def test_connected_resets_counts() -> None:
    r = Reconnect(X_POLICY)
    r.failed(Failure.HTTP)
    r.failed(Failure.HTTP)
    r.connected()
    assert r.failed(Failure.HTTP) == 5.0
    assert r.failures == 1


def test_generic_schedules() -> None:
    assert [Linear(1, 3).delay(n) for n in range(5)] == [0, 0, 1, 2, 3]
    assert [Exponential(1, cap=5).delay(n) for n in range(1, 6)] == [1, 2, 4, 5, 5]
    assert Exponential(1).delay(10_000) > 0  # no overflow for a source failing for days


async def test_stall_is_detected_on_fake_time() -> None:
    clock = FakeClock(scale=0.001)

    async def silent():
        yield b"first"
        await asyncio.sleep(3600)
        yield b"never"

    it = silent()
    assert await next_within(it, 20, clock) == b"first"
    with pytest.raises(Stalled):
        await next_within(it, 20, clock)
    assert clock.timeouts == [20]
    assert clock.monotonic() >= 20.0
    await it.aclose()


def test_health_tracker_states_and_rate() -> None:
    clock = FakeClock(scale=1e6)  # time stands (nearly) still unless advanced
    board = HealthBoard(clock)
    t = board.tracker("x:stream", "x")
    t.connected()
    t.events(30)
    clock.advance(30)
    t.events(30)
    snap = board.take_dirty()[0]
    assert snap.state is State.CONNECTED and snap.posts == 60
    assert snap.posts_per_minute == pytest.approx(60.0)
    t.reconnecting(2, 5.0, "ConnectError: token=abc123 refused")
    snap = board.take_dirty()[0]
    assert "abc123" not in (snap.reason or "")
    assert snap.line().startswith("reconnecting (try 3, next at ")
    clock.advance(120)  # a quiet minute: the rate decays to 0
    assert board.take_dirty()[0].posts_per_minute == 0.0
    assert board.take_dirty() == []


def test_health_rows_roundtrip_other_reader(db_url: str) -> None:
    from hubbub.store import open_store

    clock = FakeClock()
    board = HealthBoard(clock)
    board.tracker("x:stream", "x").rate_limited(60.0)
    board.tracker("mastodon:tag:a@b", "mastodon").stopped("no account")
    with open_store(db_url) as writer:
        write_health(writer, "default", board.take_dirty())
        board.tracker("x:stream", "x").connected()
        write_health(writer, "default", board.take_dirty())
    with open_store(db_url) as reader:  # another process would open its own
        rows = {s.source: s for s in read_health(reader, "default")}
        assert rows["x:stream"].state is State.CONNECTED
        assert rows["mastodon:tag:a@b"].state is State.STOPPED
        assert read_health(reader, "other") == []
        forget_health(reader, "default", ["x:stream"])
        assert [s.source for s in read_health(reader, "default")] == ["mastodon:tag:a@b"]


def test_sources_status_reads_what_another_process_wrote(tmp_path) -> None:
    import orjson
    from click.testing import CliRunner

    from hubbub.cli import main
    from hubbub.store import open_store

    db = str(tmp_path / "h.db")
    clock = FakeClock(scale=1e6)
    board = HealthBoard(clock)
    board.tracker("x:stream", "x").reconnecting(2, 10.0, "stream: HTTP 503")
    board.tracker("x:search:acme", "x").rate_limited(120.0, "recent search: HTTP 429")
    quiet = board.tracker("mastodon:tag:chat@m.example", "mastodon")
    quiet.connected()
    quiet.events(12)
    quiet.gap_found()
    quiet.gap_backfilled()
    with open_store(db) as writer:
        write_health(writer, "default", board.take_dirty())
    runner = CliRunner()
    text = runner.invoke(main, ["sources", "status", "--db", db]).output
    assert "x:stream: reconnecting (try 3, next at " in text
    assert "x:search:acme: rate-limited until " in text
    assert "last error: stream: HTTP 503" in text
    assert "gaps 1 found, 1 backfilled; 0 known missed" in text
    rows = [
        orjson.loads(line)
        for line in runner.invoke(
            main, ["sources", "status", "--db", db, "--json"]
        ).output.splitlines()
    ]
    assert {r["source"]: r["state"] for r in rows} == {
        "x:stream": "reconnecting",
        "x:search:acme": "rate_limited",
        "mastodon:tag:chat@m.example": "connected",
    }
    # A database that does not exist is refused, not created (a read-only command).
    other = tmp_path / "other.db"
    missing = runner.invoke(main, ["sources", "status", "--db", str(other)])
    assert missing.exit_code == 1 and "no database" in missing.output and not other.exists()
    open_store(str(other)).close()
    empty = runner.invoke(main, ["sources", "status", "--db", str(other)])
    assert empty.exit_code == 0 and "No network source" in empty.output

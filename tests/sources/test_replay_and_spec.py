"""replay:FILE keeps order and caps gaps; source specs parse or fail clearly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from hubbub.sources import source_from_spec
from hubbub.sources.replay import ReplaySource, item_time, replay_delays
from hubbub.sources.sim import SimSource

T0 = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_delays_are_time_differences_over_speed_capped_at_maxgap() -> None:
    times = [at(0), at(2), at(3), None, at(3.5), at(600), at(601), at(590), at(602)]
    assert list(replay_delays(times, speed=1.0, maxgap=5.0)) == [0, 2, 1, 0, 0.5, 5, 1, 0, 1]
    assert list(replay_delays(times, speed=4.0, maxgap=5.0)) == [
        0,
        0.5,
        0.25,
        0,
        0.125,
        5,
        0.25,
        0,
        0.25,
    ]
    assert list(replay_delays([at(0), at(100)], speed=10.0, maxgap=0)) == [0, 0]
    with pytest.raises(ValueError):
        list(replay_delays([], speed=0))


def _capture(tmp_path: Path, n: int = 40) -> tuple[Path, list[bytes]]:
    src = SimSource("replayed", rate=0.2, speed=5.0, limit=n, start=T0)  # gaps of seconds
    lines = [orjson.dumps(item.value) for item in src.items()]
    path = tmp_path / "chat.jsonl"
    # a bad line and a value with no time in the middle: reported/passed, never fatal
    body = lines[:10] + [b"{not json", b'{"no": "time"}'] + lines[10:]
    path.write_bytes(b"\n".join(body) + b"\n")
    return path, lines


async def test_replay_keeps_file_order_and_paces_by_the_payload_times(tmp_path: Path) -> None:
    path, lines = _capture(tmp_path)
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    source = ReplaySource(path, speed=2.0, maxgap=3.0, sleep=fake_sleep)
    items = [item async for item in source]
    assert [orjson.dumps(i.value) for i in items if i.value != {"no": "time"}] == lines
    assert source.bad_records == 1
    assert items[0].cursor == "1" and items[-1].cursor == str(len(lines) + 2)
    times = [item_time(orjson.loads(line)) for line in lines]
    assert all(times)
    expected = [d for d in replay_delays(times, 2.0, 3.0) if d > 0]
    assert slept == pytest.approx(expected)
    assert max(slept) <= 3.0 and any(d == 3.0 for d in slept)  # long silences capped


def test_item_time_uses_the_stream_time_then_created_at() -> None:
    items = list(SimSource("t", start=T0, limit=12).items())
    for item in items:
        when = item_time(item.value)
        assert when is not None and abs((when - T0).total_seconds()) < 60
    assert item_time({"junk": 1}) is None


def test_specs(tmp_path: Path) -> None:
    sim = source_from_spec("sim:hubchat?rate=5&seed=3&speed=10&limit=7")
    assert isinstance(sim, SimSource) and sim.name == "sim:hubchat"
    assert (sim.rate, sim.seed, sim.speed, sim.limit) == (5.0, 3, 10.0, 7)
    default = source_from_spec("sim:#HubChat")
    assert (default.tag, default.rate, default.seed, default.speed, default.limit) == (
        "HubChat",
        2.0,
        1,
        1.0,
        None,
    )
    capture = tmp_path / "we?ird.jsonl"
    capture.write_text("{}\n")
    replay = source_from_spec(f"replay:{capture}?speed=4&maxgap=0.5")
    assert isinstance(replay, ReplaySource)
    assert (replay.path, replay.speed, replay.maxgap) == (capture, 4.0, 0.5)
    assert source_from_spec(f"replay:{capture}").name == f"replay:{capture}"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("twitter:foo", "unknown source"),
        ("hubchat", "unknown source"),
        ("sim:", "needs a hashtag"),
        ("sim:two words", "needs a hashtag"),
        ("sim:x?rate=0", "greater than 0"),
        ("sim:x?rate=fast", "not a number"),
        ("sim:x?speed=-1", "greater than 0"),
        ("sim:x?seed=1.5", "whole number"),
        ("sim:x?colour=red", "unknown option 'colour'"),
        ("sim:x?rate=1&rate=2", "given twice"),
        ("sim:x?limit=-3", "0 or more"),
        ("sim:x?start=yesterday", "RFC 3339"),
        ("replay:", "needs a file"),
        ("replay:/nonexistent/file.jsonl", "no such file"),
        ("replay:/nonexistent/f.jsonl?maxgap=-1", "0 or more"),
        ("sim:x?rate=nan", "greater than 0"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        source_from_spec(spec)

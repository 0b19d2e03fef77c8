"""Live ingest throughput (posts/s): a loopback Jetstream at full speed into
the store through the runtime (``bluesky:jetstream?all=1`` → normalise →
store, on SQLite).

Baseline, in the same run and against the same server: a ``websockets``
client receiving the same events and decoding each with ``orjson``, nothing
stored — the least any consumer of the stream does. The ratio says how much of
that speed Hubbub keeps while parsing, deduplicating and committing every
post with its cursor.

The events are posts generated from ../shared/data/payloads/bluesky_jetstream
(by the loopback server of the tests), served from a cursor at the first one.

    .venv/bin/python bench/ingest.py [--posts 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
JETSTREAM = REPO.parent / "shared" / "data" / "payloads" / "bluesky_jetstream"


async def baseline(url: str, first_us: int, posts: int) -> float:
    from websockets.asyncio.client import connect

    began = time.perf_counter()
    async with connect(f"{url}/subscribe?cursor={first_us}", max_size=2**21) as ws:
        received = 0
        while received < posts:
            event = orjson.loads(await ws.recv())
            received += event.get("kind") == "commit"
    return posts / (time.perf_counter() - began)


async def hubbub(url: str, first_us: int, posts: int, folder: Path) -> float:
    import sqlalchemy as sa

    from hubbub.runtime import Runtime
    from hubbub.settings import Settings
    from hubbub.store import open_store
    from hubbub.store import schema as t

    db = folder / f"ingest-{time.monotonic_ns()}.db"
    spec = f"bluesky:jetstream?url={url}&all=1"
    store = open_store(str(db))
    store.set_cursor(spec, str(first_us + 5_000_000))  # resumes 5 s earlier: the first event
    count = sa.select(sa.func.count()).select_from(t.posts)
    runtime = Runtime(
        Settings(db=str(db), sources=(spec,)),
        store=store,
        follow_accounts=False,
        listen=False,
        send_outbox=False,
    )
    began = time.perf_counter()
    await runtime.start()
    try:
        while True:
            with store.engine.connect() as conn:
                if conn.execute(count).scalar_one() >= posts:
                    break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - began
    finally:
        await runtime.stop()
        store.close()
    return posts / elapsed


async def main(posts: int, runs: int) -> None:
    sys.path.insert(0, str(REPO))
    from tests.loopback.jetstream_server import JetstreamServer, generated_posts, load_recorded

    recorded = load_recorded(JETSTREAM)
    start = max(e["time_us"] for e in recorded) + 1_000_000
    events = generated_posts(recorded, posts, tag="bench", start_us=start, step_us=50)
    base_rates: list[float] = []
    hub_rates: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with JetstreamServer(events) as server:
            for _ in range(runs):
                base_rates.append(await baseline(server.url, start, posts))
                hub_rates.append(await hubbub(server.url, start, posts, Path(tmp)))
    base, hub = statistics.median(base_rates), statistics.median(hub_rates)
    print(f"posts per run:            {posts}")
    print(
        f"baseline (recv + decode): {base:,.0f} posts/s  (runs: {', '.join(f'{r:,.0f}' for r in base_rates)})"
    )
    print(
        f"hubbub (into SQLite):     {hub:,.0f} posts/s  (runs: {', '.join(f'{r:,.0f}' for r in hub_rates)})"
    )
    print(f"ratio hubbub/baseline:    {hub / base:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--quick", action="store_true", help="the short run `make bench` uses: 5,000 posts, 2 runs"
    )
    args = parser.parse_args()
    if args.quick:
        args.posts, args.runs = 5_000, 2
    if not JETSTREAM.is_dir():
        sys.exit(f"shared data not found at {JETSTREAM}")
    asyncio.run(main(args.posts, args.runs))

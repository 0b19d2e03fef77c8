"""``hubbub worker --source bluesky:jetstream?url=…&all=1`` in its own
process against the loopback Jetstream server: it stores exactly what was
served, and after SIGTERM a second worker resumes from the stored cursor
(minus the rewind) and stores what was published meanwhile, nothing twice."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from hubbub.store import open_store
from tests.conftest import require_shared_data
from tests.loopback.jetstream_server import (
    JetstreamServer,
    generated_posts,
    load_recorded,
    post_uri,
)
from tests.networks.connector_oracle import assert_exactly, stored_ids

DEADLINE = 60.0


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
            stdout=asyncio.subprocess.DEVNULL,
            stderr=err,
        )


async def _stored(db: str) -> set[str]:
    with open_store(db) as store:
        return set(stored_ids(store, "bluesky"))


async def test_worker_stores_served_posts_and_resumes(tmp_path: Path) -> None:
    base = load_recorded(require_shared_data() / "payloads" / "bluesky_jetstream")
    start = max(e["time_us"] for e in base) + 1_000_000
    posts = generated_posts(base, 400, tag="hubchat", start_us=start, step_us=100_000)
    first, later = posts[:250], posts[250:]
    db = str(tmp_path / "hubbub.db")
    log = tmp_path / "worker.log"
    async with JetstreamServer(first) as server:
        spec = f"bluesky:jetstream?url={server.url}&all=1"
        with open_store(db) as store:  # as after an earlier run: resume at the first event
            store.set_cursor(spec, str(start + 5_000_000))
        worker = await _worker(db, spec, log)
        try:
            expected = {u for e in first if (u := post_uri(e))}
            async with asyncio.timeout(DEADLINE):
                while not expected <= await _stored(db):
                    await asyncio.sleep(0.2)
        finally:
            worker.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(worker.wait(), 20)
        assert code == 0, log.read_text()
        with open_store(db) as store:
            assert_exactly(stored_ids(store, "bluesky"), expected)
            cursor = int(store.get_cursor(spec) or 0)
        assert cursor == max(e["time_us"] for e in first)
        server.publish(later)  # posted while no worker runs
        worker = await _worker(db, spec, log)
        try:
            expected |= {u for e in later if (u := post_uri(e))}
            async with asyncio.timeout(DEADLINE):
                while not expected <= await _stored(db):
                    await asyncio.sleep(0.2)
        finally:
            worker.send_signal(signal.SIGTERM)
            await asyncio.wait_for(worker.wait(), 20)
        with open_store(db) as store:
            assert_exactly(stored_ids(store, "bluesky"), expected)
        assert server.connections[-1].cursor == cursor - 5_000_000
        assert "Traceback" not in log.read_text()

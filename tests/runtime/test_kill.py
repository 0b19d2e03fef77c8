"""The kill test: 100,000 posts flow from the loopback X server (filtered
stream, recent search for the gaps) while ``hubbub worker`` on SQLite is
SIGKILLed at random at least 20 times. Afterwards the stored ids equal the
served ids and nothing is stored twice: each kill loses only what was not yet
committed, and the cursor committed with the posts makes the next worker
backfill exactly the gap."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from hubbub.store import open_store
from hubbub.store import schema as t
from tests.conftest import require_shared_data
from tests.loopback.x_server import XServer, call_in_loop, load_recorded_tweets, serve_in_thread

# The numbers; HUBBUB_KILL_TEST_POSTS lowers the posts for a quick
# local run (the kills stay at 20: the test fails if fewer fired).
TOTAL = int(os.environ.get("HUBBUB_KILL_TEST_POSTS", "100000"))
MIN_KILLS = 20
RATE = 1000  # posts published per second (1 ms apart in their ids, as in real time)


def _ids(db: str) -> tuple[int, int]:
    """(rows, distinct post ids) of X posts stored."""
    with open_store(db, migrate_schema=False) as store:
        p = t.posts
        with store.engine.connect() as conn:
            rows = conn.execute(
                sa.select(sa.func.count(), sa.func.count(sa.distinct(p.c.post_id))).where(
                    p.c.network == "x"
                )
            ).one()
    return int(rows[0]), int(rows[1])


def _stored_set(db: str) -> set[str]:
    with open_store(db, migrate_schema=False) as store:
        p = t.posts
        with store.engine.connect() as conn:
            return set(conn.execute(sa.select(p.c.post_id).where(p.c.network == "x")).scalars())


@pytest.mark.slow
@pytest.mark.timeout(700)
@pytest.mark.serial
def test_sigkill_loses_nothing(tmp_path: Path) -> None:
    recorded = load_recorded_tweets(require_shared_data() / "payloads")
    server = XServer(recorded, keepalive=5.0, burst=200)
    db = str(tmp_path / "kill.db")
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        # The test's budget, not X's: 100,000 posts through gaps need many pages.
        "HUBBUB_LIMIT_X_SEARCH_PER_WINDOW": "1000000",
        "HUBBUB_LIMIT_X_CONNECTS_PER_WINDOW": "100000",
        "HUBBUB_LIMIT_X_RULES_CHECK_SECONDS": "2",
    }
    env.pop("HUBBUB_DB", None)
    cli = [sys.executable, "-m", "hubbub.cli"]
    with serve_in_thread(server) as url:
        added = subprocess.run(
            [*cli, "account", "add", "x", "--name", "main", "--db", db],
            input=server.token + "\n",
            text=True,
            capture_output=True,
            env=env,
            timeout=60,
        )
        assert added.returncode == 0, added.stderr
        spec = f"x:stream?url={url}"
        with open_store(db) as store:
            from hubbub.web.rooms import RoomRepo

            RoomRepo(store, "default").ensure("hubchat")  # a public room: followed on X

        def start() -> subprocess.Popen[bytes]:
            with open(log_path, "ab") as log:
                return subprocess.Popen(
                    [*cli, "worker", "--db", db, "--source", spec, "--no-accounts"],
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    env=env,
                )

        published = 0
        stop_publishing = threading.Event()

        def publish() -> None:
            nonlocal published
            while published < TOTAL and not stop_publishing.is_set():
                n = min(RATE // 10, TOTAL - published)
                call_in_loop(server, lambda k=n: server.publish_generated(k, step_ms=1, lean=True))
                published += n
                time.sleep(0.1)

        rng = random.Random(1234)
        kills = 0
        worker = start()
        publisher = threading.Thread(target=publish, daemon=True)
        try:
            # Wait for the rule, then let posts flow while killing at random.
            deadline = time.monotonic() + 60
            while not server.rules and time.monotonic() < deadline:
                time.sleep(0.1)
            assert server.rules, log_path.read_text(errors="replace")[-3000:]
            publisher.start()
            while published < TOTAL or kills < MIN_KILLS:
                time.sleep(rng.uniform(4.0, 8.0))  # a worker needs 2-5 s to start here
                worker.send_signal(signal.SIGKILL)
                worker.wait(10)
                kills += 1
                worker = start()
                assert kills < 200, "the publisher never finished"
            # The last worker runs undisturbed until it has everything.
            served = call_in_loop(server, server.served_ids)
            assert len(served) == TOTAL
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                rows, distinct = _ids(db)
                if distinct >= TOTAL:
                    break
                time.sleep(1.0)
            worker.send_signal(signal.SIGTERM)
            worker.wait(20)
        finally:
            stop_publishing.set()
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        assert kills >= MIN_KILLS, f"only {kills} kills fired"
        rows, distinct = _ids(db)
        assert rows == distinct, "a post is stored twice"
        stored = _stored_set(db)
        missing = served - stored
        assert not missing, (
            f"{len(missing)} served posts never stored; log tail:\n"
            + log_path.read_text(errors="replace")[-3000:]
        )
        assert stored == served
        assert server.max_open_streams == 1

"""A fetch killed in the middle (SIGKILL of the ``hubbub audience fetch``
process) resumes when run again: the stored followers equal the served
ones, nothing lost, nothing twice, through a 429 on the way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hubbub.store import open_store
from hubbub.store.audience_repo import AudienceRepo
from hubbub.store.scope import scope
from tests.audience.followers_setup import add_accounts
from tests.loopback.followers_server import FollowersServer, make_followers

REPO = Path(__file__).resolve().parents[2]


def _cli(db: str, account: str, url: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "hubbub.cli",
        "audience",
        "fetch",
        account,
        "--url",
        url,
        "--db",
        db,
    ]


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
@pytest.mark.serial
def test_killed_fetch_resumes(tmp_path: Path, shared_data: Path, network: str) -> None:
    db = str(tmp_path / "h.db")
    count = {"x": 5000, "bluesky": 1500, "mastodon": 2000}[network]
    kill_after = {"x": 2, "bluesky": 5, "mastodon": 8}[network]
    followers = make_followers(network, count, shared_data / "payloads")
    with FollowersServer(
        network, followers, rate_limit_at=(kill_after + 3,), reset_seconds=1.0, page_delay=0.15
    ) as server:
        store = open_store(db)
        try:
            add_accounts(store, {network: server.url})
        finally:
            store.close()
        account = f"brand-{network}"
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        proc = subprocess.Popen(
            _cli(db, account, server.url),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while server.pages < kill_after:
                assert proc.poll() is None, "the fetch ended before it was killed"
                assert time.monotonic() < deadline, "the fetch never got going"
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        store = open_store(db)
        try:
            repo = AudienceRepo(scope(store, "default"))
            (snap,) = repo.snapshots(account)
            assert snap.state == "running"  # killed mid-fetch, not finished
            assert snap.members < count
        finally:
            store.close()
        pages_before = server.pages
        done = subprocess.run(
            _cli(db, account, server.url), env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        assert server.rate_limited == 1
        # Resumed from the stored cursor, not from the start.
        assert server.pages - pages_before < -(
            -count // {"x": 1000, "bluesky": 100, "mastodon": 80}[network]
        )
        store = open_store(db)
        try:
            repo = AudienceRepo(scope(store, "default"))
            (snap,) = repo.snapshots(account)
            assert snap.state == "done"
            stored = [m.member_id for m in repo.iter_members(snap.id)]
        finally:
            store.close()
    assert len(stored) == len(set(stored)) == count
    assert set(stored) == server.served_ids()
    key = "did" if network == "bluesky" else "id"
    assert stored == [str(o[key]) for o in followers]  # in served order, too

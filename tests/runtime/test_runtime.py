"""The runtime without a web server: in process, and as ``hubbub worker``."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hubbub.listen.saved import add_query
from hubbub.runtime import Runtime
from hubbub.settings import Settings
from hubbub.store import open_store

SIM = "sim:hubchat?rate=200&seed=3&speed=50&limit=120"


async def test_runtime_stores_and_matches_without_web(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    with open_store(db) as store:
        add_query(store, "everything", "#hubchat")
    rt = Runtime(Settings(db=db, sources=(SIM,)))
    await rt.start()
    try:
        assert rt.listener is not None and rt.pipeline is not None
        for _ in range(400):
            if rt.pipeline.stats()["store"]["new"] >= 120 and rt.listener.stage.stats.matches:
                break
            await asyncio.sleep(0.05)
    finally:
        await rt.stop()
    with open_store(db) as store:
        stored = store.count()
        import sqlalchemy as sa

        from hubbub.store.listen_schema import post_classes, query_matches

        with store.engine.connect() as conn:
            matched = conn.execute(sa.select(sa.func.count()).select_from(query_matches)).scalar()
            classified = conn.execute(sa.select(sa.func.count()).select_from(post_classes)).scalar()
    assert stored > 0
    assert matched > 0 and classified > 0


def _worker(db: str, *args: str) -> subprocess.Popen[bytes]:
    """``hubbub worker`` in its own process; its stderr goes to ``DB.log``."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("HUBBUB_DB", None)
    with open(db + ".log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "hubbub.cli", "worker", "--db", db, *args],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )


def _log(db: str) -> str:
    path = Path(db + ".log")
    return path.read_text(errors="replace") if path.exists() else ""


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_worker_stops_cleanly_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    db = str(tmp_path / "h.db")
    open_store(db).close()  # migrated before the worker starts, so counting can begin at once
    proc = _worker(db, "--source", "sim:hubchat?rate=20&seed=2&speed=5")

    def stored() -> int:
        with open_store(db) as store:
            return store.count()

    try:
        assert _wait_for(lambda: stored() >= 10, 60), _log(db)
        began = time.monotonic()
        proc.send_signal(sig)
        proc.wait(timeout=15)
        assert time.monotonic() - began < 15
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = _log(db)
    assert proc.returncode == 0, err
    assert "worker stopped" in err
    assert "Traceback" not in err


def test_worker_bad_source_is_a_clear_error(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    proc = _worker(db, "--source", "nosuch:thing")
    proc.wait(timeout=60)
    assert proc.returncode != 0
    assert "unknown source" in _log(db) and "Traceback" not in _log(db)

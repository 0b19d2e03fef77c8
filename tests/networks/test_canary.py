"""A canary secret (an X token) goes through ``account add``, a worker whose
token X refuses, ``serve``, exports and status. It never appears in the
database files, the logs, exports, ``/api/health``, status output or an
error page."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import require_shared_data
from tests.loopback.x_server import XServer, call_in_loop, load_recorded_tweets, serve_in_thread

CANARY = "AAAAcanaryZ9x7Q2hubbubSECRETtoken000111"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_canary_secret_never_leaks(tmp_path: Path) -> None:
    recorded = load_recorded_tweets(require_shared_data() / "payloads")
    server = XServer(recorded, keepalive=1.0)  # its own token: ours is refused (401)
    db = str(tmp_path / "canary.db")
    log = tmp_path / "all.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("HUBBUB_DB", None)
    cli = [sys.executable, "-m", "hubbub.cli"]
    outputs: list[str] = []

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*cli, *args], input=stdin, text=True, capture_output=True, env=env, timeout=120
        )
        outputs.append(done.stdout + done.stderr)
        return done

    with serve_in_thread(server) as url:
        assert (
            run(
                "account", "add", "x", "--name", "brand", "--db", db, stdin=CANARY + "\n"
            ).returncode
            == 0
        )
        call_in_loop(server, lambda: server.publish_generated(20))
        # The worker: X refuses the token; the reason is shown, the token is not.
        with open(log, "ab") as fh:
            worker = subprocess.Popen(
                [*cli, "worker", "--db", db, "--source", f"x:stream?url={url}"],
                stdout=fh,
                stderr=fh,
                env=env,
            )
        try:
            assert _wait(
                lambda: '"stopped"' in run("sources", "status", "--db", db, "--json").stdout, 60
            ), log.read_text()
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(20)
        assert "401" in run("sources", "status", "--db", db).stdout
        run("account", "list", "--db", db)
        run("account", "check", "brand", "--url", url, "--db", db)
        for fmt in ("jsonl", "csv"):
            run("export", "--db", db, "--format", fmt)
        run("export", "--db", db, "--raw")
        # serve, with the account's network implied: health and error pages.
        port = _free_port()
        with open(log, "ab") as fh:
            web = subprocess.Popen(
                [*cli, "serve", "--db", db, "--port", str(port), "--source", f"x:stream?url={url}"],
                stdout=fh,
                stderr=fh,
                env=env,
            )
        try:
            base = f"http://127.0.0.1:{port}"
            assert _wait(lambda: _up(base), 60), log.read_text()
            with httpx.Client(base_url=base, timeout=10) as client:
                health = client.get("/api/health")
                assert health.status_code == 200
                assert set(health.json()) == {"ok", "state"}  # anonymous: overall state only
                for path in (
                    "/api/health",
                    "/rooms/nosuchroom",
                    "/api/rooms/x/posts?limit=zz",
                    "/nope",
                ):
                    outputs.append(client.get(path).text)
                outputs.append(client.post("/api/listen/queries", json={"x": 1}).text)
        finally:
            web.send_signal(signal.SIGTERM)
            web.wait(20)
    outputs.append(log.read_text(errors="replace"))
    for text in outputs:
        assert CANARY not in text
    for path in tmp_path.iterdir():
        if path.name.startswith("canary.db") and not path.name.endswith("accounts-key"):
            assert CANARY.encode() not in path.read_bytes(), path.name


def _up(base: str) -> bool:
    try:
        return httpx.get(base + "/api/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False

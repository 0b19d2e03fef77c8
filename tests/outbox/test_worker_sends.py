"""`hubbub worker` sends what `hubbub post --no-wait` queued, and stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import orjson

from tests.loopback.write_servers import MastodonState, Running, mastodon_app


def _hubbub(*args: str, db: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "hubbub.cli", *args, "--db", db],
        input=stdin,
        capture_output=True,
        check=False,
        timeout=120,
    )


def test_worker_sends_queued_actions(sqlite_url: str, monkeypatch):
    from hubbub.networks.secrets import new_key_text

    monkeypatch.setenv("HUBBUB_ACCOUNTS_KEY", new_key_text())
    state = MastodonState()
    with Running(mastodon_app(state)) as server:
        state.base = server.url
        add = _hubbub(
            "account",
            "add",
            "mastodon",
            "--name",
            "m",
            "--server",
            server.url,
            db=sqlite_url,
            stdin=state.token.encode(),
        )
        assert add.returncode == 0, add.stderr
        queued = _hubbub("post", "queued for the worker", "--no-wait", "--json", db=sqlite_url)
        assert queued.returncode == 0, queued.stderr
        assert orjson.loads(queued.stdout.splitlines()[-1])["status"] == "queued"
        assert state.statuses == []
        worker = subprocess.Popen(
            [sys.executable, "-m", "hubbub.cli", "worker", "--no-accounts", "--db", sqlite_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ.copy(),
        )
        try:
            deadline = time.monotonic() + 90
            while not state.statuses and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            worker.send_signal(signal.SIGTERM)
            out, err = worker.communicate(timeout=60)
        assert [s["text"] for s in state.statuses] == ["queued for the worker"], err.decode()[
            -2000:
        ]
        assert worker.returncode == 0, err.decode()[-2000:]
        listing = _hubbub("outbox", "list", "--json", db=sqlite_url)
        rows = [orjson.loads(line) for line in listing.stdout.splitlines()]
        assert [r["status"] for r in rows] == ["sent"]
        assert rows[0]["remote_id"] == state.statuses[0]["id"]

"""A request that never left (the name does not resolve, the port is closed)
is "not sent", not "outcome unknown": the row is not marked as maybe on the
network, a waiting ``hubbub post`` fails at once with the cause, and a
worker tries again on its schedule (an injected clock, no waiting). A
failure after the request went out is still an unknown outcome."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from hubbub.networks.secrets import load_box, new_key_text
from hubbub.outbox.queue import Outbox
from hubbub.outbox.sender import Sender
from hubbub.outbox.service import queue_post, writer_factory
from hubbub.outbox.writers.http import new_client
from hubbub.store import Store, open_store
from hubbub.store.network_accounts import add_account
from tests.loopback.write_servers import Running, XState, x_app


@pytest.fixture
def closed_port() -> Iterator[str]:
    """A loopback address that refuses connections. The socket stays bound but
    never listens (Linux answers a connect with a reset): a port closed again
    could be taken by another test's server under pytest-xdist before we use it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def _one_post(store: Store, sqlite_url: str, server: str, token: str = "tok") -> int:  # noqa: S107
    add_account(store, load_box(sqlite_url), "default", "x", "xa", token, server=server)
    outbox = Outbox(store, "default")
    return outbox.list(batch=queue_post(outbox, "hello").batch)[0].id


def _send(store: Store, sqlite_url: str, outbox: Outbox, **sender: object) -> None:
    async def run() -> None:
        async with new_client(5.0) as client:
            box = load_box(sqlite_url)
            s = Sender(outbox, writer_factory(store, box, "default", client), **sender)  # type: ignore[arg-type]
            await s.send_one()

    asyncio.run(run())


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    text = new_key_text()
    monkeypatch.setenv("HUBBUB_ACCOUNTS_KEY", text)
    return text


# Named, not a port picked at import: pytest-xdist workers each collect the
# tests and must find the same ids.
@pytest.mark.parametrize("where", ["closed-port", "unknown-host"])
def test_a_waiting_sender_fails_at_once_with_the_cause(
    sqlite_url: str, key: str, where: str, request: pytest.FixtureRequest
) -> None:
    server = (
        request.getfixturevalue("closed_port")
        if where == "closed-port"
        else "http://nohost.invalid"
    )
    with open_store(sqlite_url) as store:
        action_id = _one_post(store, sqlite_url, server)
        outbox = Outbox(store, "default")
        _send(store, sqlite_url, outbox, retry_not_sent=False)
        row = outbox.get(action_id)
    assert row is not None and row.status == "failed"
    assert row.attempts == 1 and not row.maybe_sent  # nothing can be on the network
    assert row.error is not None and row.error.startswith("not sent, safe to retry: ")
    host = server.split("//", 1)[1].split(":", 1)[0]
    assert f"could not connect to {host}" in row.error
    assert "outcome unknown" not in row.error


def test_a_worker_tries_a_request_that_never_left_again_on_its_schedule(
    sqlite_url: str, key: str, closed_port: str
) -> None:
    clock = [datetime.now(UTC) + timedelta(days=1)]  # the row is due on this clock
    with open_store(sqlite_url) as store:
        action_id = _one_post(store, sqlite_url, closed_port)
        outbox = Outbox(store, "default")
        outbox.now = lambda: clock[0]  # type: ignore[method-assign]
        waits = []
        for _ in range(3):
            _send(store, sqlite_url, outbox, retry_delays=(2.0, 6.0, 18.0))
            row = outbox.get(action_id)
            assert row is not None and row.status == "queued" and not row.maybe_sent
            assert row.error is not None and row.error.startswith("not sent: could not connect")
            waits.append((row.next_try_at - clock[0]).total_seconds())
            clock[0] = row.next_try_at + timedelta(seconds=1)
        _send(store, sqlite_url, outbox, retry_delays=(2.0, 6.0, 18.0))
        row = outbox.get(action_id)
    assert waits == [2.0, 6.0, 18.0]
    assert row is not None and row.status == "failed" and row.attempts == 4
    assert row.error is not None and row.error.startswith("not sent, safe to retry: ")


def test_a_failure_after_the_request_left_is_still_an_unknown_outcome(
    sqlite_url: str, key: str
) -> None:
    state = XState()
    with Running(x_app(state)) as server, open_store(sqlite_url) as store:
        action_id = _one_post(store, sqlite_url, server.url, state.token)
        state.faults.next.append("store_then_drop")  # stored, then the answer is cut
        outbox = Outbox(store, "default")
        _send(store, sqlite_url, outbox, retry_not_sent=False, retry_delays=())
        row = outbox.get(action_id)
    assert len(state.tweets) == 1
    assert row is not None and row.status == "failed" and row.maybe_sent
    assert row.error is not None and row.error.startswith("outcome unknown")


def test_hubbub_post_to_an_unresolvable_host_says_nothing_was_sent(
    sqlite_url: str, key: str
) -> None:
    with open_store(sqlite_url) as store:
        add_account(
            store, load_box(sqlite_url), "default", "x", "xa", "tok", server="http://nohost.invalid"
        )
    env = {**os.environ, "HUBBUB_ACCOUNTS_KEY": key}
    done = subprocess.run(
        [sys.executable, "-m", "hubbub.cli", "post", "hi", "--json", "--db", sqlite_url],
        capture_output=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 1 and b"Traceback" not in done.stderr
    result = orjson.loads(done.stdout.splitlines()[-1])
    assert result["status"] == "failed"
    (one,) = result["results"]
    assert one["status"] == "failed" and "nohost.invalid" in one["error"]
    assert one["error"].startswith("not sent, safe to retry") and "unknown" not in one["error"]


def test_a_read_that_fails_after_a_try_that_may_have_landed_is_not_called_safe(
    sqlite_url: str, key: str
) -> None:
    """The lookup of an earlier try (which may have posted) failing before any
    posting request is "not sent" for this try, but the row must not say "safe
    to retry": the earlier try may be on the network."""
    state = XState()
    with Running(x_app(state)) as server, open_store(sqlite_url) as store:
        action_id = _one_post(store, sqlite_url, server.url, state.token)
        state.faults.next.append("store_then_drop")  # posted, then the answer is lost
        outbox = Outbox(store, "default")
        _send(store, sqlite_url, outbox, retry_not_sent=False, retry_delays=())
        first = outbox.get(action_id)
        assert first is not None and first.maybe_sent and first.status == "failed"
        assert outbox.retry(action_id)
        state.faults.reads.append("drop")  # the lookup's first read is dropped
        _send(store, sqlite_url, outbox, retry_not_sent=False, retry_delays=())
        row = outbox.get(action_id)
    assert len(state.tweets) == 1
    assert row is not None and row.status == "failed" and row.maybe_sent and row.error
    assert "safe to retry" not in row.error and row.error.startswith("outcome unknown")

"""x:stream's health when rule syncs fail after the stream is connected, and
what X failure reasons say.

Once connected, a rule sync (``POST /2/tweets/search/stream/rules``) that
keeps failing was only logged: the source read "connected" while a new room
or saved query was not followed. Now the stream's state stays connected and
the health entry says the rules are out of sync, why (X's own words: the
status and its problem ``title``/``detail``, cleaned and cut, never the
token), when they were last in step and when the next try is, retried with
X's backoff on the injected clock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from hubbub.networks.env import Credentials, Follows, SourceEnv
from hubbub.networks.health import HealthBoard, HealthSnapshot, State
from hubbub.networks.x import XClient, XError
from hubbub.pipeline import Pipeline
from hubbub.sources.network_specs import network_source_from_spec
from hubbub.store import open_store
from hubbub.store.leases import try_lease
from hubbub.store.source_health import read_health, write_health
from tests.conftest import require_shared_data
from tests.loopback.x_server import Fault, XServer, load_recorded_tweets
from tests.networks.test_x_stream_health import PATIENT, HealthAtEachWait, _until
from tests.networks.x_harness import Run

CHECK = 30.0  # XLimits.rules_check_seconds: a sync that changes nothing waits this long


@pytest.fixture(scope="module")
def recorded():
    return load_recorded_tweets(require_shared_data() / "payloads")


def _hostile_problem(token: str) -> dict[str, Any]:
    """An X problem body as a hostile server (or a proxy) could word it:
    escape codes, our own token echoed, far too long."""
    return {
        "title": "Service Unavailable",
        "detail": (
            "Rule changes are paused\x1b]0;PWN\x07 for maintenance; you sent "
            f"token={token} and {token} " + "please wait " * 60
        ),
        "type": "https://api.twitter.com/2/problems/service-unavailable",
        "status": 503,
    }


async def test_failing_rule_sync_after_connect_shows_beside_connected(
    tmp_path: Path, recorded
) -> None:
    scale = 0.01
    server = XServer(recorded, keepalive=20 * scale / 5, token="secret-x-token-0123456789")  # noqa: S106
    url = await server.start()
    board = HealthBoard()
    clock = HealthAtEachWait(board, scale=scale)
    board.clock = clock
    server.now = clock.time
    store = open_store(str(tmp_path / "x.db"))
    followed = {"hashtags": ("hubchat",)}
    env = SourceEnv(
        clock=clock,
        health=board,
        account=lambda network, name: Credentials("main", "x", server.token),
        follows=lambda: Follows(hashtags=followed["hashtags"]),
        limits=PATIENT,
        lease=lambda name: try_lease(store, name),
    )
    source = network_source_from_spec(f"x:stream?url={url}", env)
    pipeline = Pipeline(store, restart_delay=0.05)
    await pipeline.start([source])
    run = Run(server, url, store, env, clock, pipeline, source.name)
    tracker = board.tracker(source.name, "x")
    try:
        assert await _until(
            lambda: server.open_streams == 1 and tracker.snapshot.state is State.CONNECTED
        )
        first_sync = tracker.snapshot.rules_synced_at
        assert first_sync is not None and tracker.snapshot.rules_error is None
        # A room opens on #newtag while X refuses rule changes three times.
        server.faults += [
            Fault("problem", on="rules", status=503, body=_hostile_problem(server.token))
        ] * 3
        waits_before = len(clock.waits)
        followed["hashtags"] = ("hubchat", "newtag")
        assert await _until(lambda: "#newtag" in {r.value for r in server.rules.values()})
        failed = [(d, s) for d, s in clock.waits[waits_before:] if d != pytest.approx(CHECK)]
        # X's backoff for HTTP errors: 5 s doubling.
        assert [d for d, _ in failed] == pytest.approx([5.0, 10.0, 20.0], rel=0.01)
        for attempt, (delay, snap) in enumerate(failed, start=1):
            assert snap.state is State.CONNECTED, snap  # the stream still delivers
            assert snap.attempt == 0 and snap.reason is None
            assert snap.rules_attempt == attempt
            assert snap.rules_synced_at == first_sync
            assert snap.rules_next_at is not None
            assert snap.updated_at - 5.0 <= snap.rules_next_at - delay <= snap.updated_at
            reason = snap.rules_error or ""
            # What X said: status, title and detail ...
            assert reason.startswith(
                "rules: HTTP 503 (Service Unavailable: Rule changes are paused"
            ), reason
            # ... cleaned and cut, without the token or the header's value.
            assert server.token not in reason and "\x1b" not in reason and "\x07" not in reason
            assert "you sent token=*** and *** please wait" in reason
            assert len(reason) <= 220 and reason.endswith("…)")
            line = snap.line()
            assert line.startswith("connected; rules out of sync (last synced ")
            assert f"try {attempt + 1} at " in line and reason in line
        # What `hubbub sources status` and /status read: the stored row.
        write_health(store, "default", [failed[-1][1]])
        (stored,) = read_health(store, "default", now=failed[-1][1].updated_at)
        assert stored.state is State.CONNECTED
        assert stored.rules_error == failed[-1][1].rules_error
        assert stored.rules_synced_at == first_sync and stored.rules_attempt == 3
        assert server.token not in str(stored.as_json())
        # In step again: the error goes, the last sync moves, #newtag is followed.
        assert await _until(lambda: tracker.snapshot.rules_error is None)
        snap = tracker.snapshot
        assert snap.state is State.CONNECTED and snap.line() == "connected"
        assert snap.rules_synced_at is not None and snap.rules_synced_at > first_sync
        assert snap.rules_attempt == 0 and snap.rules_next_at is None
        server.publish_generated(5, tag="newtag")
        assert await run.wait(run.all_stored)
        run.check()
    finally:
        await run.stop()


def test_an_old_snapshot_without_rules_fields_reads_as_before() -> None:
    """Rows written before these fields existed still load, and read in step."""
    old = {"source": "x:stream", "network": "x", "state": "connected", "updated_at": 1.0}
    snap = HealthSnapshot.from_json(old)
    assert snap.rules_error is None and snap.line() == "connected"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            403,
            {
                "title": "Client Forbidden",
                "detail": "This request must be made using an approved developer account.",
                "type": "https://api.twitter.com/2/problems/client-forbidden",
                "reason": "client-not-enrolled",
            },
            "rules: HTTP 403 (Client Forbidden: This request must be made using an approved "
            "developer account.)",
        ),
        (  # X API v1.1's shape
            400,
            {"errors": [{"code": 215, "message": "Bad Authentication data."}]},
            "rules: HTTP 400 (Bad Authentication data.)",
        ),
        (  # the title alone, when X sends no detail
            503,
            {"title": "Service Unavailable"},
            "rules: HTTP 503 (Service Unavailable)",
        ),
        (  # our Authorization header echoed back: masked to the end of its line
            400,
            {"title": "Bad Request", "detail": "Authorization: Bearer secret-x-token-0123456789"},
            "rules: HTTP 400 (Bad Request: Authorization: ***)",
        ),
        (  # nothing X-shaped: the status alone
            502,
            ["not", "a", "problem"],
            "rules: HTTP 502",
        ),
    ],
)
async def test_x_failure_reasons_say_what_x_said(
    recorded, status: int, body: Any, expected: str
) -> None:
    server = XServer(recorded)
    server.faults.append(Fault("problem", on="rules", status=status, body=body))
    url = await server.start()
    try:
        async with XClient(server.token, base_url=url) as client:
            with pytest.raises(XError) as caught:
                await client.get_rules()
        assert str(caught.value) == expected
        assert caught.value.status == status
    finally:
        await server.stop()


async def test_no_answer_reads_connection_failed_not_a_status(recorded) -> None:
    server = XServer(recorded)
    url = await server.start()
    await server.stop()  # nothing listens there any more
    async with XClient(server.token, base_url=url) as client:
        with pytest.raises(XError) as caught:
            await client.get_rules()
    assert str(caught.value) == "rules: connection failed: All connection attempts failed"
    assert caught.value.status is None


def test_stopped_drops_the_rules_fields_and_keeps_them_dropped() -> None:
    """A stopped source follows nothing: its last rule sync's error, times and
    attempts go with the stop, and a sync failing in the same moment (the
    rules task racing the stop) does not bring them back."""
    tracker = HealthBoard().tracker("x:stream", "x")
    tracker.connected()
    tracker.rules_synced()
    tracker.rules_failed(1, 5.0, "rules: HTTP 503")
    tracker.stopped("the runtime running it stopped")
    tracker.rules_failed(2, 10.0, "rules: HTTP 503")
    tracker.rules_synced()
    snap = tracker.snapshot
    assert snap.state is State.STOPPED
    assert snap.rules_error is None and snap.rules_synced_at is None
    assert snap.rules_attempt == 0 and snap.rules_next_at is None
    # A new run under the name syncs again as before.
    tracker.starting()
    tracker.rules_failed(1, 5.0, "rules: HTTP 503")
    assert tracker.snapshot.rules_error == "rules: HTTP 503"


# The shape of an X app bearer token: percent-encoded, with %2B and %3D.
ENCODED_TOKEN = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzM"  # noqa: S105
DECODED_TOKEN = unquote(ENCODED_TOKEN)  # ...0+uSeid+ULvsea4JtiGRiSDSJSI=EUif...


@pytest.mark.parametrize(
    ("configured", "echoed"),
    [
        (ENCODED_TOKEN, DECODED_TOKEN),  # X's own page gives the encoded form
        (DECODED_TOKEN, ENCODED_TOKEN),  # configured decoded, echoed encoded
        (ENCODED_TOKEN, ENCODED_TOKEN.replace("%2B", "%2b").replace("%3D", "%3d")),
    ],
)
async def test_an_echoed_token_is_masked_decoded_or_encoded(
    recorded, configured: str, echoed: str
) -> None:
    """A 403 whose problem detail echoes the bearer token in another
    percent-encoding than the one configured: the reason hides it all."""
    server = XServer(recorded, token=configured)
    body = {
        "title": "Forbidden",
        "detail": f"Token {echoed} is not allowed to use this endpoint",
        "type": "https://api.twitter.com/2/problems/client-forbidden",
    }
    server.faults.append(Fault("problem", on="rules", status=403, body=body))
    url = await server.start()
    try:
        async with XClient(configured, base_url=url) as client:
            with pytest.raises(XError) as caught:
                await client.get_rules()
    finally:
        await server.stop()
    reason = str(caught.value)
    assert reason == "rules: HTTP 403 (Forbidden: Token *** is not allowed to use this endpoint)"
    # No long piece of the token survives either.
    for token in (ENCODED_TOKEN, DECODED_TOKEN):
        assert not any(token[i : i + 12] in reason for i in range(len(token) - 11))

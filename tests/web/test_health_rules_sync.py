"""A connected X stream whose rule syncs fail, as the web app tells it.

The stream delivers, so its state stays "connected", but new queries and
rooms are not followed: ``/api/health`` says ``degraded`` (to anonymous
callers nothing more), the members' ``/status`` page says the rules are out
of sync with the reason and the last good sync, and the room header (read by
anyone) carries no reason. The row is written to the store as a ``hubbub
worker`` beside the web server would write it.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterator

import pytest

from hubbub.networks.health import HealthBoard, HealthSnapshot, State
from hubbub.store import open_store
from hubbub.store.source_health import write_health
from tests.web.conftest import Server, http_client, start_server, stop_server
from tests.web.test_listen_api import signed_in

REASON = "rules: HTTP 503 (Service Unavailable: rule changes paused <b>now</b>)"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("health_rules"))
    yield srv
    stop_server(srv)


def _write(server: Server, snap: HealthSnapshot) -> None:
    with open_store(str(server.db)) as store:
        write_health(store, "default", [snap])


def test_rules_out_of_sync_is_degraded_and_shown_to_members(server: Server) -> None:
    now = time.time()
    in_step = HealthSnapshot("x:stream", "x", State.CONNECTED, updated_at=now)
    in_step.rules_synced_at = now - 600
    _write(server, in_step)
    with http_client(server) as anonymous:
        assert anonymous.get("/api/health").json() == {"ok": True, "state": "ok"}

        out_of_sync = HealthSnapshot("x:stream", "x", State.CONNECTED, updated_at=now)
        out_of_sync.rules_synced_at = now - 600
        out_of_sync.rules_error, out_of_sync.rules_attempt = REASON, 2
        out_of_sync.rules_next_at = now + 20
        _write(server, out_of_sync)
        assert anonymous.get("/api/health").json() == {"ok": True, "state": "degraded"}
        # The room header: network and state only, never the server's words.
        header = anonymous.get("/api/networks").json()
        assert header["networks"][0]["state"] == "connected"
        assert "Service Unavailable" not in str(header)

    client, _csrf = signed_in(server)
    try:
        page = client.get("/status").text
    finally:
        client.close()
    assert "connected; rules out of sync (last synced " in page
    assert "try 3 at " in page
    assert html.escape(REASON, quote=False) in page  # text, not markup
    assert "<b>now</b>" not in page


def test_a_stopped_source_does_not_keep_health_degraded(server: Server) -> None:
    """The runtime stops every source at shutdown: after a restart without
    x:stream its stopped row stays, and its last rules error must not make
    /api/health "degraded" with nothing on any page to say why."""
    now = time.time()
    # As the tracker writes it now: stopped() drops the rules fields.
    tracker = HealthBoard().tracker("x:stream", "x")
    tracker.connected()
    tracker.rules_synced()
    tracker.rules_failed(1, 5.0, REASON)
    tracker.stopped("the runtime running it stopped")
    snap = tracker.take()
    assert snap is not None and snap.state is State.STOPPED
    assert (snap.rules_error, snap.rules_synced_at, snap.rules_attempt, snap.rules_next_at) == (
        None,
        None,
        0,
        None,
    )
    assert snap.line() == "stopped: the runtime running it stopped"
    _write(server, snap)
    with http_client(server) as anonymous:
        assert anonymous.get("/api/health").json() == {"ok": True, "state": "ok"}

        # As older code wrote it: stopped, the last sync's error kept.
        old = HealthSnapshot("x:stream", "x", State.STOPPED, updated_at=now - 3600)
        old.reason = "the runtime running it stopped"
        old.rules_error, old.rules_attempt, old.rules_synced_at = REASON, 3, now - 7200
        _write(server, old)
        assert anonymous.get("/api/health").json() == {"ok": True, "state": "ok"}

"""What ``/api/health`` says, and to whom.

Anonymous visitors (load balancers, uptime checks, anyone) get one overall
state: no source names (they hold query text, file paths, account names), no
errors, no workspace. Signed-in members get each source's state as the
runtime sees it (network sources' health trackers and the pipeline's
counters); even then reasons are the redacted ones the trackers keep.

A ``hubbub worker`` beside the web server runs sources this process has no
tracker for: their stored rows count too, and one whose worker stopped
writing (killed, crashed) is ``stale`` and makes the overall state degraded.
So does a running source whose followed rules are out of sync
(``rules_error``: an X stream that stays connected while its rule updates
fail); a stopped or stale source's rules_error is not counted (rows written
before ``stopped()`` cleared it keep one, and a source that is not running
follows nothing: its state says so).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from hubbub.networks.health import HealthSnapshot, State
from hubbub.web.deps import current_user

_BAD = {"failed", "backing_off"}
_NETWORK_BAD = {
    State.STOPPED,
    State.RECONNECTING,
    State.STALLED,
    State.RATE_LIMITED,
    State.STALE,
}
# States of a source that runs and so should follow its rules.
_RUNNING = {
    State.STARTING,
    State.CONNECTED,
    State.RECONNECTING,
    State.RATE_LIMITED,
    State.STALLED,
}


def _stored_rows(state: Any) -> list[HealthSnapshot]:
    """Stored rows of every source (a worker's too; see source_health)."""
    from hubbub.store.source_health import read_health

    store, settings = getattr(state, "store", None), getattr(state, "settings", None)
    if store is None or settings is None:
        return []
    try:
        return read_health(store, settings.workspace)
    except Exception:  # noqa: BLE001 - a health check answers even when the store does not
        return []


def health_view(request: Request) -> dict[str, Any]:
    state = request.app.state
    pipeline = getattr(state, "pipeline", None)
    sources: dict[str, dict[str, Any]] = (
        pipeline.health() if pipeline is not None and hasattr(pipeline, "health") else {}
    )
    runtime = getattr(state, "runtime", None)
    board = getattr(runtime, "health", None)
    networks = [t.snapshot for t in board.trackers()] if board is not None else []
    stored = _stored_rows(state)
    stale = [snap for snap in stored if snap.state is State.STALE]
    degraded = (
        any(s.get("state") in _BAD for s in sources.values())
        or any(snap.state in _NETWORK_BAD for snap in networks)
        or bool(stale)
        # Connected, but new queries and rooms are not followed (X rules).
        or any(
            snap.rules_error is not None and snap.state in _RUNNING for snap in (*networks, *stored)
        )
    )
    out: dict[str, Any] = {"ok": True, "state": "degraded" if degraded else "ok"}
    if current_user(request) is None:
        return out
    out["sources"] = sources
    out["networks"] = {snap.source: snap.as_json() for snap in networks}
    out["stale"] = {snap.source: snap.line() for snap in stale}
    return out

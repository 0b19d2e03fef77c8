"""What ``/api/health`` says, and to whom.

Anonymous visitors (load balancers, uptime checks, anyone) get one overall
state: no source names (they hold query text, file paths, account names), no
errors, no workspace. Signed-in members get each source's state as the
runtime sees it (network sources' health trackers and the pipeline's
counters); even then reasons are the redacted ones the trackers keep.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from hubbub.networks.health import State
from hubbub.web.deps import current_user

_BAD = {"failed", "backing_off"}
_NETWORK_BAD = {State.STOPPED, State.RECONNECTING, State.STALLED, State.RATE_LIMITED}


def health_view(request: Request) -> dict[str, Any]:
    state = request.app.state
    pipeline = getattr(state, "pipeline", None)
    sources: dict[str, dict[str, Any]] = (
        pipeline.health() if pipeline is not None and hasattr(pipeline, "health") else {}
    )
    runtime = getattr(state, "runtime", None)
    board = getattr(runtime, "health", None)
    networks = [t.snapshot for t in board.trackers()] if board is not None else []
    degraded = any(s.get("state") in _BAD for s in sources.values()) or any(
        snap.state in _NETWORK_BAD for snap in networks
    )
    out: dict[str, Any] = {"ok": True, "state": "degraded" if degraded else "ok"}
    if current_user(request) is None:
        return out
    out["sources"] = sources
    out["networks"] = {snap.source: snap.as_json() for snap in networks}
    return out

"""Network health a person can read: the room header's one line per network
and the members' status page.

Both read the store's ``source_health`` rows (``hubbub.store.source_health``),
not this process's trackers, so the sources of a ``hubbub worker`` running
beside the web server show too.

What anonymous readers see is deliberately thin: per network, its state and
the times in it (next try, rate limit end). Source names hold rule and query
text, file paths and account names; reasons hold server messages. Those are
for signed-in members, on ``/status``.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from hubbub.networks.health import HealthSnapshot, State
from hubbub.store.source_health import read_health
from hubbub.web.deps import current_user, tenant

router = APIRouter()

NETWORK_LABELS = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon"}

# When one network has several sources, the header shows the one most in
# need of attention: a room reader wants to know posts may be late, not
# that some other source of the same network is fine.
_SEVERITY = {
    State.CONNECTED: 0,
    State.STARTING: 1,
    State.RECONNECTING: 2,
    State.STALLED: 3,
    State.RATE_LIMITED: 4,
    State.STOPPED: 5,
    State.STALE: 6,  # the worker itself is gone: nothing reads that network
}


def _at(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S UTC")


def public_line(snap: HealthSnapshot) -> str:
    """``HealthSnapshot.line()`` without the reason (``stopped`` carries the
    server's or the operator's words, which may name accounts or queries)."""
    if snap.state is State.STOPPED:
        return "stopped"
    if snap.state is State.STALE:
        return f"stale: worker not running (last seen {_at(snap.updated_at) or '?'})"
    if snap.state is State.RATE_LIMITED:
        return f"rate-limited until {_at(snap.until) or '?'}"
    if snap.state is State.RECONNECTING:
        return f"reconnecting (try {snap.attempt + 1}, next at {_at(snap.next_at) or '?'})"
    return snap.state.value


def network_states(snapshots: list[HealthSnapshot]) -> list[dict[str, Any]]:
    """One entry per network: only network, state and times; nothing else
    leaves this function, so nothing else can reach an anonymous reader."""
    worst: dict[str, HealthSnapshot] = {}
    for snap in snapshots:
        seen = worst.get(snap.network)
        if seen is None or _SEVERITY[snap.state] > _SEVERITY[seen.state]:
            worst[snap.network] = snap
    order = list(NETWORK_LABELS)
    out = []
    for network in sorted(worst, key=lambda n: (order.index(n) if n in order else 99, n)):
        snap = worst[network]
        out.append(
            {
                "network": network,
                "label": NETWORK_LABELS.get(network, network),
                "state": snap.state.value,
                "until": snap.until if snap.state is State.RATE_LIMITED else None,
                "next_at": snap.next_at if snap.state is State.RECONNECTING else None,
                "line": public_line(snap),
            }
        )
    return out


def header_line(states: list[dict[str, Any]]) -> str:
    return " · ".join(f"{s['label']}: {s['line']}" for s in states)


async def _snapshots(request: Request) -> list[HealthSnapshot]:
    return await asyncio.to_thread(read_health, request.app.state.store, tenant(request).name)


@router.get("/api/networks")
async def networks_json(request: Request) -> JSONResponse:
    """The room header's data, polled by ``static/network_state.js``."""
    states = network_states(await _snapshots(request))
    return JSONResponse(
        {"networks": states, "line": header_line(states)},
        headers={"Cache-Control": "no-store"},
    )


def _row(snap: HealthSnapshot, now: float) -> dict[str, Any]:
    return {
        "source": snap.source,
        "network": NETWORK_LABELS.get(snap.network, snap.network),
        "line": snap.line(now),
        "reason": snap.reason if snap.state is not State.STOPPED else None,
        "last_event": _at(snap.last_event_at) or "never",
        "per_minute": f"{snap.posts_per_minute:.1f}",
        "posts": snap.posts,
        "gaps_found": snap.gaps_found,
        "gaps_backfilled": snap.gaps_backfilled,
        "posts_missed": snap.posts_missed,
        "updated": _at(snap.updated_at) or "?",
        "age": max(0, int(now - snap.updated_at)),
    }


@router.get("/status", response_class=HTMLResponse)
async def status_page(request: Request) -> Response:
    """Per-source detail for signed-in members."""
    user = current_user(request)
    if user is None:
        return RedirectResponse("/login?next=/status", status_code=303)
    now = time.time()
    rows = [_row(snap, now) for snap in await _snapshots(request)]
    context = {
        "request": request,
        "user": user,
        "csrf": request.state.session["csrf"],
        "rows": rows,
    }
    return request.app.state.templates.TemplateResponse(request, "status.html", context)

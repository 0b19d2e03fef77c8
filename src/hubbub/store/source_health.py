"""Source health in the store: the runtime writes, anyone reads.

Rows are whole snapshots (``HealthSnapshot.as_json()``), upserted on
(workspace, source), so a reader in another process sees what the runtime
last wrote and ``updated_at`` tells how fresh it is.

``updated_at`` is a heartbeat: the runtime's health writer touches the rows
of every source it runs once a second (``touch_health``), whether or not
anything changed. A runtime killed without a word (SIGKILL, a crash) stops
touching them, so a row older than ``STALE_SECONDS`` is shown as ``stale``
(worker not running, last seen T) instead of "connected" forever.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa

from hubbub.networks.health import HealthSnapshot
from hubbub.store import Store
from hubbub.store.connect_schema import source_health
from hubbub.store.sql import dialect_insert

# Many write intervals (one second each): a writer delayed by a busy SQLite
# (its one writer is shared with the pipeline) must not flicker to stale.
STALE_SECONDS = 15.0


def write_health(store: Store, workspace: str, snapshots: Iterable[HealthSnapshot]) -> None:
    ws = store.workspace_id(workspace)
    rows = [
        {
            "workspace_id": ws,
            "source": snap.source,
            "network": snap.network,
            "state": str(snap.state),
            "detail": snap.as_json(),
            "updated_at": datetime.fromtimestamp(snap.updated_at, UTC),
        }
        for snap in snapshots
    ]
    if not rows:
        return
    h = source_health
    with store.engine.begin() as conn:
        for row in rows:
            stmt = dialect_insert(conn, h).values(**row)
            stmt = stmt.on_conflict_do_update(
                index_elements=[h.c.workspace_id, h.c.source],
                set_={
                    "network": stmt.excluded.network,
                    "state": stmt.excluded.state,
                    "detail": stmt.excluded.detail,
                    "updated_at": stmt.excluded.updated_at,
                },
            )
            conn.execute(stmt)


def touch_health(store: Store, workspace: str, sources: Iterable[str], at: float) -> None:
    """The heartbeat: rows of ``sources`` (running in this runtime) are fresh as of ``at``."""
    ws = store.workspace_id(workspace)
    names = list(sources)
    if not names:
        return
    h = source_health
    with store.engine.begin() as conn:
        conn.execute(
            h.update()
            .where(h.c.workspace_id == ws, h.c.source.in_(names))
            .values(updated_at=datetime.fromtimestamp(at, UTC))
        )


def read_health(
    store: Store,
    workspace: str,
    *,
    now: float | None = None,
    stale_after: float = STALE_SECONDS,
) -> list[HealthSnapshot]:
    """Every source's last snapshot in ``workspace``, by network then name,
    as of ``now`` (default: the clock): a row its runtime stopped touching
    more than ``stale_after`` seconds ago reads as ``stale``."""
    ws = store.workspace_id(workspace)
    h = source_health
    stmt = (
        sa.select(h.c.detail, h.c.updated_at)
        .where(h.c.workspace_id == ws)
        .order_by(h.c.network, h.c.source)
    )
    at = time.time() if now is None else now
    out: list[HealthSnapshot] = []
    with store.engine.connect() as conn:
        for detail, updated_at in conn.execute(stmt):
            snap = HealthSnapshot.from_json(detail)
            # The heartbeat moves the column, not the stored snapshot.
            snap.updated_at = max(snap.updated_at, updated_at.timestamp())
            out.append(snap.seen_at(at, stale_after))
    return out


def forget_health(store: Store, workspace: str, sources: Iterable[str]) -> None:
    """Remove the rows of sources no longer run (so status does not show ghosts)."""
    ws = store.workspace_id(workspace)
    names = list(sources)
    if not names:
        return
    h = source_health
    with store.engine.begin() as conn:
        conn.execute(h.delete().where(h.c.workspace_id == ws, h.c.source.in_(names)))

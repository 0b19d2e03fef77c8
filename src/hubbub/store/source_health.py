"""Source health in the store: the runtime writes, anyone reads.

Rows are whole snapshots (``HealthSnapshot.as_json()``), upserted on
(workspace, source), so a reader in another process sees what the runtime
last wrote and ``updated_at`` tells how fresh it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa

from hubbub.networks.health import HealthSnapshot
from hubbub.store import Store
from hubbub.store.connect_schema import source_health
from hubbub.store.sql import dialect_insert


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


def read_health(store: Store, workspace: str) -> list[HealthSnapshot]:
    """Every source's last snapshot in ``workspace``, by network then name."""
    ws = store.workspace_id(workspace)
    h = source_health
    stmt = sa.select(h.c.detail).where(h.c.workspace_id == ws).order_by(h.c.network, h.c.source)
    with store.engine.connect() as conn:
        return [HealthSnapshot.from_json(detail) for detail in conn.execute(stmt).scalars()]


def forget_health(store: Store, workspace: str, sources: Iterable[str]) -> None:
    """Remove the rows of sources no longer run (so status does not show ghosts)."""
    ws = store.workspace_id(workspace)
    names = list(sources)
    if not names:
        return
    h = source_health
    with store.engine.begin() as conn:
        conn.execute(h.delete().where(h.c.workspace_id == ws, h.c.source.in_(names)))

"""Share of voice between the ``brand`` and ``competitors`` groups.

For the period, each active saved query in those groups counts the live posts
it matched; a group counts each post once even when several of its queries
matched it. A group's share is its count over the two groups' counts summed; a
query's share is its count over all those queries' counts summed. A post that
names the brand and a competitor counts for both groups (it is a voice in each
conversation).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from hubbub.listen.saved import list_queries
from hubbub.store import Store
from hubbub.store import schema as t
from hubbub.store.listen_schema import query_matches

GROUPS = ("brand", "competitors")


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def share_of_voice(
    store: Store, workspace: str, since: datetime, until: datetime
) -> dict[str, object]:
    ws = store.workspace_id(workspace)
    p, qm = t.posts, query_matches
    in_period = sa.and_(
        p.c.workspace_id == ws,
        p.c.deleted.is_(False),
        p.c.created_at >= since,
        p.c.created_at < until,
    )
    queries = [
        q for q in list_queries(store, workspace=workspace, active_only=True) if q.group in GROUPS
    ]
    per_query: dict[int, int] = {}
    per_group: dict[str, int] = dict.fromkeys(GROUPS, 0)
    with store.engine.connect() as conn:
        if queries:
            ids = [q.id for q in queries]
            rows = conn.execute(
                sa.select(qm.c.query_id, sa.func.count())
                .join(p, p.c.pk == qm.c.post_pk)
                .where(in_period, qm.c.query_id.in_(ids))
                .group_by(qm.c.query_id)
            )
            per_query = {query_id: n for query_id, n in rows}
        for group in GROUPS:
            ids = [q.id for q in queries if q.group == group]
            if not ids:
                continue
            per_group[group] = conn.execute(
                sa.select(sa.func.count(sa.distinct(qm.c.post_pk)))
                .join(p, p.c.pk == qm.c.post_pk)
                .where(in_period, qm.c.query_id.in_(ids))
            ).scalar_one()
    group_total = sum(per_group.values())
    query_total = sum(per_query.values())
    return {
        **{
            group: {"mentions": per_group[group], "share": _share(per_group[group], group_total)}
            for group in GROUPS
        },
        "queries": [
            {
                "name": q.name,
                "group": q.group,
                "mentions": per_query.get(q.id, 0),
                "share": _share(per_query.get(q.id, 0), query_total),
            }
            for q in queries
        ],
    }

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

from hubbub.analyze.selection import report_data
from hubbub.listen.saved import list_queries
from hubbub.store import Store

GROUPS = ("brand", "competitors")


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def share_of_voice(
    store: Store, workspace: str, since: datetime, until: datetime
) -> dict[str, object]:
    queries = [
        q for q in list_queries(store, workspace=workspace, active_only=True) if q.group in GROUPS
    ]
    data = report_data(store, workspace)
    per_query = data.matches_per_query([q.id for q in queries], since, until)
    per_group: dict[str, int] = {
        group: data.posts_matched_by_any([q.id for q in queries if q.group == group], since, until)
        for group in GROUPS
    }
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

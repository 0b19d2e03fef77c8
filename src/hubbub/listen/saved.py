"""Saved listening queries per workspace, and their stored matches.

A saved query has a name (unique in its workspace), query text in the search
language, a group (any string; the well-known ones are :data:`GROUPS`) and an
``active`` flag. Adding a query back-fills its matches over the posts already
stored, with the store's SQL search (which agrees with the in-memory matcher:
tests compare them on real data). Posts that reach the store later without
passing the pipeline's listening stage (``hubbub import``) are caught up by
:func:`catch_up`, which every reader of matches calls first: each query keeps
the highest post key it has been back-filled to in ``source_cursors``, so a
catch-up only searches newer posts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from hubbub.query import ast
from hubbub.query.parser import QuerySyntaxError, parse
from hubbub.store import Store
from hubbub.store import schema as t
from hubbub.store.listen_schema import query_matches
from hubbub.store.search import compile_query
from hubbub.store.sql import chunks, insert_ignore

#: The groups the dashboard and share of voice know by name; any other string works too.
GROUPS = ("brand", "competitors", "locale", "industry")
DEFAULT_GROUP = "brand"

_q = t.saved_queries
_p = t.posts


class SavedQueryError(ValueError):
    """A saved-query operation that cannot be done (duplicate or unknown name, bad group)."""


@dataclass(frozen=True, slots=True)
class SavedQuery:
    id: int
    name: str
    query: str
    group: str
    active: bool
    created_at: datetime
    matches: int | None = None  # stored matches, when asked for

    @property
    def node(self) -> ast.Node:
        return parse(self.query)

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "query": self.query,
            "group": self.group,
            "active": self.active,
            "matches": self.matches,
        }


def validate_query(query: str) -> ast.Node:
    """Parse ``query`` or raise :class:`QuerySyntaxError` (with its position)."""
    return parse(query)


def _cursor_name(query_id: int) -> str:
    return f"listen:{query_id}"


def _row_to_saved(row: sa.RowMapping, matches: int | None = None) -> SavedQuery:
    return SavedQuery(
        id=row["id"],
        name=row["name"],
        query=row["query"],
        group=row["group_name"],
        active=bool(row["active"]),
        created_at=row["created_at"],
        matches=matches,
    )


def add_query(
    store: Store,
    name: str,
    query: str,
    *,
    group: str = DEFAULT_GROUP,
    workspace: str = "default",
    backfill: bool = True,
) -> SavedQuery:
    """Save a query (validated first) and back-fill its matches."""
    name = name.strip()
    if not name:
        raise SavedQueryError("a saved query needs a name")
    group = group.strip()
    if not group:
        raise SavedQueryError("a group name cannot be empty")
    validate_query(query)  # QuerySyntaxError carries the position
    ws = store.workspace_id(workspace)
    with store.engine.begin() as conn:
        exists = conn.execute(
            sa.select(_q.c.id).where(_q.c.workspace_id == ws, _q.c.name == name)
        ).scalar()
        if exists is not None:
            raise SavedQueryError(f"a saved query named {name!r} already exists")
        conn.execute(
            _q.insert().values(
                workspace_id=ws,
                name=name,
                query=query,
                group_name=group,
                active=True,
                created_at=datetime.now(UTC),
            )
        )
    saved = get_query(store, name, workspace=workspace)
    assert saved is not None
    if backfill:
        backfill_query(store, saved, workspace=workspace)
    return get_query(store, name, workspace=workspace, with_matches=True) or saved


def get_query(
    store: Store, name: str, *, workspace: str = "default", with_matches: bool = False
) -> SavedQuery | None:
    ws = store.workspace_id(workspace)
    with store.engine.connect() as conn:
        row = (
            conn.execute(sa.select(_q).where(_q.c.workspace_id == ws, _q.c.name == name))
            .mappings()
            .first()
        )
        if row is None:
            return None
        count = _match_count(conn, row["id"]) if with_matches else None
    return _row_to_saved(row, count)


def list_queries(
    store: Store,
    *,
    workspace: str = "default",
    group: str | None = None,
    active_only: bool = False,
    with_matches: bool = False,
) -> list[SavedQuery]:
    """Saved queries of a workspace in the order they were added."""
    ws = store.workspace_id(workspace)
    stmt = sa.select(_q).where(_q.c.workspace_id == ws).order_by(_q.c.id)
    if group is not None:
        stmt = stmt.where(_q.c.group_name == group)
    if active_only:
        stmt = stmt.where(_q.c.active.is_(True))
    with store.engine.connect() as conn:
        rows = list(conn.execute(stmt).mappings())
        counts: dict[int, int] = {}
        if with_matches and rows:
            qm = query_matches
            counted = conn.execute(
                sa.select(qm.c.query_id, sa.func.count())
                .where(qm.c.workspace_id == ws)
                .group_by(qm.c.query_id)
            )
            counts = {query_id: n for query_id, n in counted}
    return [_row_to_saved(r, counts.get(r["id"], 0) if with_matches else None) for r in rows]


def remove_query(store: Store, name: str, *, workspace: str = "default") -> bool:
    """Delete a saved query and its stored matches; False if there was none."""
    ws = store.workspace_id(workspace)
    with store.engine.begin() as conn:
        query_id = conn.execute(
            sa.select(_q.c.id).where(_q.c.workspace_id == ws, _q.c.name == name)
        ).scalar()
        if query_id is None:
            return False
        conn.execute(query_matches.delete().where(query_matches.c.query_id == query_id))
        c = t.source_cursors
        conn.execute(c.delete().where(c.c.workspace_id == ws, c.c.source == _cursor_name(query_id)))
        conn.execute(_q.delete().where(_q.c.id == query_id))
    return True


def _match_count(conn: sa.Connection, query_id: int) -> int:
    qm = query_matches
    return conn.execute(
        sa.select(sa.func.count()).select_from(qm).where(qm.c.query_id == query_id)
    ).scalar_one()


def backfill_query(store: Store, saved: SavedQuery, *, workspace: str = "default") -> int:
    """Store matches of ``saved`` among posts newer than its cursor (all
    posts the first time), with the store's SQL search. Returns how many
    matches were searched for (already stored ones included)."""
    ws = store.workspace_id(workspace)
    node = parse(saved.query)
    after = int(store.get_cursor(_cursor_name(saved.id), workspace) or 0)
    with store.engine.begin() as conn:
        # The high-water mark is read before searching: a post stored while we
        # search is either found now or left for the next catch-up / the stage.
        top = conn.execute(sa.select(sa.func.max(_p.c.pk)).where(_p.c.workspace_id == ws)).scalar()
        if top is None or top <= after:
            return 0
        stmt = sa.select(_p.c.pk).where(
            _p.c.workspace_id == ws,
            _p.c.deleted.is_(False),
            _p.c.pk > after,
            _p.c.pk <= top,
            compile_query(node, store.dialect),
        )
        pks = list(conn.execute(stmt).scalars())
        insert_matches(conn, ws, [(saved.id, pk) for pk in pks])
    store.set_cursor(_cursor_name(saved.id), str(top), workspace)
    return len(pks)


def catch_up(store: Store, *, workspace: str = "default") -> None:
    """Back-fill every active query over posts stored since its last back-fill."""
    for saved in list_queries(store, workspace=workspace, active_only=True):
        backfill_query(store, saved, workspace=workspace)


def insert_matches(conn: sa.Connection, ws: int, pairs: list[tuple[int, int]]) -> None:
    """Store (query id, post pk) matches; existing ones are left as they are."""
    if not pairs:
        return
    now = datetime.now(UTC)
    rows = [
        {"workspace_id": ws, "query_id": q, "post_pk": pk, "matched_at": now} for q, pk in pairs
    ]
    # Chunked: PostgreSQL and SQLite cap bound parameters per statement.
    for chunk in chunks(rows, 5000):
        conn.execute(insert_ignore(conn, query_matches), list(chunk))


__all__ = [
    "DEFAULT_GROUP",
    "GROUPS",
    "QuerySyntaxError",
    "SavedQuery",
    "SavedQueryError",
    "add_query",
    "backfill_query",
    "catch_up",
    "get_query",
    "insert_matches",
    "list_queries",
    "remove_query",
    "validate_query",
]

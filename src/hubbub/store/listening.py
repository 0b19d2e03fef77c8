"""Listening's stored data for one workspace: saved queries and their matches.

``listen/`` decides what a query is and when to back-fill it; this module is
where its rows are read and written. Every statement carries the scope's
condition, so a repository built for one workspace cannot see or touch the
saved queries or matches of another, whatever ids a caller passes in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from hubbub.query import ast
from hubbub.query.parser import parse
from hubbub.store import schema as t
from hubbub.store.inbox_schema import inbox_rules
from hubbub.store.listen_schema import post_classes, query_matches
from hubbub.store.scope import Scope
from hubbub.store.search import compile_query
from hubbub.store.sql import chunks, insert_ignore
from hubbub.store.transactions import run_write

_q = t.saved_queries
_p = t.posts
_qm = query_matches


class QueryFeedsRules(Exception):
    """A saved query that inbox rules are built on, asked to be removed alone."""

    def __init__(self, name: str, rule_ids: tuple[int, ...]) -> None:
        super().__init__(name, rule_ids)
        self.name = name
        self.rule_ids = rule_ids


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


def _saved(row: sa.RowMapping, matches: int | None = None) -> SavedQuery:
    return SavedQuery(
        id=row["id"],
        name=row["name"],
        query=row["query"],
        group=row["group_name"],
        active=bool(row["active"]),
        created_at=row["created_at"],
        matches=matches,
    )


def cursor_name(query_id: int) -> str:
    """The ``source_cursors`` entry that remembers how far a query is back-filled."""
    return f"listen:{query_id}"


class SavedQueries:
    """The saved queries of one workspace, with their stored matches."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def create(self, name: str, query: str, group: str) -> bool:
        """Store a new active query; False when the name is taken in this workspace."""
        with self.scope.engine.begin() as conn:
            taken = conn.execute(
                sa.select(_q.c.id).where(self.scope.owns(_q), _q.c.name == name)
            ).scalar()
            if taken is not None:
                return False
            conn.execute(
                _q.insert().values(
                    **self.scope.values(),
                    name=name,
                    query=query,
                    group_name=group,
                    active=True,
                    created_at=datetime.now(UTC),
                )
            )
        return True

    def get(self, name: str, *, with_matches: bool = False) -> SavedQuery | None:
        with self.scope.engine.connect() as conn:
            row = (
                conn.execute(sa.select(_q).where(self.scope.owns(_q), _q.c.name == name))
                .mappings()
                .first()
            )
            if row is None:
                return None
            count = None
            if with_matches:
                count = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(_qm)
                    .where(self.scope.owns(_qm), _qm.c.query_id == row["id"])
                ).scalar_one()
        return _saved(row, count)

    def list(
        self, *, group: str | None = None, active_only: bool = False, with_matches: bool = False
    ) -> list[SavedQuery]:
        """The workspace's saved queries in the order they were added."""
        stmt = sa.select(_q).where(self.scope.owns(_q)).order_by(_q.c.id)
        if group is not None:
            stmt = stmt.where(_q.c.group_name == group)
        if active_only:
            stmt = stmt.where(_q.c.active.is_(True))
        with self.scope.engine.connect() as conn:
            rows = list(conn.execute(stmt).mappings())
            counts: dict[int, int] = {}
            if with_matches and rows:
                counted = conn.execute(
                    sa.select(_qm.c.query_id, sa.func.count())
                    .where(self.scope.owns(_qm))
                    .group_by(_qm.c.query_id)
                )
                counts = {query_id: n for query_id, n in counted}
        return [_saved(r, counts.get(r["id"], 0) if with_matches else None) for r in rows]

    def remove(self, name: str, *, with_rules: bool = True) -> bool:
        """Delete a saved query, its matches and its back-fill cursor; False if
        none. The inbox rules built on it go with it (their foreign key
        cascades), unless ``with_rules`` is False: then QueryFeedsRules, in
        the same transaction, so a rule is never removed unasked."""
        with self.scope.engine.begin() as conn:
            query_id = conn.execute(
                sa.select(_q.c.id).where(self.scope.owns(_q), _q.c.name == name)
            ).scalar()
            if query_id is None:
                return False
            if not with_rules:
                rule_ids = self._rules_of(conn, query_id)
                if rule_ids:
                    raise QueryFeedsRules(name, rule_ids)
            conn.execute(_qm.delete().where(self.scope.owns(_qm), _qm.c.query_id == query_id))
            c = t.source_cursors
            conn.execute(c.delete().where(self.scope.owns(c), c.c.source == cursor_name(query_id)))
            conn.execute(_q.delete().where(self.scope.owns(_q), _q.c.id == query_id))
        return True

    def rules_of(self, name: str) -> tuple[int, ...]:
        """Ids of the inbox rules built on the saved query ``name``."""
        with self.scope.engine.connect() as conn:
            query_id = conn.execute(
                sa.select(_q.c.id).where(self.scope.owns(_q), _q.c.name == name)
            ).scalar()
            return () if query_id is None else self._rules_of(conn, query_id)

    def _rules_of(self, conn: sa.Connection, query_id: int) -> tuple[int, ...]:
        r = inbox_rules
        return tuple(
            int(i)
            for i in conn.execute(
                sa.select(r.c.id)
                .where(self.scope.owns(r), r.c.query_id == query_id)
                .order_by(r.c.id)
            ).scalars()
        )

    def backfill(self, saved: SavedQuery) -> int:
        """Store matches of ``saved`` among posts newer than its cursor (all posts
        the first time), with the store's SQL search. Returns how many matches
        were searched for (already stored ones included)."""
        if not self._owned(saved.id):
            return 0  # a query of another workspace: nothing of this one is its
        store = self.scope.store
        source = cursor_name(saved.id)
        after = int(store.get_cursor(source, self.scope.name) or 0)
        with self.scope.engine.begin() as conn:
            # The high-water mark is read before searching: a post stored while we
            # search is either found now or left for the next catch-up / the stage.
            top = conn.execute(sa.select(sa.func.max(_p.c.pk)).where(self.scope.owns(_p))).scalar()
            if top is None or top <= after:
                return 0
            stmt = sa.select(_p.c.pk).where(
                self.scope.owns(_p),
                _p.c.deleted.is_(False),
                _p.c.pk > after,
                _p.c.pk <= top,
                compile_query(parse(saved.query), store.dialect),
            )
            pks = list(conn.execute(stmt).scalars())
            # Both ends are already this workspace's (checked above, searched in scope).
            _insert_matches(conn, self.scope, [(saved.id, pk) for pk in pks], checked=True)
        store.set_cursor(source, str(top), self.scope.name)
        return len(pks)

    def _owned(self, query_id: int) -> bool:
        with self.scope.engine.connect() as conn:
            found = conn.execute(
                sa.select(_q.c.id).where(self.scope.owns(_q), _q.c.id == query_id)
            ).scalar()
        return found is not None

    def record_matches(self, pairs: Sequence[tuple[int, int]]) -> None:
        """Store (query id, post pk) matches; existing ones are left as they are.
        Pairs naming a query or post of another workspace are dropped."""
        with self.scope.engine.begin() as conn:
            _insert_matches(conn, self.scope, list(pairs))


def _owned_ids(
    conn: sa.Connection, scope: Scope, table: sa.Table, column: str, ids: Iterable[int]
) -> set[int]:
    """Which of ``ids`` (values of ``table.column``) belong to ``scope``."""
    out: set[int] = set()
    col = table.c[column]
    for chunk in chunks(sorted(set(ids)), 1000):
        out.update(conn.execute(sa.select(col).where(scope.owns(table), col.in_(chunk))).scalars())
    return out


def _insert_matches(
    conn: sa.Connection, scope: Scope, pairs: list[tuple[int, int]], *, checked: bool = False
) -> None:
    if not pairs:
        return
    if not checked:
        # Both ends must be this workspace's: a row naming another's post or
        # query would leak that post into this workspace's reports.
        queries = _owned_ids(conn, scope, _q, "id", (q for q, _pk in pairs))
        posts = _owned_ids(conn, scope, _p, "pk", (pk for _q_id, pk in pairs))
        pairs = [(q, pk) for q, pk in pairs if q in queries and pk in posts]
    now = datetime.now(UTC)
    rows = [{**scope.values(), "query_id": q, "post_pk": pk, "matched_at": now} for q, pk in pairs]
    # Chunked: PostgreSQL and SQLite cap bound parameters per statement.
    for chunk in chunks(rows, 5000):
        conn.execute(insert_ignore(conn, _qm), list(chunk))


class StageWrites:
    """What the pipeline's listening stage reads and writes for one batch."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def replace(
        self,
        touched: Sequence[int],
        wanted: set[tuple[int, int]],
        classes: Sequence[Mapping[str, object]],
    ) -> None:
        """In one transaction: the matches of the ``touched`` posts become
        exactly ``wanted`` (an edit can make a post stop matching, a deletion
        always does), and the given classifications replace the posts' old ones
        (an edited post is classified on its new text)."""
        scope = self.scope

        # Run again from the start when a concurrent writer makes it fail
        # (PostgreSQL breaks a lock cycle with a deadlock error): two imports
        # into one database failed with "deadlock detected" here in CI.
        run_write(scope.engine, lambda conn: self._replace(conn, touched, wanted, classes))

    def _replace(
        self,
        conn: sa.Connection,
        touched: Sequence[int],
        wanted: set[tuple[int, int]],
        classes: Sequence[Mapping[str, object]],
    ) -> None:
        scope = self.scope
        existing: set[tuple[int, int]] = set()
        for chunk in chunks(list(touched), 1000):
            rows = conn.execute(
                sa.select(_qm.c.query_id, _qm.c.post_pk).where(
                    scope.owns(_qm), _qm.c.post_pk.in_(chunk)
                )
            )
            existing.update((q, pk) for q, pk in rows)
        for query_id, pk in existing - wanted:
            conn.execute(
                _qm.delete().where(scope.owns(_qm), _qm.c.query_id == query_id, _qm.c.post_pk == pk)
            )
        _insert_matches(conn, scope, sorted(wanted - existing))
        if classes:
            # post_classes has no workspace column: it is reached through posts.
            owned = _owned_ids(conn, scope, _p, "pk", (_post_pk(row) for row in classes))
            # One row per post (the last given wins): the key is post_pk.
            keep = list(
                {_post_pk(row): dict(row) for row in classes if _post_pk(row) in owned}.values()
            )
            for chunk in chunks(sorted(owned), 1000):
                conn.execute(post_classes.delete().where(post_classes.c.post_pk.in_(chunk)))
            for rows_chunk in chunks(keep, 500):
                conn.execute(post_classes.insert(), list(rows_chunk))


def _post_pk(row: Mapping[str, object]) -> int:
    pk = row["post_pk"]
    if not isinstance(pk, int):
        raise TypeError(f"post_pk must be an int, not {type(pk).__name__}")
    return pk


__all__ = ["SavedQueries", "SavedQuery", "StageWrites", "cursor_name"]

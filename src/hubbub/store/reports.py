"""What a listening report reads of one workspace: its posts in a period,
narrowed by a selection (a query, a saved query or a group of them).

A selection becomes a ``PostFilter``: an SQL condition on posts that the
report layer passes back in without looking inside. Filters built here for
saved queries and groups only reach this workspace's matches, and every read
adds the workspace condition itself, so a filter can never widen a read to
another workspace.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hubbub.query.ast import Node
from hubbub.store import schema as t
from hubbub.store.listen_schema import query_matches
from hubbub.store.scope import Scope
from hubbub.store.search import compile_query

#: A condition on stored posts, built by :class:`ReportData` (opaque to callers).
PostFilter = sa.ColumnElement[bool]

_p = t.posts
_q = t.saved_queries
_qm = query_matches

# The post columns a report reads (a "mention" row).
MENTION_COLUMNS = (
    _p.c.pk,
    _p.c.network,
    _p.c.post_id,
    _p.c.url,
    _p.c.author_id,
    _p.c.author_handle,
    _p.c.author_name,
    _p.c.text,
    _p.c.created_at,
    _p.c.langs,
    _p.c.hashtags,
    _p.c.metrics,
    _p.c.place,
    _p.c.source,
    _p.c.reply_to,
    _p.c.repost_of,
    _p.c.quote_of,
)


class ReportData:
    """A report's reads of one workspace."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def _live(self) -> sa.ColumnElement[bool]:
        return sa.and_(self.scope.owns(_p), _p.c.deleted.is_(False))

    # -- filters ------------------------------------------------------------

    def query_filter(self, node: Node) -> PostFilter:
        """Posts matching a query, with the store's search."""
        return compile_query(node, self.scope.store.dialect)

    def saved_filter(self, query_id: int) -> PostFilter:
        """Posts a saved query of this workspace matched (its stored matches)."""
        return _p.c.pk.in_(
            sa.select(_qm.c.post_pk).where(self.scope.owns(_qm), _qm.c.query_id == query_id)
        )

    def group_filter(self, group: str) -> PostFilter:
        """Posts any saved query of ``group`` in this workspace matched."""
        ids = sa.select(_q.c.id).where(self.scope.owns(_q), _q.c.group_name == group)
        return _p.c.pk.in_(
            sa.select(_qm.c.post_pk).where(self.scope.owns(_qm), _qm.c.query_id.in_(ids))
        )

    # -- reads --------------------------------------------------------------

    def timezone(self) -> str | None:
        """The workspace's time zone setting, as stored."""
        w = t.workspaces
        with self.scope.engine.connect() as conn:
            return conn.execute(sa.select(w.c.timezone).where(w.c.id == self.scope.id)).scalar()

    def newest_post_time(self) -> datetime | None:
        with self.scope.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.max(_p.c.created_at)).where(self._live())
            ).scalar()

    def bounds(self, where: PostFilter) -> tuple[datetime | None, datetime | None]:
        """Creation times of the oldest and newest live posts passing ``where``
        (as the database returns them: naive on SQLite)."""
        stmt = sa.select(sa.func.min(_p.c.created_at), sa.func.max(_p.c.created_at)).where(
            self._live(), where
        )
        with self.scope.engine.connect() as conn:
            oldest, newest = conn.execute(stmt).one()
        return oldest, newest

    def mentions(self, where: PostFilter, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """The live posts passing ``where`` created in ``[since, until)``, oldest first."""
        stmt = (
            sa.select(*MENTION_COLUMNS)
            .where(self._live(), _p.c.created_at >= since, _p.c.created_at < until, where)
            .order_by(_p.c.created_at, _p.c.pk)
        )
        with self.scope.engine.connect() as conn:
            return [dict(row) for row in conn.execute(stmt).mappings()]

    def count(self, since: datetime, until: datetime, where: PostFilter | None = None) -> int:
        """Live posts in ``[since, until)`` (passing ``where``)."""
        stmt = (
            sa.select(sa.func.count())
            .select_from(_p)
            .where(self._live(), _p.c.created_at >= since, _p.c.created_at < until)
        )
        if where is not None:
            stmt = stmt.where(where)
        with self.scope.engine.connect() as conn:
            return conn.execute(stmt).scalar_one()

    def matches_per_query(
        self, query_ids: Sequence[int], since: datetime, until: datetime
    ) -> dict[int, int]:
        """Live posts created in ``[since, until)`` each saved query matched."""
        if not query_ids:
            return {}
        stmt = (
            sa.select(_qm.c.query_id, sa.func.count())
            .join(_p, _p.c.pk == _qm.c.post_pk)
            .where(*self._in_period(since, until), _qm.c.query_id.in_(list(query_ids)))
            .group_by(_qm.c.query_id)
        )
        with self.scope.engine.connect() as conn:
            return {query_id: n for query_id, n in conn.execute(stmt)}

    def posts_matched_by_any(
        self, query_ids: Sequence[int], since: datetime, until: datetime
    ) -> int:
        """Distinct live posts created in ``[since, until)`` that any of the
        saved queries matched (a post matched by two counts once)."""
        if not query_ids:
            return 0
        stmt = (
            sa.select(sa.func.count(sa.distinct(_qm.c.post_pk)))
            .join(_p, _p.c.pk == _qm.c.post_pk)
            .where(*self._in_period(since, until), _qm.c.query_id.in_(list(query_ids)))
        )
        with self.scope.engine.connect() as conn:
            return conn.execute(stmt).scalar_one()

    def _in_period(self, since: datetime, until: datetime) -> tuple[sa.ColumnElement[bool], ...]:
        return (
            self.scope.owns(_qm),
            self._live(),
            _p.c.created_at >= since,
            _p.c.created_at < until,
        )


__all__ = ["MENTION_COLUMNS", "PostFilter", "ReportData"]

"""Stored classifications (``post_classes``) of one workspace's posts.

The pipeline's listening stage writes classes as posts arrive; this
repository is for the two other needs: reading them without writing
(reports, recaps, alerts: a read never classifies), and finding the posts
that have none yet (old databases, a worker killed between storing and
classifying), which ``hubbub.classify.stored`` classifies in batches.

``post_classes`` has no workspace column: it hangs off ``posts.pk``. Every
statement here therefore joins ``posts`` and keeps ``scope.owns(posts)``, so
a pk of another workspace reads as "not a post of mine", never its classes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hubbub.store import schema as t
from hubbub.store.listen_schema import post_classes
from hubbub.store.scope import Scope
from hubbub.store.sql import chunks, insert_ignore

CLASS_FIELDS = ("sentiment", "sentiment_score", "intent", "spam", "offensive", "lang")
_CHUNK = 500  # pks per IN (...): both backends cap bound parameters


@dataclass(slots=True, frozen=True)
class Unclassified:
    """A stored post that has no classes yet: what the classifier needs."""

    pk: int
    text: str
    langs: tuple[str, ...]


class PostClassesRepo:
    """The classes of ``scope``'s posts."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def read(self, pks: Iterable[int]) -> tuple[dict[int, dict[str, Any]], list[int]]:
        """(classes by pk, pks of this workspace's posts that have none).

        Only reads. pks that are not posts of this workspace are in neither."""
        wanted = sorted(set(pks))
        found: dict[int, dict[str, Any]] = {}
        missing: list[int] = []
        p, c = t.posts, post_classes
        columns = [c.c[name] for name in CLASS_FIELDS]
        with self.scope.engine.connect() as conn:
            for chunk in chunks(wanted, _CHUNK):
                stmt = (
                    sa.select(p.c.pk, c.c.post_pk, *columns)
                    .select_from(p.outerjoin(c, c.c.post_pk == p.c.pk))
                    .where(self.scope.owns(p), p.c.pk.in_(chunk))
                )
                for row in conn.execute(stmt).mappings():
                    if row["post_pk"] is None:
                        missing.append(int(row["pk"]))
                    else:
                        found[int(row["pk"])] = {name: row[name] for name in CLASS_FIELDS}
        missing.sort()
        return found, missing

    def texts(self, pks: Iterable[int]) -> list[Unclassified]:
        """What the classifier needs of those of ``pks`` that are this
        workspace's posts (tombstones left out: their text is gone)."""
        p = t.posts
        out: list[Unclassified] = []
        with self.scope.engine.connect() as conn:
            for chunk in chunks(sorted(set(pks)), _CHUNK):
                stmt = sa.select(p.c.pk, p.c.text, p.c.langs).where(
                    self.scope.owns(p), p.c.pk.in_(chunk), p.c.deleted.is_(False)
                )
                out.extend(
                    Unclassified(int(row.pk), row.text, tuple(row.langs or ()))
                    for row in conn.execute(stmt)
                )
        return out

    def _unclassified(self) -> sa.Select[Any]:
        p, c = t.posts, post_classes
        # Tombstones are left out: their text is gone and no report counts them.
        return (
            sa.select(p.c.pk, p.c.text, p.c.langs)
            .select_from(p.outerjoin(c, c.c.post_pk == p.c.pk))
            .where(self.scope.owns(p), c.c.post_pk.is_(None), p.c.deleted.is_(False))
        )

    def unclassified(
        self, *, after: int = 0, upto: int | None = None, limit: int = 500
    ) -> list[Unclassified]:
        """Up to ``limit`` posts without classes, pk > ``after`` (≤ ``upto``), oldest first."""
        p = t.posts
        stmt = self._unclassified().where(p.c.pk > after).order_by(p.c.pk).limit(limit)
        if upto is not None:
            stmt = stmt.where(p.c.pk <= upto)
        with self.scope.engine.connect() as conn:
            return [
                Unclassified(int(row.pk), row.text, tuple(row.langs or ()))
                for row in conn.execute(stmt)
            ]

    def count_unclassified(self) -> int:
        stmt = sa.select(sa.func.count()).select_from(self._unclassified().subquery())
        with self.scope.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def newest_pk(self) -> int:
        """The highest post pk of this workspace (0 with none)."""
        p = t.posts
        with self.scope.engine.connect() as conn:
            top = conn.execute(sa.select(sa.func.max(p.c.pk)).where(self.scope.owns(p))).scalar()
        return int(top or 0)

    def add(self, rows: Sequence[dict[str, Any]]) -> int:
        """Store ``post_classes`` rows whose post has none (a row the stage wrote
        meanwhile wins: it classified the same text, or a newer edit of it).
        Rows for pks outside this workspace are dropped. Returns rows offered."""
        if not rows:
            return 0
        mine = {pk for pk in self._own_pks(row["post_pk"] for row in rows)}
        kept = [dict(row) for row in rows if row["post_pk"] in mine]
        with self.scope.engine.begin() as conn:
            for chunk in chunks(kept, _CHUNK):
                conn.execute(insert_ignore(conn, post_classes), list(chunk))
        return len(kept)

    def _own_pks(self, pks: Iterable[int]) -> set[int]:
        p = t.posts
        out: set[int] = set()
        with self.scope.engine.connect() as conn:
            for chunk in chunks(sorted(set(pks)), _CHUNK):
                stmt = sa.select(p.c.pk).where(self.scope.owns(p), p.c.pk.in_(chunk))
                out.update(int(pk) for pk in conn.execute(stmt).scalars())
        return out

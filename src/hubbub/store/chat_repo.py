"""Stored data of one workspace's chats: their posts in store order (with the
cursor a page catches up from), their hosts, pins and removals.

A chat is a hashtag: its posts are the stored posts carrying it. Every
statement here carries the scope's condition (``hubbub.chat.repo`` is the
feature's name for it), so a chat of one workspace never shows another's
posts, pins or removals, even for the same hashtag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from hubbub.post import Post
from hubbub.query.tokens import fold
from hubbub.store import schema as t
from hubbub.store.chat_schema import chat_pins, chat_removals
from hubbub.store.rows import row_to_post
from hubbub.store.scope import Scope
from hubbub.store.web_schema import room_people, rooms

_p = t.posts
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class Page:
    """Posts of a chat after a cursor, oldest first (store order)."""

    posts: list[tuple[int, Post]]  # (cursor of the post, post)
    cursor: int  # pass as ``after`` to get what follows
    more: bool  # another page is waiting


class ChatData:
    """One workspace's chats. Built once per workspace with its ``Scope``."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def _tag_condition(self, tag: str) -> sa.ColumnElement[bool]:
        # The store's hashtag facet rows (folded, without '#'), through their
        # (kind, value) index: a bound value, whatever the tag holds.
        return _p.c.pk.in_(self._tagged(tag))

    def _tagged(self, tag: str) -> sa.Select:
        terms = t.post_terms
        return sa.select(terms.c.post_pk).where(
            terms.c.kind == "h", terms.c.value == fold(tag.lstrip("#"))
        )

    def _live(self, tag: str) -> sa.Select:
        return sa.select(_p).where(
            self.scope.owns(_p), _p.c.deleted.is_(False), self._tag_condition(tag)
        )

    # -- posts -------------------------------------------------------------

    def posts(
        self, tag: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[int, Post]]:
        """Every live post of the chat (created in ``[since, until)``) with its
        row key, by creation time."""
        stmt = self._live(tag)
        if since is not None:
            stmt = stmt.where(_p.c.created_at >= since)
        if until is not None:
            stmt = stmt.where(_p.c.created_at < until)
        stmt = stmt.order_by(_p.c.created_at, _p.c.pk)
        with self.scope.engine.connect() as conn:
            return [(int(row["pk"]), row_to_post(row)) for row in conn.execute(stmt).mappings()]

    def cursor(self, tag: str) -> int:
        """The cursor of the newest stored post of the chat (0: none yet)."""
        stmt = (
            sa.select(_p.c.pk)
            .where(self.scope.owns(_p), self._tag_condition(tag))
            .order_by(_p.c.pk.desc())
            .limit(1)
        )
        with self.scope.engine.connect() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def settled_cursor(self, tag: str, before: datetime) -> int:
        """The cursor of the newest post of the chat stored before ``before``."""
        stmt = (
            sa.select(_p.c.pk)
            .where(
                self.scope.owns(_p),
                _p.c.stored_at < before,
                self._tag_condition(tag),
            )
            .order_by(_p.c.pk.desc())
            .limit(1)
        )
        with self.scope.engine.connect() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def after(self, tag: str, after: int, limit: int = 200) -> Page:
        """Posts stored after cursor ``after``, oldest first.

        The cursor is the store's row key: rows are numbered as they are
        stored, so a page that remembers the last number it saw finds every
        post stored since, whatever their creation times say.
        """
        limit = max(1, min(limit, MAX_PAGE))
        stmt = self._live(tag).where(_p.c.pk > after).order_by(_p.c.pk).limit(limit + 1)
        with self.scope.engine.connect() as conn:
            rows = list(conn.execute(stmt).mappings())
        more = len(rows) > limit
        rows = rows[:limit]
        posts = [(int(row["pk"]), row_to_post(row)) for row in rows]
        return Page(posts, posts[-1][0] if posts else after, more)

    def newest(self, tag: str, limit: int) -> Page:
        """The newest ``limit`` posts, oldest first, with the cursor after them."""
        limit = max(1, min(limit, MAX_PAGE))
        stmt = self._live(tag).order_by(_p.c.pk.desc()).limit(limit)
        with self.scope.engine.connect() as conn:
            rows = list(conn.execute(stmt).mappings())
        rows.reverse()
        posts = [(int(row["pk"]), row_to_post(row)) for row in rows]
        # The cursor covers deleted posts too: nothing before it is ever new.
        return Page(posts, max(self.cursor(tag), posts[-1][0] if posts else 0), False)

    def seen_before(self, tag: str, before: datetime) -> set[tuple[str, str]]:
        """(network, author id) of everyone who posted with the hashtag before ``before``."""
        stmt = (
            sa.select(_p.c.network, _p.c.author_id)
            .where(
                self.scope.owns(_p),
                _p.c.deleted.is_(False),
                _p.c.created_at < before,
                self._tag_condition(tag),
            )
            .distinct()
        )
        with self.scope.engine.connect() as conn:
            return {(r.network, r.author_id) for r in conn.execute(stmt)}

    def newest_time(self, tag: str) -> datetime | None:
        """Creation time of the chat's newest live post."""
        stmt = sa.select(sa.func.max(_p.c.created_at)).where(
            self.scope.owns(_p), _p.c.deleted.is_(False), self._tag_condition(tag)
        )
        with self.scope.engine.connect() as conn:
            value = conn.execute(stmt).scalar()
        if value is None:
            return None
        # Aggregates skip the column's type on SQLite: normalise to aware UTC.
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def followers(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Followers of each (network, author id), where the store knows them."""
        a = t.authors
        by_network: dict[str, list[str]] = {}
        for network, author_id in keys:
            by_network.setdefault(network, []).append(author_id)
        out: dict[tuple[str, str], int] = {}
        with self.scope.engine.connect() as conn:
            for network, ids in by_network.items():
                for start in range(0, len(ids), 500):
                    stmt = sa.select(a.c.author_id, a.c.followers).where(
                        self.scope.owns(a),
                        a.c.network == network,
                        a.c.author_id.in_(ids[start : start + 500]),
                        a.c.followers.is_not(None),
                    )
                    out.update(
                        ((network, r.author_id), int(r.followers)) for r in conn.execute(stmt)
                    )
        return out

    # -- people ------------------------------------------------------------

    def hosts(self, tag: str) -> frozenset[tuple[str, str]]:
        """The room's hosts as (network, folded handle)."""
        key = fold(tag.lstrip("#"))
        rp = room_people
        stmt = (
            sa.select(rp.c.network, rp.c.who)
            .join(rooms, rooms.c.id == rp.c.room_id)
            .where(
                self.scope.owns(rooms), self.scope.owns(rp), rooms.c.tag == key, rp.c.role == "host"
            )
        )
        with self.scope.engine.connect() as conn:
            return frozenset((r.network, r.who) for r in conn.execute(stmt))

    # -- pins and removals -------------------------------------------------

    def pins(self, tag: str) -> list[Post]:
        """Pinned posts still live and not removed, newest pin first."""
        key = fold(tag.lstrip("#"))
        cp, cr = chat_pins, chat_removals
        removed = sa.select(cr.c.post_id).where(
            self.scope.owns(cr), cr.c.tag == key, cr.c.network == _p.c.network
        )
        stmt = (
            sa.select(_p)
            .join(
                cp,
                sa.and_(
                    cp.c.workspace_id == _p.c.workspace_id,
                    cp.c.network == _p.c.network,
                    cp.c.post_id == _p.c.post_id,
                ),
            )
            .where(
                self.scope.owns(cp),
                cp.c.tag == key,
                _p.c.deleted.is_(False),
                _p.c.post_id.not_in(removed),
            )
            .order_by(cp.c.pinned_at.desc())
        )
        with self.scope.engine.connect() as conn:
            return [row_to_post(row) for row in conn.execute(stmt).mappings()]

    def set_pin(self, tag: str, network: str, post_id: str, by: str, on: bool) -> None:
        self._mark(chat_pins, "pinned", tag, network, post_id, by, on)

    def set_removed(self, tag: str, network: str, post_id: str, by: str, on: bool = True) -> None:
        self._mark(chat_removals, "removed", tag, network, post_id, by, on)

    def _mark(
        self, table: sa.Table, verb: str, tag: str, network: str, post_id: str, by: str, on: bool
    ) -> None:
        key = fold(tag.lstrip("#"))
        where = (
            self.scope.owns(table),
            table.c.tag == key,
            table.c.network == network,
            table.c.post_id == post_id,
        )
        with self.scope.engine.begin() as conn:
            conn.execute(table.delete().where(*where))
            if on:
                conn.execute(
                    table.insert().values(
                        **self.scope.values(),
                        tag=key,
                        network=network,
                        post_id=post_id,
                        **{f"{verb}_by": by[:300], f"{verb}_at": datetime.now(UTC)},
                    )
                )

    def removed(self, tag: str) -> set[tuple[str, str]]:
        key = fold(tag.lstrip("#"))
        cr = chat_removals
        stmt = sa.select(cr.c.network, cr.c.post_id).where(self.scope.owns(cr), cr.c.tag == key)
        with self.scope.engine.connect() as conn:
            return {(r.network, r.post_id) for r in conn.execute(stmt)}


__all__ = ["MAX_PAGE", "ChatData", "Page"]

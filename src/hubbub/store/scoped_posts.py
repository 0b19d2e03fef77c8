"""Lookups of one workspace's posts and authors by their network identities.

Features hold (network, id) pairs taken from the wire or from other posts
(a repost's original, a reply's parent); these turn them into stored rows of
this workspace only. The same id in another workspace is simply not found.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from hubbub.post import Post
from hubbub.store import schema as t
from hubbub.store.rows import row_to_post
from hubbub.store.scope import Scope
from hubbub.store.sql import chunks

_p = t.posts
_a = t.authors


@dataclass(frozen=True, slots=True)
class AuthorProfile:
    """What the store last saw of an author's profile."""

    followers: int | None
    display_name: str | None


def _by_network(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, set[str]] = {}
    for network, ident in keys:
        out.setdefault(network, set()).add(ident)
    return {network: sorted(ids) for network, ids in out.items()}


class WorkspacePosts:
    """Posts and authors of one workspace, looked up by network identity."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def row_keys(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The store's row key of each stored (network, post id)."""
        out: dict[tuple[str, str], int] = {}
        with self.scope.engine.connect() as conn:
            for network, ids in _by_network(keys).items():
                for chunk in chunks(ids, 1000):
                    stmt = sa.select(_p.c.pk, _p.c.post_id).where(
                        self.scope.owns(_p), _p.c.network == network, _p.c.post_id.in_(chunk)
                    )
                    out.update(((network, post_id), pk) for pk, post_id in conn.execute(stmt))
        return out

    def posts(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Post]:
        """Each stored (network, post id) as a post (tombstones included)."""
        found: dict[tuple[str, str], Post] = {}
        with self.scope.engine.connect() as conn:
            for network, ids in _by_network(keys).items():
                for chunk in chunks(ids, 1000):
                    stmt = sa.select(_p).where(
                        self.scope.owns(_p), _p.c.network == network, _p.c.post_id.in_(chunk)
                    )
                    for row in conn.execute(stmt).mappings():
                        found[(network, row["post_id"])] = row_to_post(row)
        return found

    def author_handles(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The author handle of each stored (network, post id) that has one."""
        found: dict[tuple[str, str], str] = {}
        with self.scope.engine.connect() as conn:
            for network, ids in _by_network(keys).items():
                for chunk in chunks(ids, 500):
                    stmt = sa.select(_p.c.post_id, _p.c.author_handle).where(
                        self.scope.owns(_p), _p.c.network == network, _p.c.post_id.in_(chunk)
                    )
                    for post_id, handle in conn.execute(stmt):
                        if handle:
                            found[(network, post_id)] = handle
        return found

    def authors(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], AuthorProfile]:
        """The newest profile the store has of each (network, author id)."""
        out: dict[tuple[str, str], AuthorProfile] = {}
        with self.scope.engine.connect() as conn:
            for network, ids in _by_network(keys).items():
                for chunk in chunks(ids, 500):
                    stmt = sa.select(_a.c.author_id, _a.c.followers, _a.c.display_name).where(
                        self.scope.owns(_a), _a.c.network == network, _a.c.author_id.in_(chunk)
                    )
                    for row in conn.execute(stmt):
                        out[(network, row.author_id)] = AuthorProfile(
                            row.followers, row.display_name
                        )
        return out

    def followers(self, keys: Iterable[tuple[str, str]]) -> Mapping[tuple[str, str], int]:
        """Followers of each (network, author id), where the store knows them."""
        return {
            key: int(profile.followers)
            for key, profile in self.authors(keys).items()
            if profile.followers is not None
        }


__all__ = ["AuthorProfile", "WorkspacePosts"]

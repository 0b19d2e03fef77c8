"""The stored originals of reposts, for showing a repost by what it reposted.

A Bluesky repost (and a Mastodon reblog) has no text of its own: shown as
stored, it was a blank row. Its original, when the store has it, says what
was reposted. One query per network and chunk of ids, scoped to the workspace.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from hubbub.post import Post
from hubbub.store import schema as t
from hubbub.store.api import Store
from hubbub.store.rows import row_to_post
from hubbub.store.sql import chunks

_CHUNK = 500


def stored_originals(
    store: Store, workspace: str, posts: Iterable[Post]
) -> dict[tuple[str, str], Post]:
    """The live stored originals of the reposts among ``posts``, by (network, post id)."""
    by_network: dict[str, set[str]] = {}
    for post in posts:
        if post.repost_of:
            by_network.setdefault(post.network, set()).add(post.repost_of)
    if not by_network:
        return {}
    ws = store.workspace_id(workspace)
    p = t.posts
    found: dict[tuple[str, str], Post] = {}
    with store.engine.connect() as conn:
        for network, ids in sorted(by_network.items()):
            for chunk in chunks(sorted(ids), _CHUNK):
                stmt = sa.select(p).where(
                    p.c.workspace_id == ws,
                    p.c.network == network,
                    p.c.post_id.in_(chunk),
                    p.c.deleted == sa.false(),
                )
                for row in conn.execute(stmt).mappings():
                    found[(network, row["post_id"])] = row_to_post(row)
    return found


__all__ = ["stored_originals"]

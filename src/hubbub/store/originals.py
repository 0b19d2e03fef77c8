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
from hubbub.store.repost_index import rows_by_key
from hubbub.store.rows import row_to_post


def stored_originals(
    store: Store, workspace: str, posts: Iterable[Post]
) -> dict[tuple[str, str], Post]:
    """The live stored originals of the reposts among ``posts``, by (network, post id)."""
    keys = {(post.network, post.repost_of) for post in posts if post.repost_of}
    if not keys:
        return {}
    p = t.posts
    ws = store.workspace_id(workspace)
    with store.engine.connect() as conn:
        rows = rows_by_key(conn, ws, keys, list(p.c), p.c.deleted == sa.false())
    return {key: row_to_post(row) for key, row in rows.items()}


__all__ = ["stored_originals"]

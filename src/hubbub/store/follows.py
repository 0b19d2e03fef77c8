"""What the runtime follows on the networks for one workspace: the hashtags
of its public rooms (saved queries come from ``listening``).

A read of its own rather than a use of the rooms repository: the runtime
starts before any web request and needs only the tags, in creation order.
"""

from __future__ import annotations

import sqlalchemy as sa

from hubbub.store.scope import Scope
from hubbub.store.web_schema import rooms


def followed_hashtags(scope: Scope) -> tuple[str, ...]:
    """Tags of the workspace's rooms that are public (private rooms are not
    followed on the networks), oldest room first."""
    stmt = sa.select(rooms.c.tag).where(scope.owns(rooms)).order_by(rooms.c.id)
    if "public" in rooms.c:
        stmt = stmt.where(rooms.c.public.is_(True))
    with scope.engine.connect() as conn:
        return tuple(conn.execute(stmt).scalars())


__all__ = ["followed_hashtags"]

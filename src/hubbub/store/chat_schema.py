"""Tables of chat rooms: posts a host pinned and posts a host removed.

Both are keyed by the room's folded hashtag (what a room is, see
``hubbub.web.rooms.normalise_tag``) within a workspace, and name a post by its
identity (network, post id), so they hold for posts stored later too (a
replay, a post removed before its copy from another source arrives).

Like ``web_schema`` they live on the shared ``metadata`` so one Alembic
history covers everything; migration 0007 creates them.
"""

from __future__ import annotations

import sqlalchemy as sa

from hubbub.store.schema import BigId, UTCDateTime, metadata

# Pinned posts show above the stream for every reader, newest pin first.
chat_pins = sa.Table(
    "chat_pins",
    metadata,
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("tag", sa.String(200), primary_key=True),  # folded hashtag, no '#'
    sa.Column("network", sa.String(16), primary_key=True),
    sa.Column("post_id", sa.Text, primary_key=True),
    sa.Column("pinned_by", sa.Text, nullable=False),
    sa.Column("pinned_at", UTCDateTime, nullable=False),
)

# Posts a host took out of the room (its page, projector, Q&A and catch-up).
# The post itself stays stored: removal is the room's decision, not a deletion.
chat_removals = sa.Table(
    "chat_removals",
    metadata,
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("tag", sa.String(200), primary_key=True),
    sa.Column("network", sa.String(16), primary_key=True),
    sa.Column("post_id", sa.Text, primary_key=True),
    sa.Column("removed_by", sa.Text, nullable=False),
    sa.Column("removed_at", UTCDateTime, nullable=False),
)

CHAT_TABLES = ("chat_pins", "chat_removals")

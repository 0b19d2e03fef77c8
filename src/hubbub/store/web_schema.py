"""Tables of the web app: accounts, rooms, room people (hosts, guests, muted,
blocked), and the approval queue.

They live on the same ``metadata`` as the core schema so one Alembic history
covers everything; ``hubbub.store.schema`` does not import this module (the
core store works without the web app), migration 0002 does.
"""

from __future__ import annotations

import sqlalchemy as sa

from hubbub.store.schema import BigId, UTCDateTime, metadata

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),  # argon2id, PHC string
    sa.Column("role", sa.String(16), nullable=False),  # owner | agent | viewer
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("workspace_id", "name", name="uq_users_name"),
)

rooms = sa.Table(
    "rooms",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("tag", sa.String(200), nullable=False),  # folded hashtag, no '#'
    sa.Column("title", sa.Text),
    sa.Column("allow_guests", sa.Boolean, nullable=False),
    sa.Column("approval", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # Public: anyone may read (and, with allow_guests, post as a guest);
    # private: signed-in users only. Added by migration 0005.
    sa.Column("public", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.UniqueConstraint("workspace_id", "tag", name="uq_rooms_tag"),
)

# Who is special in a room. Hosts and guests are named by folded handle (what a
# host types); muted and blocked authors by their stable network author id.
room_people = sa.Table(
    "room_people",
    metadata,
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("room_id", BigId, sa.ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role", sa.String(16), primary_key=True),  # host | guest | muted | blocked
    sa.Column("network", sa.String(16), primary_key=True),
    sa.Column("who", sa.Text, primary_key=True),
    sa.Column("label", sa.Text),  # the handle as shown, for the host's list
    sa.Column("created_at", UTCDateTime, nullable=False),
    # A blocked web guest is also blocked by the address it posted from and
    # the (folded) name it gave, so a fresh cookie does not let it back in.
    # Added by migration 0005.
    sa.Column("address", sa.Text),
    sa.Column("name_key", sa.Text),
)

# Posts held for a host's decision while a room's approval queue is on. A post
# with no row here is visible (it arrived while the queue was off).
room_approvals = sa.Table(
    "room_approvals",
    metadata,
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("room_id", BigId, sa.ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("network", sa.String(16), primary_key=True),
    sa.Column("post_id", sa.Text, primary_key=True),
    sa.Column("status", sa.String(12), nullable=False),  # pending | approved | rejected
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("decided_at", UTCDateTime),
    sa.Column("decided_by", sa.Text),
    sa.Index("ix_room_approvals_status", "room_id", "status"),
    # A post held in any room is withheld in all (RoomRepo.withheld looks
    # posts up without a room). Added by migration 0005.
    sa.Index("ix_room_approvals_post", "workspace_id", "post_id"),
)

WEB_TABLES = ("users", "rooms", "room_people", "room_approvals")  # migration 0002

"""Tables of room access (migration 0005): what a block of a web guest
extends to. The columns 0005 adds to ``rooms`` (``public``) and
``room_people`` (``address``, ``name_key``) are declared in ``web_schema``.
"""

from __future__ import annotations

import sqlalchemy as sa

from hubbub.store.schema import BigId, UTCDateTime, metadata

# The last address and name each web guest (one per session cookie) or
# viewer posted with: a host's block of that author also blocks these.
web_guests = sa.Table(
    "web_guests",
    metadata,
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("author_id", sa.Text, primary_key=True),  # web:guest:<session id> | web:user:<id>
    sa.Column("address", sa.Text),
    sa.Column("name", sa.Text),
    sa.Column("last_seen", UTCDateTime, nullable=False),
)

ROOM_ACCESS_TABLES = ("web_guests",)

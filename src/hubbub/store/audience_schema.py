"""Tables of audience: Audience audit: followers fetched per connected account, and their engagement.

Registered on the shared ``metadata``; migration 0011 creates them.

What is kept of a follower is what the audit shows or the score reads, all of
it public on the network: id, handle, name, bio (capped), creation time,
the three counts, whether the picture is the default one, whether a link is
set, the network's own automated label. Not kept: pictures, locations,
pinned posts, anything else the network sends. Snapshots expire after the
workspace's retention period (``audience_settings``).
"""

from __future__ import annotations

import sqlalchemy as sa

from hubbub.store.schema import BigId, UTCDateTime, metadata

# One fetch of one list (followers, or whom the account follows) of one
# connected account. ``cursor`` is the network's paging token for the next
# page not yet stored: it is written in the same transaction as the page's
# members, so a fetch that dies resumes from exactly the page it lost.
audience_snapshots = sa.Table(
    "audience_snapshots",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("account", sa.String(100), nullable=False),  # network_accounts.name
    sa.Column("network", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # followers | following
    sa.Column("subject_id", sa.Text, nullable=False),  # the account's id on its network
    sa.Column("subject_handle", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # running | done | stopped
    sa.Column("cursor", sa.Text),
    sa.Column("pages", sa.Integer, nullable=False),
    sa.Column("members", sa.Integer, nullable=False),
    sa.Column("note", sa.Text),  # why a fetch stopped (cap reached, error), secret-free
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Index("ix_audience_snapshots_account", "workspace_id", "account", "kind", "started_at"),
)

audience_members = sa.Table(
    "audience_members",
    metadata,
    sa.Column(
        "snapshot_id",
        BigId,
        sa.ForeignKey("audience_snapshots.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # The primary key makes a page stored twice (a retry after a lost
    # answer) a no-op instead of a duplicate.
    sa.Column("member_id", sa.String(200), primary_key=True),
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),  # order served by the network
    sa.Column("handle", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime),
    sa.Column("posts", sa.BigInteger),
    sa.Column("followers", sa.BigInteger),
    sa.Column("following", sa.BigInteger),
    sa.Column("default_avatar", sa.Boolean),
    sa.Column("has_url", sa.Boolean, nullable=False),
    sa.Column("declared_bot", sa.Boolean, nullable=False),
    sa.Column("declared_by", sa.Text),
    sa.Column("suspicion", sa.Float, nullable=False),
    sa.Column("suspicious", sa.Boolean, nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("fetched_at", UTCDateTime, nullable=False),
    sa.Index("ix_audience_members_order", "snapshot_id", "position"),
)

# Per workspace: how long follower data is kept, and the most X user reads
# one fetch may spend (X bills each user object it returns).
audience_settings = sa.Table(
    "audience_settings",
    metadata,
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("retention_days", sa.Integer, nullable=False),
    sa.Column("x_read_cap", sa.Integer),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

AUDIENCE_TABLES: tuple[str, ...] = ("audience_snapshots", "audience_members", "audience_settings")

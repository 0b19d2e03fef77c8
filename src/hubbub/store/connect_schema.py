"""Tables of the connectors: network accounts (secrets encrypted) and the
health of each running source.

Like ``web_schema`` they live on the shared ``metadata``; migration 0006
creates them. The core store does not import this module.
"""

from __future__ import annotations

import sqlalchemy as sa

from hubbub.store.schema import BigId, UTCDateTime, metadata

# A workspace's credentials for one network account. ``secret`` and
# ``session`` are AES-GCM ciphertexts (hubbub.networks.secrets) under a key
# kept outside the database; ``key_id`` names that key (a fingerprint, not
# the key) so a wrong key gives a clear error instead of garbage.
network_accounts = sa.Table(
    "network_accounts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("network", sa.String(16), nullable=False),  # x | bluesky | mastodon
    sa.Column("server", sa.Text),  # Mastodon base URL; a PDS / AppView for Bluesky
    sa.Column("secret", sa.LargeBinary, nullable=False),
    sa.Column("session", sa.LargeBinary),  # e.g. a Bluesky session, refreshed in place
    sa.Column("key_id", sa.String(32), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("checked_at", UTCDateTime),
    sa.Column("check_result", sa.Text),  # "ok: @name" or the (secret-free) error
    sa.UniqueConstraint("workspace_id", "name", name="uq_network_accounts_name"),
)

# One row per running source, rewritten about once a second by the runtime
# that runs it; read by ``hubbub sources status`` and the pages.
source_health = sa.Table(
    "source_health",
    metadata,
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("network", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),  # HealthSnapshot.as_json()
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

CONNECT_TABLES = ("network_accounts", "source_health")

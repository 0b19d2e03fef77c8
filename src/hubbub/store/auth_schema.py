"""Tables of sign-in: server-side sessions.

A session row is what makes a signed-in cookie worth anything: the cookie
carries a random token, the row its SHA-256 (a copied database does not hand
out live sessions), and deleting the row ends the session at once, whatever
the browser still holds. Registered on the shared ``metadata`` like the web
tables; migration 0004 creates them.
"""

from __future__ import annotations

import sqlalchemy as sa

from hubbub.store import web_schema  # noqa: F401 - the users table the sessions point at
from hubbub.store.schema import BigId, UTCDateTime, metadata

user_sessions = sa.Table(
    "user_sessions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("user_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # hex SHA-256 of the cookie's token; the token itself is never stored.
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    # Absolute end, fixed at sign-in; idle expiry is judged from last_seen_at.
    sa.Column("expires_at", UTCDateTime, nullable=False),
    # Shown to the user so they can tell their sessions apart.
    sa.Column("address", sa.String(64)),
    sa.Column("user_agent", sa.String(200)),
    sa.Index("ix_user_sessions_user", "user_id"),
)

AUTH_TABLES = ("user_sessions",)

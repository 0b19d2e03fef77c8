"""Tables of audit: The audit log: who did what (sign-ins, role changes, account connections, exports, deletions).

Registered on the shared ``metadata``; migration 0009 creates them. Written
and read only through ``hubbub.store.audit.AuditLog``.
"""

from __future__ import annotations

import sqlalchemy as sa

from hubbub.store.schema import BigId, UTCDateTime, metadata

# One row per thing done. Append-only: nothing in Hubbub updates or deletes a
# row (an audit log that the audited can edit proves nothing). The id is the
# order of events and the paging key; ``at`` is for people and ``--since``.
audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    # A user name (users.name is at most 100) or "cli:<os user>".
    sa.Column("actor", sa.String(120), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),  # one of audit.ACTIONS
    # What was acted on: a user name, an account, a saved query, a file.
    sa.Column("target", sa.String(200)),
    # Small JSON object of facts (old/new role, count of rows); never secrets.
    sa.Column("detail", sa.JSON),
    sa.Column("address", sa.String(64)),  # client address of a web request
    sa.Index("ix_audit_events_ws_id", "workspace_id", "id"),
    sa.Index("ix_audit_events_ws_at", "workspace_id", "at"),
    # One kind of event, newest per actor: the last sign-in of each user
    # (``hubbub user list``) and whether an anonymous download was already
    # recorded this hour (``AuditLog.record_once``). The action leads so the
    # list of every workspace's users seeks it too. Migration 0015.
    sa.Index("ix_audit_events_action", "action", "workspace_id", "actor", "at"),
)

AUDIT_TABLES: tuple[str, ...] = ("audit_events",)

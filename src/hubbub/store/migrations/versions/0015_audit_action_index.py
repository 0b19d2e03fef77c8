"""An index on the audit log's kind of event: (action, workspace, actor, time).

Without it, ``hubbub user list`` read the whole log to find each user's last
sign-in, and checking whether an anonymous recap download was already
recorded this hour would read every export. Migration 0009 creates
``audit_events`` from the current metadata, so on a new database the index
exists already: it is created only when missing.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_NAME = "ix_audit_events_action"


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if _NAME not in {i["name"] for i in inspector.get_indexes("audit_events")}:
        op.create_index(_NAME, "audit_events", ["action", "workspace_id", "actor", "at"])


def downgrade() -> None:
    op.drop_index(_NAME, table_name="audit_events")

"""The audit log: who did what (sign-ins, role changes, account connections, exports, deletions).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from alembic import op

from hubbub.store import audit_schema  # registers the tables on the shared metadata
from hubbub.store.schema import metadata

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, tables=[metadata.tables[n] for n in audit_schema.AUDIT_TABLES])


def downgrade() -> None:
    bind = op.get_bind()
    metadata.drop_all(
        bind, tables=[metadata.tables[n] for n in reversed(audit_schema.AUDIT_TABLES)]
    )

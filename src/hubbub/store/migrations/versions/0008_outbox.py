"""The outbox of actions sent to the networks.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from alembic import op

from hubbub.store import outbox_schema  # registers the outbox table on the shared metadata
from hubbub.store.schema import metadata

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, tables=[metadata.tables[n] for n in outbox_schema.OUTBOX_TABLES])


def downgrade() -> None:
    bind = op.get_bind()
    metadata.drop_all(
        bind, tables=[metadata.tables[n] for n in reversed(outbox_schema.OUTBOX_TABLES)]
    )

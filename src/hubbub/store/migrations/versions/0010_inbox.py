"""The team inbox: cases, their timeline, rules, saved replies, business hours.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from alembic import op

from hubbub.store import inbox_schema  # registers the tables on the shared metadata
from hubbub.store.schema import metadata

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, tables=[metadata.tables[n] for n in inbox_schema.INBOX_TABLES])


def downgrade() -> None:
    bind = op.get_bind()
    metadata.drop_all(
        bind, tables=[metadata.tables[n] for n in reversed(inbox_schema.INBOX_TABLES)]
    )

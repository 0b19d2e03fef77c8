"""Audience audit: followers fetched per connected account, and their engagement.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from alembic import op

from hubbub.store import audience_schema  # registers the tables on the shared metadata
from hubbub.store.schema import metadata

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, tables=[metadata.tables[n] for n in audience_schema.AUDIENCE_TABLES])


def downgrade() -> None:
    bind = op.get_bind()
    metadata.drop_all(
        bind, tables=[metadata.tables[n] for n in reversed(audience_schema.AUDIENCE_TABLES)]
    )

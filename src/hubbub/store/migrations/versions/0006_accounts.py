"""Network accounts (secrets encrypted) and source health.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from alembic import op

from hubbub.store import connect_schema  # registers the connector tables on the shared metadata
from hubbub.store.schema import metadata

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(
        bind, tables=[metadata.tables[name] for name in connect_schema.CONNECT_TABLES]
    )


def downgrade() -> None:
    bind = op.get_bind()
    tables = [metadata.tables[name] for name in reversed(connect_schema.CONNECT_TABLES)]
    metadata.drop_all(bind, tables=tables)

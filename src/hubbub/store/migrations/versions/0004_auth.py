"""Server-side sessions (user_sessions).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from alembic import op

from hubbub.store import auth_schema  # registers the sign-in tables on the shared metadata
from hubbub.store.schema import metadata

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, tables=[metadata.tables[name] for name in auth_schema.AUTH_TABLES])


def downgrade() -> None:
    bind = op.get_bind()
    tables = [metadata.tables[name] for name in reversed(auth_schema.AUTH_TABLES)]
    metadata.drop_all(bind, tables=tables)

"""Listening tables: query_matches, post_classes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from alembic import op

from hubbub.store import listen_schema  # registers the listening tables on the shared metadata
from hubbub.store.schema import metadata

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(
        bind, tables=[metadata.tables[name] for name in listen_schema.LISTEN_TABLES]
    )


def downgrade() -> None:
    bind = op.get_bind()
    tables = [metadata.tables[name] for name in reversed(listen_schema.LISTEN_TABLES)]
    metadata.drop_all(bind, tables=tables)

"""Chat rooms: pinned posts and removed posts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from alembic import op

from hubbub.store import chat_schema  # registers the chat tables on the shared metadata
from hubbub.store.schema import metadata

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, tables=[metadata.tables[name] for name in chat_schema.CHAT_TABLES])


def downgrade() -> None:
    bind = op.get_bind()
    tables = [metadata.tables[name] for name in reversed(chat_schema.CHAT_TABLES)]
    metadata.drop_all(bind, tables=tables)

"""Web app tables: users, rooms, room_people, room_approvals.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

from hubbub.store import web_schema  # registers the web tables on the shared metadata
from hubbub.store.schema import metadata

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, tables=[metadata.tables[name] for name in web_schema.WEB_TABLES])


def downgrade() -> None:
    bind = op.get_bind()
    tables = [metadata.tables[name] for name in reversed(web_schema.WEB_TABLES)]
    metadata.drop_all(bind, tables=tables)

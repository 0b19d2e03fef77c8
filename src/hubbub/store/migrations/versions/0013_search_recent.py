"""An index for the newest posts of a workspace, the order of a search page.

Migration 0001 creates ``posts`` from the current metadata, so on a new
database the index exists already: it is created only when missing.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_NAME = "ix_posts_ws_recent"


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if _NAME not in {i["name"] for i in inspector.get_indexes("posts")}:
        op.create_index(_NAME, "posts", ["workspace_id", "deleted", "created_at", "pk"])


def downgrade() -> None:
    op.drop_index(_NAME, table_name="posts")

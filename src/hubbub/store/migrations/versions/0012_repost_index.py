"""An index of posts by the post they repost.

Migration 0001 creates ``posts`` from the current metadata, so on a new
database the index exists already: it is created only when missing.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_NAME = "ix_posts_repost_of"


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if _NAME not in {i["name"] for i in inspector.get_indexes("posts")}:
        op.create_index(
            _NAME,
            "posts",
            ["workspace_id", "network", "repost_of"],
            sqlite_where=sa.text("repost_of IS NOT NULL"),
            postgresql_where=sa.text("repost_of IS NOT NULL"),
        )


def downgrade() -> None:
    op.drop_index(_NAME, table_name="posts")

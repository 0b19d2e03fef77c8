"""One time zone per workspace: the business hours' zone becomes the workspace's.

``hubbub inbox hours --timezone`` stored its zone in ``inbox_settings`` only,
while reports read ``workspaces.timezone``, which nothing could set: a
workspace set to Los Angeles still reported in UTC. Both now read and write
``workspaces.timezone`` (store/workspace_settings.py). A zone set for the
inbox before is the only zone the user ever chose, so it becomes the
workspace's; a workspace whose own column is not UTC was set on purpose
and keeps it. Data only: no schema change, nothing to undo.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE workspaces SET timezone = ("
            " SELECT s.timezone FROM inbox_settings s WHERE s.workspace_id = workspaces.id)"
            " WHERE timezone = 'UTC' AND EXISTS ("
            " SELECT 1 FROM inbox_settings s"
            " WHERE s.workspace_id = workspaces.id AND s.timezone <> 'UTC')"
        )
    )


def downgrade() -> None:
    # The inbox's copy was never changed: nothing to restore.
    pass

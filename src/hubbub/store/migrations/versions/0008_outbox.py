"""The outbox of actions sent to the networks.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Reserved in the migration chain; filled in by the change that needs it.
    pass


def downgrade() -> None:
    pass

"""Server-side sessions and sign-in throttling.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Reserved in the migration chain; filled in by the change that needs it.
    pass


def downgrade() -> None:
    pass

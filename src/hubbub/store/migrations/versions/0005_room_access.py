"""Room access: public/private rooms, guest blocks by person.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Reserved in the migration chain; filled in by the change that needs it.
    pass


def downgrade() -> None:
    pass

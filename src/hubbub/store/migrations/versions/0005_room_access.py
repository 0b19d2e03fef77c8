"""Room access: public/private rooms, guest blocks by person.

- ``rooms.public`` (existing rooms stay public: everyone could read them);
- ``room_people.address`` / ``name_key``: what a block of a web guest extends to;
- ``web_guests``: the last address and name each web guest posted with;
- an index of held posts by post id (a post held in any room is withheld in all).

Migration 0002 creates the web tables from the current metadata, so on a new
database the columns exist already: each is added only when missing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from hubbub.store import room_access_schema  # registers web_guests on the shared metadata
from hubbub.store.schema import metadata

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("rooms", lambda: sa.Column("public", sa.Boolean, nullable=False, server_default=sa.true())),
    ("room_people", lambda: sa.Column("address", sa.Text)),
    ("room_people", lambda: sa.Column("name_key", sa.Text)),
)


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    for table, make in _COLUMNS:
        column = make()
        if column.name not in {c["name"] for c in inspector.get_columns(table)}:
            op.add_column(table, column)
    if "ix_room_approvals_post" not in {i["name"] for i in inspector.get_indexes("room_approvals")}:
        op.create_index("ix_room_approvals_post", "room_approvals", ["workspace_id", "post_id"])
    metadata.create_all(
        bind, tables=[metadata.tables[name] for name in room_access_schema.ROOM_ACCESS_TABLES]
    )


def downgrade() -> None:
    bind = op.get_bind()
    metadata.drop_all(
        bind, tables=[metadata.tables[name] for name in room_access_schema.ROOM_ACCESS_TABLES]
    )
    op.drop_index("ix_room_approvals_post", table_name="room_approvals")
    for table, make in reversed(_COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(make().name)

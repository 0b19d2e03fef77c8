"""Initial schema: workspaces, posts (+ full-text index), terms, aliases,
versions, raw payloads, authors, cursors, saved queries.

The tables are created from ``hubbub.store.schema`` as it stands at this
revision. Any later change to schema.py must come with its own migration
(``alembic revision``); ``tests/store/test_migrations.py`` checks that a
migrated database matches the metadata.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op

from hubbub.store import fulltext
from hubbub.store.schema import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = (
    "workspaces",
    "posts",
    "post_terms",
    "post_aliases",
    "post_versions",
    "raw_payloads",
    "post_raws",
    "authors",
    "source_cursors",
    "saved_queries",
)


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, tables=[metadata.tables[name] for name in TABLES])
    for statement in fulltext.create_statements(bind.dialect.name):
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    for statement in fulltext.drop_statements(bind.dialect.name):
        op.execute(statement)
    metadata.drop_all(bind, tables=[metadata.tables[name] for name in reversed(TABLES)])

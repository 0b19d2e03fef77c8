"""Tables, as SQLAlchemy Core metadata. The migrations in ``migrations/`` create
them; this module is what queries are written against.

Every user-data table carries ``workspace_id`` (directly or through ``posts``);
the store layer adds the workspace condition, never a route.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData()


class UTCDateTime(TypeDecorator[datetime]):
    """Naive UTC in the database on both backends, aware UTC in Python.

    SQLite has no time-zone type; storing naive UTC everywhere keeps sorting and
    comparisons identical on SQLite and PostgreSQL.
    """

    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


# SQLite only makes INTEGER PRIMARY KEY a rowid alias (needed for FTS5
# external content); PostgreSQL gets a 64-bit key.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

workspaces = sa.Table(
    "workspaces",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

posts = sa.Table(
    "posts",
    metadata,
    sa.Column("pk", BigId, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("network", sa.String(16), nullable=False),
    sa.Column("post_id", sa.Text, nullable=False),
    sa.Column("url", sa.Text),
    sa.Column("author_id", sa.Text, nullable=False),
    sa.Column("author_handle", sa.Text, nullable=False),
    sa.Column("author_name", sa.Text),
    sa.Column("text", sa.Text, nullable=False),
    # Normalised tokens of ``text`` (hubbub.query.tokens.index_text): the only
    # thing either full-text engine indexes, so both agree on what a word is.
    sa.Column("search_text", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("langs", sa.JSON, nullable=False),
    sa.Column("reply_to", sa.Text),
    sa.Column("quote_of", sa.Text),
    sa.Column("repost_of", sa.Text),
    sa.Column("conversation_id", sa.Text),
    sa.Column("hashtags", sa.JSON, nullable=False),
    sa.Column("mentions", sa.JSON, nullable=False),
    sa.Column("links", sa.JSON, nullable=False),
    sa.Column("media_count", sa.Integer, nullable=False),
    sa.Column("metrics", sa.JSON, nullable=False),
    sa.Column("place", sa.Text),
    sa.Column("sensitive", sa.Boolean, nullable=False),
    sa.Column("content_warning", sa.Text),
    sa.Column("source", sa.Text),
    sa.Column("edit_ids", sa.JSON, nullable=False),
    sa.Column("version_id", sa.Text),
    sa.Column("edited_at", UTCDateTime),
    sa.Column("withheld", sa.Text),
    sa.Column("deleted", sa.Boolean, nullable=False),
    sa.Column("deleted_at", UTCDateTime),
    sa.Column("seen_at", UTCDateTime),
    sa.Column("embedded", sa.Boolean, nullable=False),
    sa.Column("matching_rules", sa.JSON, nullable=False),
    sa.Column("aliases", sa.JSON, nullable=False),
    sa.Column("stored_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("fetched_at", UTCDateTime),  # when the stored metrics were fetched
    sa.UniqueConstraint("workspace_id", "network", "post_id", name="uq_posts_identity"),
    sa.Index("ix_posts_ws_created", "workspace_id", "created_at"),
    # A search page walks this newest first (store/search_plan.py): the
    # workspace, live posts and the page order in one index. Added by 0013.
    sa.Index("ix_posts_ws_recent", "workspace_id", "deleted", "created_at", "pk"),
    # "Which stored posts repost these?" is asked after every ingest batch
    # (store/repost_index.py); without it each batch scanned every post.
    # Partial: most posts repost nothing. Added by migration 0012.
    sa.Index(
        "ix_posts_repost_of",
        "workspace_id",
        "network",
        "repost_of",
        sqlite_where=sa.text("repost_of IS NOT NULL"),
        postgresql_where=sa.text("repost_of IS NOT NULL"),
    ),
)

# Exact-match facets of a post, folded: h = hashtag, m = mention, l = language
# (both ``pt-br`` and ``pt``), f = author handle (and its user part).
post_terms = sa.Table(
    "post_terms",
    metadata,
    sa.Column("post_pk", BigId, sa.ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(1), primary_key=True),
    sa.Column("value", sa.Text, primary_key=True),
    sa.Index("ix_post_terms_lookup", "kind", "value"),
)

# Other names of a post (Mastodon "server/local-id"). A delete that names an
# alias before its post arrives leaves a row with post_id NULL and tombstone set.
post_aliases = sa.Table(
    "post_aliases",
    metadata,
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("network", sa.String(16), primary_key=True),
    sa.Column("alias", sa.Text, primary_key=True),
    sa.Column("post_id", sa.Text),
    sa.Column("tombstone", sa.Boolean, nullable=False),
    sa.Index("ix_post_aliases_local", "workspace_id", "network", "post_id"),
)

# Earlier texts of edited posts.
post_versions = sa.Table(
    "post_versions",
    metadata,
    sa.Column("post_pk", BigId, sa.ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True),
    sa.Column("version_id", sa.Text, primary_key=True),
    sa.Column("version_rank", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("stored_at", UTCDateTime, nullable=False),
)

raw_payloads = sa.Table(
    "raw_payloads",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("format", sa.String(16)),
    sa.Column("fetched_at", UTCDateTime, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),  # zlib-compressed bytes as received
    sa.UniqueConstraint("workspace_id", "sha256", name="uq_raw_payloads_hash"),
)

post_raws = sa.Table(
    "post_raws",
    metadata,
    sa.Column("post_pk", BigId, sa.ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True),
    sa.Column("raw_id", BigId, sa.ForeignKey("raw_payloads.id"), primary_key=True),
)

authors = sa.Table(
    "authors",
    metadata,
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("network", sa.String(16), primary_key=True),
    sa.Column("author_id", sa.Text, primary_key=True),
    sa.Column("handle", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text),
    sa.Column("followers", sa.BigInteger),
    sa.Column("following", sa.BigInteger),
    sa.Column("posts_count", sa.BigInteger),
    sa.Column("created_at", UTCDateTime),
    sa.Column("verified", sa.Boolean),
    sa.Column("avatar_url", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("url", sa.Text),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

source_cursors = sa.Table(
    "source_cursors",
    metadata,
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

saved_queries = sa.Table(
    "saved_queries",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("query", sa.Text, nullable=False),
    sa.Column("group_name", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("workspace_id", "name", name="uq_saved_queries_name"),
)

"""Tables of listening: which saved query matched which post, and each post's
classification (sentiment, intent, spam, offensive, language).

Like ``web_schema`` they live on the shared ``metadata`` so one Alembic
history covers everything; migration 0003 creates them. ``hubbub.store.schema``
does not import this module: the core store works without listening.
"""

from __future__ import annotations

import sqlalchemy as sa

from hubbub.store.schema import BigId, UTCDateTime, metadata

# One row per (saved query, post) it matched. ``workspace_id`` is redundant with
# the query's, but lets the store scope a read by workspace without a join.
query_matches = sa.Table(
    "query_matches",
    metadata,
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column(
        "query_id", BigId, sa.ForeignKey("saved_queries.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("post_pk", BigId, sa.ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True),
    sa.Column("matched_at", UTCDateTime, nullable=False),
    # Reports read "the posts of query Q"; the PK covers that. This index
    # serves the other direction (which queries matched post P: edits, deletes).
    sa.Index("ix_query_matches_post", "post_pk"),
)

# A post's classification, computed once (in the pipeline, or on demand by a
# report) and kept: classifying is the expensive part of a report.
post_classes = sa.Table(
    "post_classes",
    metadata,
    sa.Column("post_pk", BigId, sa.ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True),
    sa.Column("sentiment", sa.String(12), nullable=False),
    sa.Column("sentiment_score", sa.Float, nullable=False),
    sa.Column("intent", sa.String(12), nullable=False),
    sa.Column("spam", sa.Float, nullable=False),
    sa.Column("offensive", sa.Boolean, nullable=False),
    sa.Column("lang", sa.String(16), nullable=False),
    sa.Column("classified_at", UTCDateTime, nullable=False),
)

LISTEN_TABLES = ("query_matches", "post_classes")

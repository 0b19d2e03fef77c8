"""The outbox: every action Hubbub takes on a network is a row here before
anything is sent (``hubbub.outbox``). Migration 0008 creates it.

A row's ``idempotency_key`` is chosen when the row is written and sent with
every try: Mastodon honours it as ``Idempotency-Key``; for Bluesky it becomes
the record key, so a second create is a conflict instead of a copy. The lease
(``lease_owner`` until ``lease_until``) lets one sender at a time own a row.
"""

from __future__ import annotations

import sqlalchemy as sa

from hubbub.store.schema import BigId, UTCDateTime, metadata

outbox_actions = sa.Table(
    "outbox_actions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    # One `hubbub post` (or one compose) fans out to a row per network; they share a batch.
    sa.Column("batch", sa.String(32), nullable=False),
    sa.Column("account", sa.String(100), nullable=False),
    sa.Column("network", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # post | reply | quote | repost | like | un…
    sa.Column("payload", sa.JSON, nullable=False),  # text, target URL, thread flag…
    sa.Column("idempotency_key", sa.String(64), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # queued|sending|sent|failed|cancelled
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_try_at", UTCDateTime, nullable=False),
    sa.Column("lease_owner", sa.String(64)),
    sa.Column("lease_until", UTCDateTime),
    # Set once the first request of a try has left: from then on a failure
    # means "outcome unknown", and the next try must not create a second post.
    sa.Column("maybe_sent", sa.Boolean, nullable=False, default=False),
    sa.Column("remote_id", sa.Text),
    sa.Column("remote_url", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
    sa.Index("ix_outbox_due", "status", "next_try_at"),
    sa.Index("ix_outbox_account_sent", "workspace_id", "account", "sent_at"),
    sa.Index("ix_outbox_batch", "workspace_id", "batch"),
)

OUTBOX_TABLES = ("outbox_actions",)

"""Tables of inbox: The team inbox: cases, their timeline, rules, saved replies, business hours.

Registered on the shared ``metadata``; migration 0010 creates them. Read and
written only through ``hubbub.store.inbox_repo`` (scoped to one workspace).
"""

from __future__ import annotations

import sqlalchemy as sa

from hubbub.store.schema import BigId, UTCDateTime, metadata

# One conversation with one author on one network. ``thread`` is the root of
# the conversation the first post belongs to (its conversation id, or the
# first post itself): a later post of the same author in the same thread
# joins this case, so (author, thread) is unique per workspace.
inbox_cases = sa.Table(
    "inbox_cases",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("network", sa.String(16), nullable=False),
    sa.Column("author_id", sa.Text, nullable=False),
    sa.Column("author_handle", sa.Text, nullable=False),
    sa.Column("thread", sa.Text, nullable=False),
    # Why the case exists: mention | reply | rule (a saved query's match).
    sa.Column("origin", sa.String(12), nullable=False),
    sa.Column("rule_id", BigId),  # the rule that made it, for origin "rule"
    sa.Column("account", sa.String(100)),  # the connected account it concerns
    sa.Column("status", sa.String(12), nullable=False),  # new|open|pending|resolved|snoozed
    sa.Column("snoozed_until", UTCDateTime),
    sa.Column("priority", sa.String(8), nullable=False),  # low|normal|high|urgent
    sa.Column("assignee", sa.String(100)),  # a user name of the workspace
    sa.Column("intent", sa.String(12)),  # the first post's class, as classified
    sa.Column("sentiment", sa.String(12)),
    # The clock of response times: the customer's first post (the case
    # "arrives" when the customer wrote, not when Hubbub noticed).
    sa.Column("opened_at", UTCDateTime, nullable=False),
    sa.Column("first_response_at", UTCDateTime),
    sa.Column("resolved_at", UTCDateTime),
    sa.Column("last_post_at", UTCDateTime, nullable=False),
    # "Being answered by X until T": a short claim so two agents never write
    # the same answer. Expired claims are ignored, never cleaned up.
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claim_until", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("workspace_id", "network", "author_id", "thread", name="uq_inbox_thread"),
    sa.Index("ix_inbox_cases_ws_status", "workspace_id", "status", "last_post_at"),
    sa.Index("ix_inbox_cases_ws_assignee", "workspace_id", "assignee", "status"),
)

# The customer's posts of a case. A post is in at most one case (the unique
# identity is what makes building cases idempotent).
inbox_case_posts = sa.Table(
    "inbox_case_posts",
    metadata,
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column(
        "case_id", BigId, sa.ForeignKey("inbox_cases.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("network", sa.String(16), nullable=False),
    sa.Column("post_id", sa.Text, nullable=False),
    sa.Column("post_pk", BigId, sa.ForeignKey("posts.pk", ondelete="SET NULL")),
    sa.Column("posted_at", UTCDateTime, nullable=False),
    sa.Column("added_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("workspace_id", "network", "post_id", name="uq_inbox_case_post"),
    sa.Index("ix_inbox_case_posts_case", "case_id", "posted_at"),
)

# The timeline: every post, reply, status change, assignment, note, priority
# and label change, with who and when. Append-only. ``reply_key`` makes a
# reply exactly once: the same key twice is the same reply.
inbox_case_events = sa.Table(
    "inbox_case_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column(
        "case_id", BigId, sa.ForeignKey("inbox_cases.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(120), nullable=False),  # user name, "cli:<user>" or "hubbub"
    sa.Column("kind", sa.String(16), nullable=False),  # one of inbox.model.EVENT_KINDS
    sa.Column("text", sa.Text),  # a note's or a reply's text
    sa.Column("detail", sa.JSON, nullable=False),  # small facts: from/to status, assignee…
    sa.Column("reply_key", sa.String(32)),
    sa.Column("outbox_id", BigId),  # the outbox action a reply became
    sa.UniqueConstraint("workspace_id", "reply_key", name="uq_inbox_reply_key"),
    sa.Index("ix_inbox_case_events_case", "case_id", "id"),
    # The outbox finds the reply it just sent, and case building the cases of
    # sent replies, by this link (migration 0016 adds it to older databases).
    sa.Index("ix_inbox_case_events_outbox", "workspace_id", "outbox_id"),
)

inbox_case_labels = sa.Table(
    "inbox_case_labels",
    metadata,
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column(
        "case_id", BigId, sa.ForeignKey("inbox_cases.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("label", sa.String(40), primary_key=True),
    sa.Index("ix_inbox_case_labels_ws", "workspace_id", "label"),
)

# "Cases from saved query S's matches whose intent is one of I".
inbox_rules = sa.Table(
    "inbox_rules",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column(
        "query_id", BigId, sa.ForeignKey("saved_queries.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("intents", sa.String(64), nullable=False),  # comma-separated, sorted
    sa.Column("created_by", sa.String(120), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("workspace_id", "query_id", name="uq_inbox_rules_query"),
)

inbox_saved_replies = sa.Table(
    "inbox_saved_replies",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("code", sa.String(40), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("updated_by", sa.String(120), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("workspace_id", "code", name="uq_inbox_saved_reply_code"),
)

# Per workspace: business hours (an IANA zone, the weekdays, 0 = Monday, and
# one daily span in minutes after local midnight) and whether new cases are
# assigned round robin. No row: every hour counts, nobody is auto-assigned.
inbox_settings = sa.Table(
    "inbox_settings",
    metadata,
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("days", sa.String(7), nullable=False),  # e.g. "01234"
    sa.Column("start_minute", sa.Integer, nullable=False),
    sa.Column("end_minute", sa.Integer, nullable=False),
    sa.Column("auto_assign", sa.Boolean, nullable=False),
    # Which intents make a mention of (or a reply to) a connected account a
    # case: comma-separated; the default rule is "complaint,question".
    sa.Column("mention_intents", sa.String(64), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Response-time targets per priority, in business minutes.
inbox_targets = sa.Table(
    "inbox_targets",
    metadata,
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("priority", sa.String(8), primary_key=True),
    sa.Column("first_response_minutes", sa.Integer),
    sa.Column("resolution_minutes", sa.Integer),
)

# Agents as the round robin sees them: available or away, a cap of open
# cases, and when each was last given one (the robin's order).
inbox_agents = sa.Table(
    "inbox_agents",
    metadata,
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("user_name", sa.String(100), primary_key=True),
    sa.Column("available", sa.Boolean, nullable=False),
    sa.Column("cap", sa.Integer, nullable=False),
    sa.Column("last_assigned_at", UTCDateTime),
)

# How far case building has read: posts by pk (mentions, replies) and
# listening matches by time (they arrive after their posts).
inbox_cursors = sa.Table(
    "inbox_cursors",
    metadata,
    sa.Column("workspace_id", BigId, sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

INBOX_TABLES: tuple[str, ...] = (
    "inbox_cases",
    "inbox_case_posts",
    "inbox_case_events",
    "inbox_case_labels",
    "inbox_rules",
    "inbox_saved_replies",
    "inbox_settings",
    "inbox_targets",
    "inbox_agents",
    "inbox_cursors",
)

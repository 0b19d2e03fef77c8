"""The inbox's records: what the service returns to the CLI and the page.

Plain frozen dataclasses, built by the store layer from rows; nothing here
touches the database. Times are aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from hubbub.i18n import _, ngettext


class Status(StrEnum):
    NEW = "new"  # nobody has touched it
    OPEN = "open"  # someone is on it
    PENDING = "pending"  # waiting on the customer
    RESOLVED = "resolved"
    SNOOZED = "snoozed"  # out of the way until ``snoozed_until``


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


PRIORITIES = tuple(Priority)  # low → urgent
STATUSES = tuple(Status)
INTENTS = ("complaint", "question", "lead")  # the intents a rule may name
ORIGINS = ("mention", "reply", "rule")
# Timeline kinds. "post" is a customer's post joining the case.
EVENT_KINDS = (
    "created",
    "post",
    "reply",
    "status",
    "assign",
    "note",
    "priority",
    "labels",
    "claim",
)
VIEWS = ("all", "mine", "unassigned")
ROLES_THAT_ACT = ("owner", "agent")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a signed-in user (name and role), or the operator of the
    command line (``role`` None: no role check, as for every CLI command)."""

    name: str
    role: str | None = None

    @property
    def may_act(self) -> bool:
        return self.role is None or self.role in ROLES_THAT_ACT

    @property
    def is_owner(self) -> bool:
        return self.role is None or self.role == "owner"


@dataclass(frozen=True, slots=True)
class Claim:
    """ "Being answered by ``user`` until ``until``"."""

    user: str
    until: datetime


@dataclass(frozen=True, slots=True)
class NotTimed:
    """Why a case has no response-time clocks: its first post was already
    old when Hubbub first saw it (an imported archive, a long outage, a rule
    added later over stored posts), so nobody could have answered it in time
    and timing it would only add years of "breach" to the figures."""

    posted_at: datetime  # the customer's first post (the case's opened_at)
    seen_at: datetime  # when Hubbub made the case of it

    @property
    def age(self) -> timedelta:
        """How old the post was when Hubbub first saw it."""
        return self.seen_at - self.posted_at

    @property
    def reason(self) -> str:
        """ "the post was 3 days old when Hubbub first saw it" (whole hours
        under two days, whole days after)."""
        hours = int(self.age.total_seconds() // 3600)
        if hours < 48:
            age = ngettext("{n} hour", "{n} hours", hours).format(n=hours)
        else:
            age = ngettext("{n} day", "{n} days", hours // 24).format(n=hours // 24)
        return _("the post was {age} old when Hubbub first saw it").format(age=age)

    def as_json(self) -> dict[str, object]:
        return {
            "reason": self.reason,
            "posted_at": self.posted_at.isoformat(),
            "seen_at": self.seen_at.isoformat(),
            "age_hours": round(self.age.total_seconds() / 3600, 2),
        }


@dataclass(frozen=True, slots=True)
class Clock:
    """A response-time target as the case stands: minutes of business time
    left (negative once breached), or when it was met. A case that is not
    timed (``not_timed``) has clocks that measure nothing: no target, no
    minutes, never breached; ``met_at`` still says when it was answered."""

    target_minutes: int | None  # None: no target set for this priority (or not timed)
    used_minutes: float | None  # business minutes so far (or until met); None: not timed
    met_at: datetime | None
    breached: bool
    not_timed: NotTimed | None = None
    # When the clock stopped without being met: the first-response clock of a
    # case resolved with no reply stops at the resolution, so a closed case
    # does not grow later and later. None while it runs, and once met.
    stopped_at: datetime | None = None

    @property
    def left_minutes(self) -> float | None:
        if self.target_minutes is None or self.used_minutes is None:
            return None
        return self.target_minutes - self.used_minutes

    @property
    def late_minutes(self) -> float | None:
        """Business minutes past the target (None while within it)."""
        left = self.left_minutes
        return -left if left is not None and self.breached else None

    @property
    def state(self) -> str:
        """One word the CLI, the JSON and the page all show: ``not timed``
        for a case Hubbub saw too late to time; ``breached`` when the
        target was missed, even if the clock stopped since (a reply two
        hours late is a breach, not "met"); ``met`` when it stopped in
        time; ``resolved without reply`` when the case was resolved unanswered
        before its first-response target passed (past it: ``breached``, by
        the time at resolution); ``running`` while it runs in time; ``no
        target``."""
        if self.not_timed is not None:
            return "not timed"
        if self.breached:
            return "breached"
        if self.target_minutes is None:
            return "no target"
        if self.met_at is not None:
            return "met"
        return "resolved without reply" if self.stopped_at is not None else "running"


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """One row of the case list."""

    id: int
    network: str
    author: str  # the author's handle, as the network gave it (hostile text)
    author_id: str
    status: Status
    priority: Priority
    assignee: str | None
    intent: str | None
    sentiment: str | None
    origin: str
    labels: tuple[str, ...]
    post_ids: tuple[str, ...]  # as ``hubbub search`` prints them, oldest first
    opened_at: datetime
    last_post_at: datetime
    snoozed_until: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    claim: Claim | None  # only a claim that has not expired
    preview: str  # the latest customer post's text, cut short
    # The handle the post or the store knows (None: unknown; a Jetstream post
    # names only a DID) and how to show the author (hubbub.author_labels).
    author_handle: str | None = None
    author_label: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "status": str(self.status),
            "network": self.network,
            "author": self.author,
            "author_id": self.author_id,
            "author_handle": self.author_handle,
            "author_label": self.author_label or self.author,
            "intent": self.intent,
            "sentiment": self.sentiment,
            "priority": str(self.priority),
            "assignee": self.assignee,
            "origin": self.origin,
            "labels": list(self.labels),
            "post_ids": list(self.post_ids),
            "opened_at": self.opened_at.isoformat(),
            "last_post_at": self.last_post_at.isoformat(),
            "snoozed_until": self.snoozed_until.isoformat() if self.snoozed_until else None,
            "first_response_at": (
                self.first_response_at.isoformat() if self.first_response_at else None
            ),
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "being_answered_by": self.claim.user if self.claim else None,
            "preview": self.preview,
        }


@dataclass(frozen=True, slots=True)
class CasePost:
    """A customer's post in a case."""

    network: str
    post_id: str
    url: str | None
    author: str
    text: str  # hostile: render as text
    posted_at: datetime
    intent: str | None
    sentiment: str | None
    author_handle: str | None = None  # as CaseSummary's
    author_label: str = ""


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One line of a case's timeline."""

    id: int
    at: datetime
    actor: str
    kind: str  # one of EVENT_KINDS
    text: str | None  # a note's or reply's text
    detail: dict[str, object] = field(default_factory=dict)
    # For replies: the outbox action and how it stands (queued, sent…).
    outbox_id: int | None = None
    outbox_status: str | None = None
    url: str | None = None  # where a sent reply can be seen
    # Why the last try failed (redacted and cleaned when stored; hostile all
    # the same: shown as text), whether the network may have it already (a
    # retry could post twice), and the state in words a person acts on
    # (``hubbub.outbox.status_text``: "failed: not sent, safe to retry: …").
    outbox_error: str | None = None
    outbox_maybe_sent: bool = False
    outbox_text: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "kind": self.kind,
            "text": self.text,
            "detail": dict(self.detail),
            "outbox_id": self.outbox_id,
            "outbox_status": self.outbox_status,
            "outbox_error": self.outbox_error,
            "outbox_maybe_sent": self.outbox_maybe_sent,
            "outbox_text": self.outbox_text,
            "url": self.url,
        }


@dataclass(frozen=True, slots=True)
class Accuracy:
    """The classifiers' measured accuracy, shown beside their guesses: the
    headline figure and the line for people (metric, baseline, data)."""

    intent: float | None
    sentiment: float | None
    intent_note: str = ""
    sentiment_note: str = ""


@dataclass(frozen=True, slots=True)
class Case:
    """A case with everything the case pane shows."""

    summary: CaseSummary
    posts: tuple[CasePost, ...]
    timeline: tuple[CaseEvent, ...]
    first_response: Clock
    resolution: Clock
    accuracy: Accuracy
    account: str | None  # the connected account a reply goes out from

    @property
    def id(self) -> int:
        return self.summary.id

    @property
    def not_timed(self) -> NotTimed | None:
        """Why the case has no response-time clocks, or None when it is timed."""
        return self.first_response.not_timed

    def as_json(self) -> dict[str, object]:
        def clock(c: Clock) -> dict[str, object]:
            return {
                "target_minutes": c.target_minutes,
                "used_minutes": None if c.used_minutes is None else round(c.used_minutes, 2),
                "left_minutes": None if c.left_minutes is None else round(c.left_minutes, 2),
                "met_at": c.met_at.isoformat() if c.met_at else None,
                "stopped_at": c.stopped_at.isoformat() if c.stopped_at else None,
                "breached": c.breached,
                "late_minutes": None if c.late_minutes is None else round(c.late_minutes, 2),
                "state": c.state,
            }

        return {
            **self.summary.as_json(),
            "account": self.account,
            "posts": [
                {
                    "network": p.network,
                    "post_id": p.post_id,
                    "url": p.url,
                    "author": p.author,
                    "author_handle": p.author_handle,
                    "author_label": p.author_label or p.author,
                    "text": p.text,
                    "posted_at": p.posted_at.isoformat(),
                    "intent": p.intent,
                    "sentiment": p.sentiment,
                }
                for p in self.posts
            ],
            "timeline": [e.as_json() for e in self.timeline],
            "first_response": clock(self.first_response),
            "resolution": clock(self.resolution),
            "not_timed": self.not_timed.as_json() if self.not_timed is not None else None,
            "accuracy": {
                "intent": self.accuracy.intent,
                "sentiment": self.accuracy.sentiment,
                "intent_note": self.accuracy.intent_note,
                "sentiment_note": self.accuracy.sentiment_note,
            },
        }


@dataclass(frozen=True, slots=True)
class SavedReply:
    code: str  # short: letters, digits, '-', '_'
    text: str  # with ``{field}`` places
    updated_by: str
    updated_at: datetime
    fields: tuple[str, ...]  # the names the text uses


@dataclass(frozen=True, slots=True)
class Rule:
    id: int
    saved_query: str
    intents: tuple[str, ...]
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Hours:
    """Business hours: weekdays (0 = Monday) and one daily span, local time."""

    timezone: str = "UTC"
    days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    start_minute: int = 0
    end_minute: int = 24 * 60
    auto_assign: bool = False
    # Mentions of (and replies to) a connected account with these intents
    # become cases: the default rule.
    mention_intents: tuple[str, ...] = ("complaint", "question")

    @property
    def always(self) -> bool:
        return len(self.days) == 7 and self.start_minute == 0 and self.end_minute == 24 * 60


@dataclass(frozen=True, slots=True)
class Target:
    priority: Priority
    first_response_minutes: int | None
    resolution_minutes: int | None


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    role: str
    available: bool
    cap: int
    open_cases: int


@dataclass(frozen=True, slots=True)
class Counts:
    """How many cases each view holds, for the page's sidebar."""

    all: int
    mine: int
    unassigned: int
    by_status: dict[str, int]

"""The audit of one account's latest follower snapshot: totals and shares
(engaged / active / passive / suspicious), top engaged followers, the
suspicious list with reasons, change since the previous snapshot, and one
row per follower for CSV. The command line and the page both call
``build_audit`` and ``follower_rows`` on the same snapshot, so they agree.

Members are streamed from the store; what is held in memory is the
engagement of followers who interacted, the top lists (bounded) and the
ids of the previous snapshot for the change count.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hubbub.audience.bot_model import accuracy
from hubbub.audience.engagement import CLASSES, Engagement, measure
from hubbub.store.audience_repo import AudienceRepo, Member, Snapshot

TOP = 20
SUSPICIOUS_SHOWN = 200
MAX_WINDOW_DAYS = 3650
_WINDOW = re.compile(r"^(\d{1,4})([dw])$")
LIKES_NOTE = "likes are not counted: the stored posts do not say who liked them"


class AuditError(LookupError):
    """No snapshot to audit (the web answers 404)."""


def parse_window(text: str) -> timedelta:
    """``90d`` or ``12w``; 1 day to 10 years."""
    found = _WINDOW.match(text.strip().lower())
    if not found:
        raise ValueError("a window is a number of days or weeks, e.g. 90d or 12w")
    days = int(found.group(1)) * (7 if found.group(2) == "w" else 1)
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise ValueError(f"a window is 1 to {MAX_WINDOW_DAYS} days")
    return timedelta(days=days)


@dataclass(frozen=True, slots=True)
class FollowerRow:
    network: str
    member: Member
    klass: str
    replies: int
    mentions: int
    quotes: int
    reposts: int
    chats: int
    answered: int

    @property
    def interactions(self) -> int:
        return self.replies + self.mentions + self.quotes + self.reposts + self.chats

    def as_json(self) -> dict[str, object]:
        m = self.member
        return {
            "network": self.network,
            "id": m.member_id,
            "handle": m.handle,
            "name": m.name,
            "class": self.klass,
            "replies": self.replies,
            "mentions": self.mentions,
            "quotes": self.quotes,
            "reposts": self.reposts,
            "chats": self.chats,
            "answered": self.answered,
            "suspicion": None if m.suspicion is None else round(m.suspicion, 4),
            "suspicious": m.suspicious,  # None: unknown (not scored)
            "reasons": list(m.reasons),
            "declared_by": m.declared_by,
            "followers": m.followers,
            "following": m.following,
            "posts": m.posts,
            "created_at": m.created_at.isoformat() if m.created_at else None,
        }


@dataclass(frozen=True, slots=True)
class Audit:
    account: str
    snapshot: Snapshot
    previous: Snapshot | None
    since: datetime
    until: datetime
    totals: dict[str, int]
    gained: int | None
    lost: int | None
    top_engaged: list[FollowerRow]
    suspicious: list[FollowerRow]
    accuracy: dict[str, object]
    engagement: Engagement  # kept so the page lists followers without measuring again

    @property
    def followers(self) -> int:
        return self.totals["followers"]

    def share(self, key: str) -> float:
        return self.totals[key] / self.followers if self.followers else 0.0

    def as_json(self) -> dict[str, object]:
        return {
            "account": self.account,
            "network": self.snapshot.network,
            "handle": self.snapshot.subject_handle,
            "snapshot": {
                "id": self.snapshot.id,
                "state": self.snapshot.state,
                "started_at": self.snapshot.started_at.isoformat(),
                "finished_at": self.snapshot.finished_at.isoformat()
                if self.snapshot.finished_at
                else None,
                "expires_at": self.snapshot.expires_at.isoformat(),
            },
            "window": {"since": self.since.isoformat(), "until": self.until.isoformat()},
            "totals": dict(self.totals),
            "shares": {
                k: round(self.share(k), 4)
                for k in (*CLASSES, "suspicious", "declared_bots", "unscored")
            },
            "change": {
                "previous_snapshot": self.previous.id if self.previous else None,
                "gained": self.gained,
                "lost": self.lost,
            },
            "top_engaged": [r.as_json() for r in self.top_engaged],
            "suspicious": [r.as_json() for r in self.suspicious],
            "accuracy": self.accuracy,
            "notes": [LIKES_NOTE, *self.notes()],
        }

    def notes(self) -> list[str]:
        """What a reader must know about the totals beyond likes."""
        unscored = self.totals["unscored"]
        if not unscored:
            return []
        return [unscored_note(unscored, self.followers)]


def unscored_note(unscored: int, followers: int) -> str:
    """Why some followers have no score, and that they count neither way."""
    return (
        f"{unscored:,} of {followers:,} followers could not be scored: their profiles give "
        "no post or follower counts. They are counted neither as suspicious nor as genuine."
    )


def accuracy_summary() -> dict[str, object]:
    """The measured figures shown beside every score (docs/audience.md)."""
    figures = accuracy()
    # Hand-labelled, not computed: docs/audience.md "On today's accounts".
    precision = figures.get("precision_on_recent_x_profiles")
    return {
        "f1_suspicious_cv": figures.get("f1_suspicious"),
        "precision_cv": figures.get("precision_suspicious"),
        "recall_cv": figures.get("recall_suspicious"),
        "threshold": figures.get("threshold"),
        "f1_suspicious_cv_cross_network": figures.get("cross_network_f1_suspicious"),
        "threshold_cross_network": figures.get("cross_network_threshold"),
        "measured_on": "10-fold cross-validation, Cresci 2017 (X profiles from 2014-2015)",
        "precision_on_recent_x_profiles": precision,
        "caution": f"on 2021-2022 X profiles about {precision} of flagged accounts looked fake "
        "to a human reader; official accounts, brands and very active political accounts are "
        "often flagged wrongly. A score is worth a look, not a verdict.",
    }


def latest(
    repo: AudienceRepo, account: str, snapshot_id: int | None = None
) -> tuple[Snapshot, Snapshot | None]:
    """The snapshot to audit (the newest finished one, or the one named) and
    the finished one before it."""
    done = [s for s in repo.snapshots(account) if s.state == "done"]
    if snapshot_id is not None:
        chosen = next((s for s in done if s.id == snapshot_id), None)
    else:
        chosen = done[0] if done else None
    if chosen is None:
        raise AuditError(f"no finished follower snapshot of {account!r}")
    older = [s for s in done if s.id < chosen.id]
    return chosen, (older[0] if older else None)


def _rows(repo: AudienceRepo, snap: Snapshot, eng: Engagement) -> Iterator[FollowerRow]:
    for m in repo.iter_members(snap.id):
        t = eng.of(m.member_id, m.handle)
        yield FollowerRow(
            snap.network,
            m,
            t.klass(),
            t.replies,
            t.mentions,
            t.quotes,
            t.reposts,
            t.chats,
            t.answered,
        )


def follower_rows(
    repo: AudienceRepo,
    account: str,
    window: timedelta,
    *,
    snapshot_id: int | None = None,
    now: datetime | None = None,
) -> Iterator[FollowerRow]:
    """Every follower of the snapshot with its figures, in served order (CSV)."""
    snap, _previous = latest(repo, account, snapshot_id)
    until = now or datetime.now(UTC)
    eng = measure(repo, snap.network, snap.subject_id, snap.subject_handle, until - window, until)
    yield from _rows(repo, snap, eng)


def build_audit(
    repo: AudienceRepo,
    account: str,
    window: timedelta,
    *,
    snapshot_id: int | None = None,
    now: datetime | None = None,
) -> Audit:
    snap, previous = latest(repo, account, snapshot_id)
    until = now or datetime.now(UTC)
    since = until - window
    eng = measure(repo, snap.network, snap.subject_id, snap.subject_handle, since, until)
    totals = {"followers": 0, "engaged": 0, "active": 0, "passive": 0, "suspicious": 0}
    # unscored: no score and no network label, so neither suspicious nor genuine.
    totals["declared_bots"] = totals["unscored"] = 0
    top: list[tuple[int, int, FollowerRow]] = []
    sus: list[tuple[float, int, FollowerRow]] = []
    current: set[str] = set()
    for n, row in enumerate(_rows(repo, snap, eng)):
        totals["followers"] += 1
        totals[row.klass] += 1
        current.add(row.member.member_id)
        if row.member.declared_bot:
            totals["declared_bots"] += 1
        if row.member.suspicious is None:
            totals["unscored"] += 1
        if row.member.suspicious:
            totals["suspicious"] += 1
            # A network's bot label without counts has no score: listed last.
            suspicion = -1.0 if row.member.suspicion is None else row.member.suspicion
            item = (suspicion, -n, row)
            if len(sus) < SUSPICIOUS_SHOWN:
                heapq.heappush(sus, item)
            else:
                heapq.heappushpop(sus, item)
        if row.klass != "passive":
            entry = (row.interactions, -n, row)
            if len(top) < TOP:
                heapq.heappush(top, entry)
            else:
                heapq.heappushpop(top, entry)
    gained = lost = None
    if previous is not None:
        before = repo.member_ids(previous.id)
        gained = len(current - before)
        lost = len(before - current)
    return Audit(
        account=account,
        snapshot=snap,
        previous=previous,
        since=since,
        until=until,
        totals=totals,
        gained=gained,
        lost=lost,
        top_engaged=[e[2] for e in sorted(top, key=lambda e: (-e[0], -e[1]))],
        suspicious=[e[2] for e in sorted(sus, key=lambda e: (-e[0], -e[1]))],
        accuracy=accuracy_summary(),
        engagement=eng,
    )


def audit_rows(repo: AudienceRepo, audit: Audit) -> Iterator[FollowerRow]:
    """The audited snapshot's followers with the audit's own engagement."""
    yield from _rows(repo, audit.snapshot, audit.engagement)

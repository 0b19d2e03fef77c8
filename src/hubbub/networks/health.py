"""Source health a person can read: what each network source is doing now.

A ``HealthTracker`` belongs to one source. The source calls it as things
happen (``connected``, ``reconnecting``, ``rate_limited``, ``stalled``,
``stopped``, ``events``, ``gap_found``…); the tracker keeps a
``HealthSnapshot`` and marks itself dirty. The runtime's ``HealthBoard``
collects every tracker and writes the dirty snapshots to the store about
once a second (``hubbub.store.source_health``), so ``hubbub sources status``
in another process, the room header and the status page all read the same
rows. Nothing here touches the database.

Snapshots hold no secrets: a source passes reasons through
``hubbub.sources.base.redact`` (``stopped`` and ``reconnecting`` do it here too).
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from hubbub.networks.clock import Clock, SystemClock
from hubbub.sources.base import redact

RATE_WINDOW = 60.0  # seconds of events behind "posts per minute"


class State(StrEnum):
    STARTING = "starting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"  # attempt N failed or dropped; next try at T
    RATE_LIMITED = "rate_limited"  # until T
    STALLED = "stalled"  # silence past the stall limit; reconnecting next
    STOPPED = "stopped"  # for good (bad credentials, stopped by the operator); see reason
    # Never set by a source: a reader's verdict on a stored row whose runtime
    # stopped writing without saying so (SIGKILL, a crash, a lost machine).
    STALE = "stale"


@dataclass(slots=True)
class HealthSnapshot:
    source: str
    network: str
    state: State = State.STARTING
    attempt: int = 0  # failed attempts in a row (reconnecting)
    next_at: float | None = None  # unix time of the next attempt (reconnecting)
    until: float | None = None  # unix time the rate limit ends (rate_limited)
    reason: str | None = None  # last error, or why it stopped
    last_event_at: float | None = None  # unix time of the last post received
    posts_per_minute: float = 0.0
    posts: int = 0  # posts received since this process started the source
    gaps_found: int = 0  # disconnections that may have lost posts
    gaps_backfilled: int = 0  # ... of which a backfill has filled
    posts_missed: int = 0  # posts known lost (outside every backfill window)
    updated_at: float = 0.0
    via: str | None = None  # what the last connection speaks to, e.g. "jetstream v2 at host"
    # What the source follows, kept in step with the workspace apart from the
    # connection (X stream rules): a connected stream whose rules cannot be
    # updated still delivers, but not what was followed since, so it is
    # shown beside the state, which stays the connection's.
    rules_error: str | None = None  # why the last sync failed; None when in step
    rules_synced_at: float | None = None  # unix time of the last successful sync
    rules_attempt: int = 0  # failed syncs in a row
    rules_next_at: float | None = None  # unix time of the next sync try

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["state"] = str(self.state)
        return out

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> HealthSnapshot:
        known = {f for f in cls.__dataclass_fields__}  # noqa: C416 - field names
        kwargs = {k: v for k, v in value.items() if k in known}
        kwargs["state"] = State(kwargs.get("state", "starting"))
        return cls(**kwargs)

    def line(self, now: float | None = None) -> str:
        """One line for people: ``reconnecting (try 3, next at 12:03:05)``."""
        from datetime import UTC, datetime

        def at(ts: float | None) -> str:
            if ts is None:
                return "?"
            return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S UTC")

        if self.state is State.STOPPED:
            return f"stopped: {self.reason or 'no reason given'}"
        if self.state is State.STALE:
            return f"stale: worker not running (last seen {at(self.updated_at)})"
        if self.state is State.RECONNECTING:
            line = f"reconnecting (try {self.attempt + 1}, next at {at(self.next_at)})"
        elif self.state is State.RATE_LIMITED:
            line = f"rate-limited until {at(self.until)}"
        else:
            line = str(self.state)
        # Before the first sync a failing sync is the state's own reason
        # (x:stream waits for it): said once.
        if self.rules_error is not None and self.rules_error != self.reason:
            line += "; " + self.rules_line()
        return line

    def rules_line(self) -> str:
        """``rules out of sync (last synced 12:00:00 UTC; try 3 at 12:05:05 UTC): why``."""
        from datetime import UTC, datetime

        def at(ts: float | None) -> str:
            if ts is None:
                return "never"
            return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S UTC")

        when = f"last synced {at(self.rules_synced_at)}"
        if self.rules_next_at is not None:
            when += f"; try {self.rules_attempt + 1} at {at(self.rules_next_at)}"
        return f"rules out of sync ({when}): {self.rules_error}"

    def seen_at(self, now: float, stale_after: float) -> HealthSnapshot:
        """This snapshot as a reader at ``now`` should show it: a source whose
        runtime has not written for ``stale_after`` seconds is ``stale``,
        unless it had stopped: a stopped source's row is its last word and
        stays true. Counters and the last error are kept as they were."""
        if self.state in (State.STOPPED, State.STALE) or now - self.updated_at <= stale_after:
            return self
        out = HealthSnapshot.from_json(self.as_json())
        out.state = State.STALE
        out.next_at = out.until = None  # nobody is going to try again at T
        out.rules_next_at = None
        return out


@dataclass(slots=True)
class HealthTracker:
    """The live health of one source (see module doc)."""

    source: str
    network: str
    clock: Clock = field(default_factory=SystemClock)
    snapshot: HealthSnapshot = field(init=False)
    dirty: bool = field(default=True, init=False)
    _recent: deque[tuple[float, int]] = field(default_factory=deque, init=False)
    # Sum of the counts in _recent, kept as they come and go: summing the
    # window on every event was quadratic at firehose rates.
    _in_window: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.snapshot = HealthSnapshot(self.source, self.network, updated_at=self.clock.time())

    def _set(self, state: State, **changes: Any) -> None:
        snap = self.snapshot
        snap.state = state
        for key, value in changes.items():
            setattr(snap, key, value)
        snap.updated_at = self.clock.time()
        self.dirty = True

    def starting(self) -> None:
        """A new source under this name is about to run: the state, the last
        error and the retry times of a source that ran under it before go
        (its counters stay: they are this name's history in this process)."""
        self._set(
            State.STARTING,
            attempt=0,
            next_at=None,
            until=None,
            reason=None,
            rules_error=None,
            rules_attempt=0,
            rules_next_at=None,
        )

    def connected(self, via: str | None = None) -> None:
        changes: dict[str, Any] = {"via": via} if via is not None else {}
        self._set(State.CONNECTED, attempt=0, next_at=None, until=None, **changes)

    def reconnecting(self, attempt: int, delay: float, reason: str | None = None) -> None:
        reason = redact(reason) if reason else self.snapshot.reason
        self._set(
            State.RECONNECTING,
            attempt=attempt,
            next_at=self.clock.time() + delay,
            until=None,
            reason=reason,
        )

    def rate_limited(self, delay: float, reason: str | None = None) -> None:
        until = self.clock.time() + delay
        self._set(State.RATE_LIMITED, until=until, next_at=until, reason=reason)

    def stalled(self, seconds: float) -> None:
        self._set(State.STALLED, reason=f"no data for {seconds:g} s")

    def stopped(self, reason: str) -> None:
        """Stopped for good: nothing follows any rules any more, so a rule
        sync's error and times go with the state (kept, a stopped row read
        back by ``/api/health`` would say "degraded" until the source ran
        again, and the runtime stops every source at shutdown)."""
        self._set(
            State.STOPPED,
            reason=redact(reason),
            next_at=None,
            rules_error=None,
            rules_synced_at=None,
            rules_attempt=0,
            rules_next_at=None,
        )

    def rules_synced(self) -> None:
        """The followed rules are in step with the workspace now. The state
        is left alone: it is the connection's."""
        if self.snapshot.state is State.STOPPED:
            return  # a sync racing the stop: a stopped source follows nothing
        self._set(
            self.snapshot.state,
            rules_error=None,
            rules_attempt=0,
            rules_next_at=None,
            rules_synced_at=self.clock.time(),
        )

    def rules_failed(self, attempt: int, delay: float, reason: str) -> None:
        """Sync ``attempt`` failed; the next try is in ``delay`` seconds.
        The state is left alone (a connected stream stays connected)."""
        if self.snapshot.state is State.STOPPED:
            return  # as in rules_synced: nothing to show beside "stopped"
        self._set(
            self.snapshot.state,
            rules_error=redact(reason),
            rules_attempt=attempt,
            rules_next_at=self.clock.time() + delay,
        )

    def events(self, posts: int) -> None:
        """``posts`` posts arrived (live or backfilled)."""
        if posts <= 0:
            return
        now = self.clock.monotonic()
        self._recent.append((now, posts))
        self._in_window += posts
        self._trim(now)
        snap = self.snapshot
        snap.posts += posts
        snap.last_event_at = self.clock.time()
        snap.posts_per_minute = self._in_window * 60.0 / RATE_WINDOW
        snap.updated_at = snap.last_event_at
        self.dirty = True

    def _trim(self, now: float) -> None:
        while self._recent and self._recent[0][0] < now - RATE_WINDOW:
            self._in_window -= self._recent.popleft()[1]

    def gap_found(self) -> None:
        self.snapshot.gaps_found += 1
        self.dirty = True

    def gap_backfilled(self) -> None:
        self.snapshot.gaps_backfilled += 1
        self.dirty = True

    def missed(self, posts: int) -> None:
        self.snapshot.posts_missed += max(0, posts)
        self.dirty = True

    def take(self) -> HealthSnapshot | None:
        """The snapshot to write if it changed since the last take, else None."""
        if not self.dirty:
            return None
        self.dirty = False
        # Refresh the per-minute rate so a quiet source decays to 0.
        now = self.clock.monotonic()
        self._trim(now)
        self.snapshot.posts_per_minute = self._in_window * 60.0 / RATE_WINDOW
        return HealthSnapshot.from_json(self.snapshot.as_json())


class HealthBoard:
    """Every tracker of a runtime; ``take_dirty`` hands the writer what changed."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self._trackers: dict[str, HealthTracker] = {}

    def tracker(self, source: str, network: str) -> HealthTracker:
        found = self._trackers.get(source)
        if found is None:
            found = self._trackers[source] = HealthTracker(source, network, self.clock)
        return found

    def trackers(self) -> list[HealthTracker]:
        return list(self._trackers.values())

    def take_dirty(self) -> list[HealthSnapshot]:
        out: list[HealthSnapshot] = []
        for tracker in self._trackers.values():
            # A rate that decays with time is news even without events.
            if tracker.snapshot.posts_per_minute and tracker._recent:
                tracker.dirty = True
            snap = tracker.take()
            if snap is not None:
                out.append(snap)
        return out

"""Business hours: how many minutes of an interval a team was at work, and
the response-time clocks of a case.

Each local day's span is turned into UTC through the workspace's IANA zone,
so a day that gains or loses an hour (daylight saving) is measured as it
was lived: 09:00-17:00 is eight hours on every working day, whatever the
UTC offset did overnight. A span that starts or ends inside a skipped hour
takes the offset before the change (``fold=0``), as ``zoneinfo`` does.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hubbub.inbox.errors import InboxError
from hubbub.inbox.model import INTENTS, Clock, Hours, NotTimed, Target

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_SPAN_DAYS = 3 * 366  # an interval longer than this is counted up to it (a guard)
# A case is timed only when Hubbub saw its first post within this long of
# the post being written. A day covers a normal outage (a worker down
# overnight, a source catching up), whose cases are late work the team
# should see as late; a post older than that when it arrives (an imported
# archive, a long outage, a rule added later over stored posts) is history,
# not work that was waiting, and timing it would read as years of breach.
TIMED_WITHIN = timedelta(hours=24)


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; InboxError when there is none of that name."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        raise InboxError(f"unknown time zone {name!r} (an IANA name, e.g. Europe/Warsaw)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InboxError(f"unknown time zone {name!r} (an IANA name, e.g. Europe/Warsaw)") from None


def check_hours(hours: Hours) -> None:
    """InboxError unless ``hours`` is usable: a known zone, at least one
    weekday 0-6, 0 <= start < end <= 1440 minutes."""
    zone(hours.timezone)
    if not hours.days or any(d not in range(7) for d in hours.days):
        raise InboxError("name at least one working day (mon … sun)")
    if not 0 <= hours.start_minute < hours.end_minute <= 24 * 60:
        raise InboxError("the working day starts before it ends, within one day")
    bad = [i for i in hours.mention_intents if i not in INTENTS]
    if bad:
        raise InboxError(f"unknown intent {bad[0]!r} ({', '.join(INTENTS)})")


def parse_days(text: str) -> tuple[int, ...]:
    """``mon-fri`` / ``mon,wed,fri`` / ``sat-sun`` → weekday numbers (0 = Monday)."""
    out: set[int] = set()
    for part in (p.strip().lower() for p in text.split(",") if p.strip()):
        first, sep, last = part.partition("-")
        if first[:3] not in DAY_NAMES or (sep and last[:3] not in DAY_NAMES):
            raise InboxError(f"unknown day {part!r} (mon, tue, wed, thu, fri, sat, sun)")
        a = DAY_NAMES.index(first[:3])
        b = DAY_NAMES.index(last[:3]) if sep else a
        i = a
        while True:
            out.add(i)
            if i == b:
                break
            i = (i + 1) % 7
    if not out:
        raise InboxError("name at least one working day (mon … sun)")
    return tuple(sorted(out))


def parse_span(text: str) -> tuple[int, int]:
    """``09:00-17:00`` → (540, 1020); ``24:00`` is the end of the day."""
    try:
        start, end = (p.strip() for p in text.split("-", 1))
        minutes = []
        for value in (start, end):
            h, m = value.split(":")
            if not (h.isdigit() and m.isdigit() and len(m) == 2):
                raise ValueError
            minutes.append(int(h) * 60 + int(m))
    except ValueError:
        raise InboxError(f"hours look like 09:00-17:00, not {text!r}") from None
    if not 0 <= minutes[0] < minutes[1] <= 24 * 60 or int(start.split(":")[1]) > 59:
        raise InboxError(f"hours look like 09:00-17:00, not {text!r}")
    return minutes[0], minutes[1]


def _local(day: date, minute: int, tz: ZoneInfo) -> datetime:
    if minute >= 24 * 60:  # the end of the day is the next day's midnight
        return datetime.combine(day + timedelta(days=1), time(0), tz)
    return datetime.combine(day, time(minute // 60, minute % 60), tz)


def business_minutes(start: datetime, end: datetime, hours: Hours) -> float:
    """Minutes of [start, end) inside business hours (both aware)."""
    if end <= start:
        return 0.0
    if hours.always:
        return (end - start).total_seconds() / 60
    tz = zone(hours.timezone)
    end = min(end, start + timedelta(days=MAX_SPAN_DAYS))
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    total = 0.0
    while day <= last:
        if day.weekday() in hours.days:
            open_at = _local(day, hours.start_minute, tz)
            close_at = _local(day, hours.end_minute, tz)
            lo, hi = max(start, open_at), min(end, close_at)
            if hi > lo:
                total += (hi - lo).total_seconds() / 60
        day += timedelta(days=1)
    return total


def not_timed(opened_at: datetime, seen_at: datetime) -> NotTimed | None:
    """Why a case opened by a post written at ``opened_at`` and first seen
    (made a case) at ``seen_at`` is not timed; None when it is timed
    (seen within ``TIMED_WITHIN``, the boundary itself included)."""
    if seen_at - opened_at > TIMED_WITHIN:
        return NotTimed(posted_at=opened_at, seen_at=seen_at)
    return None


def _clock(
    start: datetime,
    met: datetime | None,
    target: int | None,
    hours: Hours,
    now: datetime,
    stopped: datetime | None = None,
) -> Clock:
    """``stopped``: when the clock stopped unmet (see ``Clock.stopped_at``)."""
    stopped = stopped if met is None else None
    used = business_minutes(start, met or stopped or now, hours)
    breached = target is not None and used > target
    return Clock(
        target_minutes=target, used_minutes=used, met_at=met, breached=breached, stopped_at=stopped
    )


def clocks_for(
    *,
    opened_at: datetime,
    seen_at: datetime,
    first_response_at: datetime | None,
    resolved_at: datetime | None,
    target: Target,
    hours: Hours,
    now: datetime,
) -> tuple[Clock, Clock]:
    """The first-response and resolution clocks of a case: business minutes
    used so far (or until met) against its priority's targets. A case first
    seen (``seen_at``, when it was made) long after its post (see
    ``TIMED_WITHIN``) gets two clocks that measure nothing, with the reason.

    A case resolved without a reply stops its first-response clock at the
    resolution (nobody can answer it any more): breached if the target had
    passed by then, else "resolved without reply". ``resolved_at`` is given
    only while the case is resolved, so reopening it starts the clock again."""
    why = not_timed(opened_at, seen_at)
    if why is not None:
        return (
            Clock(None, None, met_at=first_response_at, breached=False, not_timed=why),
            Clock(None, None, met_at=resolved_at, breached=False, not_timed=why),
        )
    return (
        _clock(
            opened_at,
            first_response_at,
            target.first_response_minutes,
            hours,
            now,
            stopped=resolved_at,
        ),
        _clock(opened_at, resolved_at, target.resolution_minutes, hours, now),
    )

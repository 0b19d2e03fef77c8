"""Volume over time in the workspace's time zone, and spikes.

A spike is a bucket whose value is far above its own recent baseline: a robust
z-score ``(x - median) / scale`` over the trailing ``window`` buckets, with
``scale = max(1.4826 * MAD, min_scale)``. Median and MAD (median absolute
deviation) rather than mean and standard deviation, so one earlier spike does
not hide the next; the floor on the scale keeps a flat baseline (MAD 0) from
turning any small wobble into an alert. 3.5 is the usual cut-off for robust
z-scores (Iglewicz and Hoaglin).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, slots=True)
class Spike:
    index: int
    value: float
    baseline: float  # the trailing median
    z: float


def robust_spikes(
    values: Sequence[float | None],
    *,
    window: int = 7,
    threshold: float = 3.5,
    min_history: int = 3,
    min_scale: float = 1.0,
    min_value: float = 0.0,
) -> list[Spike]:
    """Buckets whose value is ``threshold`` robust z-scores above the median
    of the previous ``window`` buckets. ``None`` values (a bucket too small to
    judge) are neither judged nor part of a baseline."""
    spikes: list[Spike] = []
    for i, value in enumerate(values):
        if value is None or value < min_value:
            continue
        history = [v for v in values[max(0, i - window) : i] if v is not None]
        if len(history) < min_history:
            continue
        centre = median(history)
        mad = median(abs(v - centre) for v in history)
        scale = max(1.4826 * mad, min_scale)
        z = (value - centre) / scale
        if z >= threshold:
            spikes.append(Spike(i, value, centre, round(z, 2)))
    return spikes


def bucket_size(since: datetime, until: datetime) -> str:
    """Hourly buckets up to three days, daily up to half a year, weekly
    beyond (a chart of thousands of bars says nothing)."""
    span = until - since
    if span <= timedelta(days=3):
        return "hour"
    return "day" if span <= timedelta(days=183) else "week"


_STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}


def _floor(local: datetime, size: str) -> datetime:
    if size == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    # Weeks start on Monday (ISO 8601).
    return day - timedelta(days=day.weekday()) if size == "week" else day


def bucket_starts(since: datetime, until: datetime, tz: ZoneInfo, size: str) -> list[datetime]:
    """Local bucket starts covering ``[since, until)`` (wall-clock steps, so a
    day is a calendar day across DST changes)."""
    step = _STEPS[size]
    current = _floor(since.astimezone(tz), size).replace(tzinfo=None)
    end = until.astimezone(tz).replace(tzinfo=None)
    starts: list[datetime] = []
    while current < end:
        starts.append(current.replace(tzinfo=tz))
        current += step
    return starts


def volume_series(
    times: Sequence[datetime],
    negatives: Sequence[bool],
    since: datetime,
    until: datetime,
    tz: ZoneInfo,
    *,
    min_bucket_for_share: int = 5,
) -> dict[str, object]:
    """Mentions per bucket, negative share per bucket, and spikes of both."""
    size = bucket_size(since, until)
    starts = bucket_starts(since, until, tz, size)
    index = {start.replace(tzinfo=None): i for i, start in enumerate(starts)}
    counts = [0] * len(starts)
    negative = [0] * len(starts)
    for at, is_negative in zip(times, negatives, strict=True):
        key = _floor(at.astimezone(tz), size).replace(tzinfo=None)
        i = index.get(key)
        if i is not None:
            counts[i] += 1
            negative[i] += int(is_negative)
    shares: list[float | None] = [
        (neg / n if n >= min_bucket_for_share else None)
        for n, neg in zip(counts, negative, strict=True)
    ]
    # Volume: at least 5 mentions, so 0 → 2 on a quiet brand is not an alert.
    volume_spikes = robust_spikes(counts, min_value=5)
    share_spikes = robust_spikes(shares, min_scale=0.05)
    return {
        "bucket": size,
        "series": [
            {
                "start": start.isoformat(),
                "mentions": n,
                "negative": neg,
            }
            for start, n, neg in zip(starts, counts, negative, strict=True)
        ],
        "spikes": [
            {
                "kind": "volume",
                "start": starts[s.index].isoformat(),
                "value": s.value,
                "baseline": s.baseline,
                "z": s.z,
            }
            for s in volume_spikes
        ]
        + [
            {
                "kind": "negative_share",
                "start": starts[s.index].isoformat(),
                "value": round(s.value, 4),
                "baseline": round(s.baseline, 4),
                "z": s.z,
            }
            for s in share_spikes
        ],
    }


def by_hour_and_weekday(times: Sequence[datetime], tz: ZoneInfo) -> tuple[list[int], list[int]]:
    hours = [0] * 24
    days = [0] * 7
    for at in times:
        local = at.astimezone(tz)
        hours[local.hour] += 1
        days[local.weekday()] += 1
    return hours, days

"""What a report is about (a query, a saved query or a group), over which
period, and loading the matching posts ("mentions") from the store.

Period rules (documented in docs/listening.md):

- ``until`` is "now" for every windowed figure (strength's 24 hours, spikes):
  a report on old data with ``--until`` in the past has real numbers.
- A report with neither ``since`` nor ``until`` covers every matching post
  (window ``all``): from the oldest to just after the newest, so its 24-hour
  figures are anchored at the newest matching post. With one bound given, the
  other is the oldest / newest matching post (``since`` / ``until`` windows);
  with both, the window is ``custom``.
- Without a selection (the dashboard's "last N days"), the default ``until``
  is now, or just after the workspace's newest post when that is older.
- A bare date (``2024-05-01``) is midnight in the workspace's time zone; a full
  ISO timestamp without an offset is in the workspace's time zone too; one with
  an offset or ``Z`` is taken as it says. ``since`` is inclusive, ``until``
  exclusive (like the query language's ``since:``/``until:``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hubbub.listen.saved import SavedQueryError, get_query, list_queries
from hubbub.query import ast
from hubbub.query.parser import parse
from hubbub.query.tokens import tokenize
from hubbub.store import Store
from hubbub.store.reports import PostFilter, ReportData
from hubbub.store.scope import scope

DEFAULT_DAYS = 7
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class PeriodError(ValueError):
    """A date or period a report cannot use."""


@dataclass(frozen=True, slots=True)
class Selection:
    """What is reported on: ``kind`` is ``query``, ``saved`` or ``group``.
    A saved query's name and a group are stripped, as ``add_query`` stores
    them: asked for padded (a shell, a URL), they name the same one."""

    kind: str
    value: str

    def __post_init__(self) -> None:
        if self.kind in ("saved", "group"):
            object.__setattr__(self, "value", self.value.strip())

    @property
    def label(self) -> str:
        return {"query": "query", "saved": "saved query", "group": "group"}[
            self.kind
        ] + f" {self.value}"


@dataclass(frozen=True, slots=True)
class Period:
    since: datetime  # inclusive, aware UTC
    until: datetime  # exclusive, aware UTC; "now" for windowed figures
    timezone: str
    # Which bounds the user gave: "all" (none), "since", "until" or "custom" (both).
    window: str = "custom"


def report_data(store: Store, workspace: str) -> ReportData:
    """What reports read of ``workspace`` (created on first use, as the CLI does)."""
    return ReportData(scope(store, workspace))


def workspace_timezone(store: Store, workspace: str) -> ZoneInfo:
    name = report_data(store, workspace).timezone()
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        # A bad setting must not break every report; UTC is what it defaults to.
        return ZoneInfo("UTC")


def parse_when(value: str, tz: ZoneInfo) -> datetime:
    """A date or ISO timestamp (see the module doc) as aware UTC."""
    text = value.strip()
    if text.lower() == "now":
        return datetime.now(UTC)
    try:
        if _DATE_RE.fullmatch(text):
            parsed = datetime.strptime(text, "%Y-%m-%d")
        else:
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
            parsed = datetime.fromisoformat(text)
    except ValueError:
        raise PeriodError(
            f"not a date: {value!r} (use YYYY-MM-DD or an ISO timestamp such as 2024-05-01T12:00)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return _in_calendar(parsed, value)


# Report periods stay well inside datetime's range: moving 9999-12-31 to UTC or
# laying out its weekly buckets would overflow (a 500, a traceback).
_FIRST_YEAR, _LAST_YEAR = 1900, 2999


def _in_calendar(when: datetime, value: str) -> datetime:
    """``when`` as aware UTC, or PeriodError when its year is out of range."""
    try:
        utc = when.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not _FIRST_YEAR <= utc.year <= _LAST_YEAR:
        raise PeriodError(
            f"date out of range: {value!r} (use a year from {_FIRST_YEAR} to {_LAST_YEAR})"
        )
    return utc


def newest_post_time(store: Store, workspace: str) -> datetime | None:
    return report_data(store, workspace).newest_post_time()


def matching_bounds(
    store: Store, workspace: str, condition: PostFilter
) -> tuple[datetime, datetime] | None:
    """Creation times of the oldest and newest live posts matching ``condition``."""
    oldest, newest = report_data(store, workspace).bounds(condition)
    if oldest is None or newest is None:
        return None
    return _aware(oldest), _aware(newest)


def _aware(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def resolve_period(
    store: Store,
    workspace: str,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    *,
    now: datetime | None = None,
    condition: PostFilter | None = None,
) -> Period:
    """The report's period; with ``condition`` (the selection), missing bounds come
    from the matching posts themselves (see the module doc)."""
    tz = workspace_timezone(store, workspace)
    window = {(False, False): "all", (True, False): "since", (False, True): "until"}.get(
        (since is not None, until is not None), "custom"
    )
    bounds = (
        matching_bounds(store, workspace, condition)
        if condition is not None and window != "custom"
        else None
    )
    if isinstance(until, str):
        end = parse_when(until, tz)
    elif until is not None:
        end = _aware(until)
    elif bounds is not None:
        end = bounds[1] + timedelta(microseconds=1)
    else:
        end = now or datetime.now(UTC)
        newest = newest_post_time(store, workspace)
        if newest is not None and _aware(newest) < end:
            end = _aware(newest) + timedelta(microseconds=1)
    if isinstance(since, str):
        start = parse_when(since, tz)
    elif since is not None:
        start = _aware(since)
    elif bounds is not None and bounds[0] < end:
        start = bounds[0]
    else:
        start = end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        if window == "since" and bounds is not None:
            # Nothing matches after --since: an empty report, not an error.
            end = start + timedelta(microseconds=1)
        else:
            raise PeriodError("--since must be before --until")
    return Period(start, end, tz.key, window)


def selection_condition(store: Store, workspace: str, selection: Selection) -> PostFilter:
    """An SQL condition on ``posts`` for the selection. Saved queries and
    groups read the stored matches (stored when posts arrive: the pipeline
    and ``hubbub import`` match them; a read never does)."""
    data = report_data(store, workspace)
    if selection.kind == "query":
        return data.query_filter(parse(selection.value))
    if selection.kind == "saved":
        saved = get_query(store, selection.value, workspace=workspace)
        if saved is None:
            raise SavedQueryError(f"no saved query named {selection.value!r}")
        return data.saved_filter(saved.id)
    if selection.kind == "group":
        if not list_queries(store, workspace=workspace, group=selection.value):
            raise SavedQueryError(f"no saved queries in group {selection.value!r}")
        return data.group_filter(selection.value)
    raise ValueError(f"unknown selection kind {selection.kind!r}")


def selection_nodes(store: Store, workspace: str, selection: Selection) -> list[ast.Node]:
    """The parsed queries behind a selection (for excluding their own terms)."""
    if selection.kind == "query":
        return [parse(selection.value)]
    if selection.kind == "saved":
        saved = get_query(store, selection.value, workspace=workspace)
        return [saved.node] if saved else []
    return [s.node for s in list_queries(store, workspace=workspace, group=selection.value)]


def query_words(nodes: list[ast.Node]) -> set[str]:
    """Every word a query searches for, as text tokens: its terms, phrases,
    and the words of its hashtags and handles (``#Acme`` is the word acme)."""
    words: set[str] = set()
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Term):
                words.add(sub.token)
            elif isinstance(sub, ast.Phrase):
                words.update(sub.tokens)
            elif isinstance(sub, ast.Hashtag):
                words.update(tokenize(sub.tag))
            elif isinstance(sub, ast.Mention | ast.From):
                words.update(tokenize(sub.handle))
    return words


def load_mentions(
    store: Store,
    workspace: str,
    condition: PostFilter,
    since: datetime,
    until: datetime,
) -> list[dict[str, Any]]:
    """The matching live posts created in ``[since, until)``, oldest first."""
    return report_data(store, workspace).mentions(condition, since, until)


def count_posts(
    store: Store,
    workspace: str,
    since: datetime,
    until: datetime,
    condition: PostFilter | None = None,
) -> int:
    """Live posts of the workspace in ``[since, until)`` (matching ``condition``)."""
    return report_data(store, workspace).count(since, until, condition)


__all__ = [
    "DEFAULT_DAYS",
    "Period",
    "PeriodError",
    "PostFilter",
    "Selection",
    "count_posts",
    "load_mentions",
    "matching_bounds",
    "newest_post_time",
    "parse_when",
    "query_words",
    "report_data",
    "resolve_period",
    "selection_condition",
    "selection_nodes",
    "workspace_timezone",
]

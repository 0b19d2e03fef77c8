"""Response-time figures against an independent count.

Five cases in Europe/Warsaw business hours (Mon-Fri 09:00-17:00) around
the weekend of 24-25 October 2026, when Poland leaves summer time (Sunday
03:00 CEST becomes 02:00 CET). The expected business minutes are counted
here minute by minute, by asking for every UTC minute of an interval what
the local weekday and time were: nothing in it shares code with
``hubbub.inbox.hours``. Wall-clock hours are plain UTC differences.
"""

from __future__ import annotations

import csv
import io
import math
import secrets
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hubbub.inbox.build import build_cases
from hubbub.inbox.hours import business_minutes
from hubbub.inbox.model import Hours, Priority, Status
from hubbub.inbox.report import build_report
from hubbub.inbox.report_render import to_csv, to_html
from hubbub.inbox.service import Inbox
from hubbub.networks.secrets import SecretBox
from hubbub.store import Store
from hubbub.store.inbox_repo_reply import ReplyRepo
from hubbub.store.scope import scope
from tests.inbox.helpers import OPERATOR, connect, ingest, post, reply_sent_at

WARSAW = ZoneInfo("Europe/Warsaw")
HOURS = Hours(timezone="Europe/Warsaw", days=(0, 1, 2, 3, 4), start_minute=540, end_minute=1020)
ODD = "=bob()"  # an agent name a spreadsheet would run as a formula


def local(day: int, hh: int, mm: int = 0) -> datetime:
    """A wall-clock time in Warsaw, October 2026, as aware UTC."""
    return datetime(2026, 10, day, hh, mm, tzinfo=WARSAW).astimezone(UTC)


def counted_minutes(start: datetime, end: datetime) -> int:
    """Business minutes of [start, end), one UTC minute at a time."""
    minutes = 0
    t = start
    while t < end:
        here = t.astimezone(WARSAW)
        if here.weekday() < 5 and 9 * 60 <= here.hour * 60 + here.minute < 17 * 60:
            minutes += 1
        t += timedelta(minutes=1)
    return minutes


def median(values: list[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


# (author, opened, first response (who, when), resolution (who, when) or None, priority)
CASES = [
    ("c1", local(23, 16), ("ann", local(26, 10, 30)), ("ann", local(27, 9, 15)), "normal"),
    ("c2", local(24, 12), (ODD, local(26, 9, 5)), ("ann", local(26, 16)), "normal"),
    # 01:30 UTC on the Sunday: 02:30 CET, just after the clocks went back.
    ("c3", datetime(2026, 10, 25, 1, 30, tzinfo=UTC), ("ann", local(26, 9, 45)), None, "normal"),
    ("c4", local(22, 8), (ODD, local(22, 17, 30)), (ODD, local(26, 12)), "normal"),
    ("c5", local(26, 11), ("ann", local(26, 11, 20)), ("ann", local(26, 11, 50)), "urgent"),
]
TARGETS = {"normal": (60, 480), "urgent": (15, 60)}
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def test_the_independent_count_itself() -> None:
    # Friday 16:00 CEST to Monday 10:30 CET: one hour on Friday, 90 minutes
    # on Monday; 67.5 wall-clock hours because the night was an hour longer.
    assert counted_minutes(local(23, 16), local(26, 10, 30)) == 150
    assert (local(26, 10, 30) - local(23, 16)) == timedelta(hours=67, minutes=30)
    assert counted_minutes(local(22, 8), local(26, 12)) == 480 + 480 + 180


def test_business_minutes_equal_the_minute_by_minute_count() -> None:
    edges = [
        local(d, h, m) for d in (22, 23, 24, 25, 26, 27) for h, m in ((3, 7), (9, 0), (16, 59))
    ]
    edges.append(datetime(2026, 10, 25, 0, 59, tzinfo=UTC))  # the repeated hour
    edges.append(datetime(2026, 10, 25, 1, 1, tzinfo=UTC))
    for start in edges:
        for end in edges:
            if end > start:
                assert business_minutes(start, end, HOURS) == counted_minutes(start, end), (
                    start,
                    end,
                )


@pytest.fixture
def inbox(store: Store) -> Inbox:
    connect(store, SecretBox(secrets.token_bytes(32)))
    return Inbox(scope(store, "default"))


def test_report_figures_equal_an_independent_count(inbox: Inbox, store: Store) -> None:
    inbox.set_hours(OPERATOR, HOURS)
    for priority, (first, resolution) in TARGETS.items():
        inbox.set_target(
            OPERATOR, priority, first_response_minutes=first, resolution_minutes=resolution
        )
    for n, (author, opened, _fr, _res, _p) in enumerate(CASES):
        p = post("x", f"90{n}", author, f"@acme my order {n} arrived broken and nobody answers")
        p.created_at = opened
        p.mentions = ("acme",)
        ingest(store, p)
        # Seen as it was written (a live source): the case is timed.
        build_cases(inbox.scope, now=opened)
    ids = {c.author: c.id for c in inbox.list_cases(OPERATOR)}
    assert set(ids) == {c[0] for c in CASES}
    repo = ReplyRepo(inbox.scope)
    for n, (author, _opened, (who, answered), resolved, priority) in enumerate(CASES):
        case_id = ids[author]
        if priority != "normal":
            repo.set_priority(case_id, Priority(priority), "ann", answered)
        target = repo.reply_target(case_id, who, answered)
        reserved = repo.reserve_reply(
            case_id, f"report-key-{n:04d}", "Sorry!", who, answered, target, "xacct"
        )
        reply_sent_at(repo, reserved, f"report-key-{n:04d}", answered)
        if resolved is not None:
            repo.set_status(case_id, Status.RESOLVED, None, resolved[0], resolved[1])

    report = build_report(repo, local(20, 0), local(28, 0), NOW)

    def hours_of(pairs: list[tuple[datetime, datetime]]) -> tuple[list[float], list[float]]:
        business = [counted_minutes(a, b) / 60 for a, b in pairs]
        wall = [(b - a).total_seconds() / 3600 for a, b in pairs]
        return business, wall

    def check(row, fr_pairs, res_pairs, handled, fr_breaches, res_breaches) -> None:  # noqa: ANN001
        assert row.cases_handled == handled
        for figures_b, figures_w, pairs in (
            (row.first_response_business, row.first_response_wall, fr_pairs),
            (row.resolution_business, row.resolution_wall, res_pairs),
        ):
            business, wall = hours_of(pairs)
            for figures, values in ((figures_b, business), (figures_w, wall)):
                assert figures.count == len(values)
                assert figures.median == pytest.approx(median(values))
                assert figures.mean == pytest.approx(sum(values) / len(values))
                assert figures.p90 == pytest.approx(p90(values))
                assert figures.fastest == pytest.approx(min(values))
                assert figures.slowest == pytest.approx(max(values))
        assert (row.first_response_breaches, row.resolution_breaches) == (
            fr_breaches,
            res_breaches,
        )

    def fr(author: str) -> tuple[datetime, datetime]:
        case = next(c for c in CASES if c[0] == author)
        return case[1], case[2][1]

    def res(author: str) -> tuple[datetime, datetime]:
        case = next(c for c in CASES if c[0] == author)
        assert case[3] is not None
        return case[1], case[3][1]

    def breached(author: str, which: int) -> int:
        case = next(c for c in CASES if c[0] == author)
        start, end = (fr if which == 0 else res)(author)
        return int(counted_minutes(start, end) > TARGETS[case[4]][which])

    everyone = [c[0] for c in CASES]
    resolved = [c[0] for c in CASES if c[3] is not None]
    # c3 is open and long past its resolution target: a team breach, nobody's.
    open_breach = int(counted_minutes(CASES[2][1], NOW) > TARGETS["normal"][1])
    assert open_breach == 1
    check(
        report.team,
        [fr(a) for a in everyone],
        [res(a) for a in resolved],
        5,
        sum(breached(a, 0) for a in everyone),
        sum(breached(a, 1) for a in resolved) + open_breach,
    )
    agents = {row.who: row for row in report.agents}
    assert set(agents) == {"ann", ODD}
    check(
        agents["ann"],
        [fr(a) for a in ("c1", "c3", "c5")],
        [res(a) for a in ("c1", "c2", "c5")],
        4,
        sum(breached(a, 0) for a in ("c1", "c3", "c5")),
        sum(breached(a, 1) for a in ("c1", "c2", "c5")),
    )
    check(
        agents[ODD],
        [fr(a) for a in ("c2", "c4")],
        [res("c4")],
        2,
        breached("c2", 0) + breached("c4", 0),
        breached("c4", 1),
    )
    assert report.cases == 5

    # A period that starts after every case opened counts nothing.
    assert build_report(repo, local(28, 0), None, NOW).cases == 0

    rows = list(csv.reader(io.StringIO(to_csv(report))))
    assert rows[0][:4] == ["who", "cases_handled", "measure", "clock"]
    whos = {r[0] for r in rows[1:]}
    assert whos == {"team", "ann", "'" + ODD}  # the formula is text in a spreadsheet
    page = to_html(report)
    assert "<script" not in page and "=bob()" in page
